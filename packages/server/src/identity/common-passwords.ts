/**
 * Passwords that attackers try first, lower-cased, for the blocklist of NIST SP 800-63B §5.1.1.2:
 * the most common entries of public breach corpora, keyboard walks, digit runs, names, teams,
 * "Season2024!"-style rotations and service defaults. Entries shorter than 8 characters are left
 * out, because the length rule already refuses them.
 *
 * One template string split at load time keeps the file small and easy to extend.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `
password password1 password12 password123 password1234 password12345 password123456 passw0rd
passw0rd1 p@ssw0rd p@ssw0rd1 p@ssw0rd! p@ssword p@ssword1 p@ssword123 pa$$word pa$$w0rd pa55word
pa55w0rd passwort passwort1 password! password1! password123! password@123 password@1 password01
password02 password11 password99 password69 passwordpassword mypassword mypassword1 mypassword123
newpassword newpassword1 oldpassword secretpassword thepassword yourpassword nopassword
changepassword resetpassword temppassword temporarypassword 12345678 123456789 1234567890
12345678910 0123456789 01234567 987654321 9876543210 87654321 98765432 11111111 111111111 1111111111
00000000 000000000 0000000000 22222222 33333333 44444444 55555555 66666666 77777777 88888888
99999999 12341234 12121212 11223344 11112222 12344321 12345679 123454321 123123123 123321123
123456123 123456654321 1234512345 123456123456 12qwaszx 13131313 14141414 69696969 10203040
1020304050 102030405060 11235813 31415926 314159265 147258369 159357456 159753456 741852963
789456123 963852741 258456789 123698745 147852369 159357159 123654789 789654123 321654987 12369874
1234567a 12345678a 123456789a a1234567 a12345678 a123456789 1234567q 123456789q q1234567 q12345678
1234qwer qwer1234 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u 1qaz2wsx 1qaz2wsx3edc 1qazxsw2
zaq12wsx zaq1zaq1 zaq1xsw2 zaq!2wsx !qaz2wsx !qaz@wsx 1qaz@wsx qazwsxedc qazwsxedcrfv qazwsx123
qazxswedc q1w2e3r4 q1w2e3r4t5 q1w2e3r4t5y6 qweasdzxc qweasd123 qwe123qwe 123qweasd 123qweasdzxc
qweqweqwe qwertyuiop qwertyui qwertyu1 qwerty12 qwerty123 qwerty1234 qwerty12345 qwerty123456
qwerty123! qwerty1! qwerty@123 qwertyqwerty qwertyuiop123 qwertyuiop1 qwertzuiop qwertz123
azertyuiop azerty123 azertyui asdfghjkl asdfghjk asdfasdf asdf1234 asdf123456 asdfjkl; asdasdasd
asd123456 asdqwe123 zxcvbnm1 zxcvbnm123 zxcvbnmm zxc123456 zxcasdqwe zxcvasdf poiuytrewq mnbvcxz1
lkjhgfdsa 0987654321 09876543 1234abcd abcd1234 abc12345 abc123456 abc1234567 abcdefgh abcdefg1
abcdefghi abcdefghij a1b2c3d4 a1b2c3d4e5 aaaaaaaa aaaaaaaaa aaaaaaaaaa abcabcabc qqqqqqqq xxxxxxxx
zzzzzzzz 1a2b3c4d aa123456 aa12345678 iloveyou iloveyou1 iloveyou2 iloveyou! iloveyou12 iloveyou123
iloveu123 ilovehim iloveher ilovemom ilovemyself ilovegod ilovejesus ilovemusic iloveyouso loveyou1
loveyou2 loveyou123 lovelove lovelove1 lovely12 lovely123 loveme12 loveme123 mylove12 mylove123
sweetheart sweetie1 sweetpea lovebug1 lovers12 letmein1 letmein123 letmein! letmein2 letmeinnow
trustno1 trustno12 trustnoone sunshine sunshine1 sunshine12 sunshine123 princess princess1
princess12 princess123 football football1 football12 football123 baseball baseball1 baseball12
basketball basketball1 softball volleyball superman superman1 superman123 batman123 batman12
batman01 spiderman spiderman1 ironman1 starwars starwars1 whatever whatever1 computer computer1
computer123 corvette mercedes mercedes1 ferrari1 internet internet1 welcome1 welcome12 welcome123
welcome! welcome1! welcome@123 welcome01 welcome2 welcometo changeme changeme1 changeme123 changeme!
changemenow changeit changethis administrator administrator1 admin123 admin1234 admin12345 admin@123
admin123! admin!23 adminadmin administrador adminpass adminpassword admin2024 superadmin root1234
root12345 rootroot toor1234 rootpass default1 default123 defaultpassword guest123 guestguest
test1234 test12345 test123456 testtest testing1 testing123 tester123 testpass testpassword testuser
secret123 secret12 secret1234 mysecret topsecret supersecret secretpass mypass123 pass1234 pass12345
pass123456 pass@123 pass@word passpass passcode passkey1 letmein123! michelle jennifer danielle
victoria samantha alexander alexandra christopher christine elizabeth jonathan benjamin patricia
stephanie kimberly caroline isabella nicholas courtney brittany veronica katherine christina
cristina mitchell maverick virginia margaret kristina gabriela fernando alejandro francisco santiago
leonardo sebastian valentina gabriel1 anthony1 jessica1 jessica12 michael1 michael12 michael123
charlie1 charlie12 charlie123 jordan23 jordan123 thomas123 andrew123 daniel123 ashley123 hunter123
robert123 matthew1 matthew123 richard1 william1 william123 jackson1 madison1 jennifer1 danielle1
victoria1 samantha1 chelsea1 heather1 amanda123 melissa1 nicole123 natasha1 natalie1 tiffany1
crystal1 brandon1 brandon123 justin123 taylor123 austin123 joshua123 chocolate chocolate1 butterfly
butterfly1 sunflower flower123 cookie123 cookies1 cupcake1 cheese123 pepper123 ginger123 dragon12
dragon123 dragonball dragonfly monkey12 monkey123 monkey1234 shadow12 shadow123 master12 master123
mustang1 mustang123 pokemon1 pokemon123 naruto12 naruto123 blink182 metallica slipknot nirvana1
eminem12 linkinpark greenday michaeljackson beatles1 rockstar rockstar1 rocknroll hello123 hello1234
hello12345 helloworld hellokitty hellothere hello123! hithere1 goodbye1 killer123 killer12 hacker123
hacking1 anonymous anonymous1 nothing1 nobody12 someone1 somebody babygirl babygirl1 babyboy1
angel123 angelina angelface angels12 ladybug1 kitty123 kittycat pussycat doggy123 puppylove puppy123
snoopy12 tigger12 tigger123 pooh1234 winnie123 mickeymouse minnie12 garfield scoobydoo spongebob
spongebob1 simpsons bartsimpson homersimpson southpark family12 family123 friends1 friends123
friendship bestfriend bestfriend1 forever1 forever21 together jesus123 jesuschrist jesus1234
blessed1 blessing godisgood godislove heaven12 praise123 faithful christian christ123 salvation
hallelujah trinity1 money123 moneymoney makemoney dollars1 millionaire lucky123 happy123 happiness
happyday smile123 smiley12 sunshine! rainbow1 rainbow123 rainbows skittles starlight stargate
moonlight midnight midnight1 darkness darkside twilight thunder1 lightning whitney1 diamond1
diamonds platinum silver12 golden12 goldfish redwings redsox04 bluebird blueberry strawberry
pineapple watermelon raspberry cherry12 banana12 banana123 apple123 orange12 orange123 purple12
purple123 chicken1 chicken123 turtle12 elephant dolphin1 dolphins panther1 panthers tigers12
lionking wolfpack eagles12 falcon12 phoenix1 phoenix123 warrior1 warriors gladiator spartan1
samurai1 ninja123 pirate12 vampire1 zombie12 monster1 monster123 freedom1 freedom123 liberty1
america1 america123 patriot1 usarmy12 semperfi marine12 airforce military soldier1 liverpool
liverpool1 chelsea123 arsenal1 arsenal123 manchester manunited manutd99 barcelona barcelona1
realmadrid juventus1 tottenham newcastle everton1 celtic1888 rangers1 galatasaray fenerbahce
bayern123 borussia yankees1 yankees123 redsox12 cowboys1 cowboys123 steelers steelers1 patriots
patriots1 redskins redskins1 packers1 broncos1 raiders1 49ers123 seahawks chargers vikings1 giants12
jets1234 lakers24 lakers123 celtics1 chicagobulls bulls123 michaeljordan lebronjames mets1986
dodgers1 cubs2016 braves12 astros12 canucks1 hockey12 hockey123 soccer12 soccer123 tennis12 golfer12
runner12 cricket1 rugby123 skateboard snowboard surfing1 newyork1 newyork123 california texas123
florida1 chicago1 losangeles london12 london123 paris123 berlin12 moscow12 toronto1 montreal
sydney12 melbourne australia canada12 germany1 deutschland francais portugal brasil12 argentina
colombia mexico12 philippines indonesia malaysia singapore pakistan bangladesh india123 india@123
nigeria1 jamaica1 scotland ireland1 england1 computer! laptop123 keyboard keyboard1 mouse123
monitor1 printer1 desktop1 notebook notebook1 windows1 windows7 windows10 windows11 microsoft
linux123 ubuntu123 debian123 redhat123 centos123 apple123! macintosh iphone12 iphone13 iphone14
iphone15 android1 samsung1 samsung123 google123 google12 facebook facebook1 instagram twitter1
linkedin youtube1 netflix1 spotify1 amazon123 yahoo123 hotmail1 gmail123 outlook1 myspace1 skype123
whatsapp telegram oracle123 cisco123 server123 server01 database sqlserver postgres postgres123
mysql123 mongodb1 backup123 support1 support123 service1 helpdesk helpdesk1 operator manager1
manager123 office123 company1 company123 business business1 corporate enterprise employee1
employee123 staff123 sales123 marketing finance1 account1 accounting letmein01 access123 access14
accessdenied security security1 firewall password@ password# password$ passw0rd! passw0rd123
p4ssw0rd p4ssword login123 logmein1 loginlogin userpass username username1 user1234 user12345
useruser student1 student123 teacher1 teacher123 school12 school123 college1 university education
summertime wintertime springtime halloween christmas christmas1 merrychristmas newyear1 valentine
birthday birthday1 happybirthday weekend1 saturday sunday12 monday12 tuesday1 friday13 jasmine1
jasmine123 princesa teamo123 tequiero tiamo123 amoremio tesoro12 mariposa contrasena contraseña
senha123 motdepasse parola123 passwort123 hasło123 salasana wachtwoord qwerty11 qwerty01 qwerty007
qwerty69 qwerty88 qwerty99 1qaz1qaz 2wsx3edc 3edc4rfv asdf;lkj zxcvbnm, 1234asdf asdfzxcv asdf4321
4321rewq 1q1q1q1q a1a1a1a1 1a1a1a1a q1q1q1q1 z1x2c3v4 11qq22ww 1122334455 112233445566 1234554321
12qw34er 123qwe123 123abc123 abc123abc abcd12345 987654321a 0987654321a letmein!! 1password
1passw0rd 123password password2 password3 password7 airlock1 airlock123 airlock2024 airlock2025
airlock! airlockadmin monkey123! monkey@123 monkey2024 dragon1234 dragon123! dragon@123 dragon2024
shadow1234 shadow123! shadow@123 shadow2024 master1234 master123! master@123 master2024 hunter12
hunter1234 hunter123! hunter@123 hunter2024 killer1234 killer123! killer@123 killer2024 soccer1234
soccer123! soccer@123 soccer2024 hockey1234 hockey123! hockey@123 hockey2024 ranger12 ranger123
ranger1234 ranger123! ranger@123 ranger2024 buster12 buster123 buster1234 buster123! buster@123
buster2024 tigger1234 tigger123! tigger@123 tigger2024 pepper12 pepper1234 pepper123! pepper@123
pepper2024 ginger12 ginger1234 ginger123! ginger@123 ginger2024 cheese12 cheese1234 cheese123!
cheese@123 cheese2024 orange1234 orange123! orange@123 orange2024 banana1234 banana123! banana@123
banana2024 purple1234 purple123! purple@123 purple2024 silver123 silver1234 silver123! silver@123
silver2024 golden123 golden1234 golden123! golden@123 golden2024 flower12 flower1234 flower123!
flower@123 flower2024 cookie12 cookie1234 cookie123! cookie@123 cookie2024 coffee12 coffee123
coffee1234 coffee123! coffee@123 coffee2024 letmein12 letmein1234 letmein@123 letmein2024 qwerty2024
angel1234 angel123! angel@123 angel2024 lover123 lover1234 lover123! lover@123 lover2024 hello@123
hello2024 secret123! secret@123 secret2024 freedom12 freedom1234 freedom! freedom123! freedom@123
freedom2024 thunder12 thunder123 thunder1234 thunder! thunder123! thunder@123 thunder2024 matrix12
matrix123 matrix1234 matrix123! matrix@123 matrix2024 access12 access1234 access123! access@123
access2024 google1234 google123! google@123 google2024 summer12 summer123 summer1234 summer123!
summer@123 summer2024 winter12 winter123 winter1234 winter123! winter@123 winter2024 spring12
spring123 spring1234 spring123! spring@123 spring2024 autumn12 autumn123 autumn1234 autumn123!
autumn@123 autumn2024 michael1234 michael! michael123! michael@123 michael2024 jessica123
jessica1234 jessica! jessica123! jessica@123 jessica2024 ashley12 ashley1234 ashley123! ashley@123
ashley2024 daniel12 daniel1234 daniel123! daniel@123 daniel2024 andrew12 andrew1234 andrew123!
andrew@123 andrew2024 joshua12 joshua1234 joshua123! joshua@123 joshua2024 thomas12 thomas1234
thomas123! thomas@123 thomas2024 robert12 robert1234 robert123! robert@123 robert2024 matthew12
matthew1234 matthew! matthew123! matthew@123 matthew2024 amanda12 amanda1234 amanda123! amanda@123
amanda2024 nicole12 nicole1234 nicole123! nicole@123 nicole2024 justin12 justin1234 justin123!
justin@123 justin2024 anthony12 anthony123 anthony1234 anthony! anthony123! anthony@123 anthony2024
william12 william1234 william! william123! william@123 william2024 charlie1234 charlie! charlie123!
charlie@123 charlie2024 george12 george123 george1234 george123! george@123 george2024 harley12
harley123 harley1234 harley123! harley@123 harley2024 maggie12 maggie123 maggie1234 maggie123!
maggie@123 maggie2024 bailey12 bailey123 bailey1234 bailey123! bailey@123 bailey2024 buddy123
buddy1234 buddy123! buddy@123 buddy2024 oliver12 oliver123 oliver1234 oliver123! oliver@123
oliver2024 sophie12 sophie123 sophie1234 sophie123! sophie@123 sophie2024 taylor12 taylor1234
taylor123! taylor@123 taylor2024 hannah12 hannah123 hannah1234 hannah123! hannah@123 hannah2024
brandon12 brandon1234 brandon! brandon123! brandon@123 brandon2024 austin12 austin1234 austin123!
austin@123 austin2024 tyler123 tyler1234 tyler123! tyler@123 tyler2024 jordan12 jordan1234
jordan123! jordan@123 jordan2024 jennifer12 jennifer123 jennifer1234 jennifer! jennifer123!
jennifer@123 jennifer2024 welcome1234 welcome123! welcome2024 login1234 login123! login@123
login2024 system12 system123 system1234 system123! system@123 system2024 server12 server1234
server123! server@123 server2024 office12 office1234 office123! office@123 office2024 sales1234
sales123! sales@123 sales2024 support12 support1234 support! support123! support@123 support2024
service12 service123 service1234 service! service123! service@123 service2024 company12 company1234
company! company123! company@123 company2024 family1234 family123! family@123 family2024 friend12
friend123 friend1234 friend123! friend@123 friend2024 jesus123! jesus@123 jesus2024 money1234
money123! money@123 money2024 lucky1234 lucky123! lucky@123 lucky2024 happy1234 happy123! happy@123
happy2024 smile1234 smile123! smile@123 smile2024 love1234 love123! love@123 love2024 baby1234
baby123! baby@123 baby2024 test123! test@123 test2024 pass123! pass2024 guest1234 guest123!
guest@123 guest2024 user123! user@123 user2024 root123! root@123 root2024 abc12312 abc123123
abc1231234 abc123123! abc123@123 abc1232024 qazwsx12 qazwsx1234 qazwsx123! qazwsx@123 qazwsx2024
asdfgh12 asdfgh123 asdfgh1234 asdfgh123! asdfgh@123 asdfgh2024 zxcvbn12 zxcvbn123 zxcvbn1234
zxcvbn123! zxcvbn@123 zxcvbn2024 iloveyou1234 iloveyou123! iloveyou@123 iloveyou2024 starwars12
starwars123 starwars1234 starwars! starwars123! starwars@123 starwars2024 pokemon12 pokemon1234
pokemon! pokemon123! pokemon@123 pokemon2024 naruto1234 naruto123! naruto@123 naruto2024 batman1234
batman123! batman@123 batman2024 superman12 superman1234 superman! superman123! superman@123
superman2024 football1234 football! football123! football@123 football2024 baseball123 baseball1234
baseball! baseball123! baseball@123 baseball2024 princess1234 princess! princess123! princess@123
princess2024 sunshine1234 sunshine123! sunshine@123 sunshine2024 chelsea12 chelsea1234 chelsea!
chelsea123! chelsea@123 chelsea2024 arsenal12 arsenal1234 arsenal! arsenal123! arsenal@123
arsenal2024 yankees12 yankees1234 yankees! yankees123! yankees@123 yankees2024 cowboys12 cowboys1234
cowboys! cowboys123! cowboys@123 cowboys2024 lakers12 lakers1234 lakers123! lakers@123 lakers2024
toyota12 toyota123 toyota1234 toyota123! toyota@123 toyota2024 honda123 honda1234 honda123!
honda@123 honda2024 nissan12 nissan123 nissan1234 nissan123! nissan@123 nissan2024 audi1234 audi123!
audi@123 audi2024 porsche1 porsche12 porsche123 porsche1234 porsche! porsche123! porsche@123
porsche2024 jaguar12 jaguar123 jaguar1234 jaguar123! jaguar@123 jaguar2024 ford1234 ford123!
ford@123 ford2024 chevy123 chevy1234 chevy123! chevy@123 chevy2024 yamaha12 yamaha123 yamaha1234
yamaha123! yamaha@123 yamaha2024 spring2015 spring2015! spring@2015 spring15! spring2016 spring2016!
spring@2016 spring16! spring2017 spring2017! spring@2017 spring17! spring2018 spring2018!
spring@2018 spring18! spring2019 spring2019! spring@2019 spring19! spring2020 spring2020!
spring@2020 spring20! spring2021 spring2021! spring@2021 spring21! spring2022 spring2022!
spring@2022 spring22! spring2023 spring2023! spring@2023 spring23! spring2024! spring@2024 spring24!
spring2025 spring2025! spring@2025 spring25! spring2026 spring2026! spring@2026 spring26! spring2027
spring2027! spring@2027 spring27! spring2028 spring2028! spring@2028 spring28! spring2029
spring2029! spring@2029 spring29! spring2030 spring2030! spring@2030 spring30! summer2015
summer2015! summer@2015 summer15! summer2016 summer2016! summer@2016 summer16! summer2017
summer2017! summer@2017 summer17! summer2018 summer2018! summer@2018 summer18! summer2019
summer2019! summer@2019 summer19! summer2020 summer2020! summer@2020 summer20! summer2021
summer2021! summer@2021 summer21! summer2022 summer2022! summer@2022 summer22! summer2023
summer2023! summer@2023 summer23! summer2024! summer@2024 summer24! summer2025 summer2025!
summer@2025 summer25! summer2026 summer2026! summer@2026 summer26! summer2027 summer2027!
summer@2027 summer27! summer2028 summer2028! summer@2028 summer28! summer2029 summer2029!
summer@2029 summer29! summer2030 summer2030! summer@2030 summer30! autumn2015 autumn2015!
autumn@2015 autumn15! autumn2016 autumn2016! autumn@2016 autumn16! autumn2017 autumn2017!
autumn@2017 autumn17! autumn2018 autumn2018! autumn@2018 autumn18! autumn2019 autumn2019!
autumn@2019 autumn19! autumn2020 autumn2020! autumn@2020 autumn20! autumn2021 autumn2021!
autumn@2021 autumn21! autumn2022 autumn2022! autumn@2022 autumn22! autumn2023 autumn2023!
autumn@2023 autumn23! autumn2024! autumn@2024 autumn24! autumn2025 autumn2025! autumn@2025 autumn25!
autumn2026 autumn2026! autumn@2026 autumn26! autumn2027 autumn2027! autumn@2027 autumn27! autumn2028
autumn2028! autumn@2028 autumn28! autumn2029 autumn2029! autumn@2029 autumn29! autumn2030
autumn2030! autumn@2030 autumn30! fall2015 fall2015! fall@2015 fall2016 fall2016! fall@2016 fall2017
fall2017! fall@2017 fall2018 fall2018! fall@2018 fall2019 fall2019! fall@2019 fall2020 fall2020!
fall@2020 fall2021 fall2021! fall@2021 fall2022 fall2022! fall@2022 fall2023 fall2023! fall@2023
fall2024 fall2024! fall@2024 fall2025 fall2025! fall@2025 fall2026 fall2026! fall@2026 fall2027
fall2027! fall@2027 fall2028 fall2028! fall@2028 fall2029 fall2029! fall@2029 fall2030 fall2030!
fall@2030 winter2015 winter2015! winter@2015 winter15! winter2016 winter2016! winter@2016 winter16!
winter2017 winter2017! winter@2017 winter17! winter2018 winter2018! winter@2018 winter18! winter2019
winter2019! winter@2019 winter19! winter2020 winter2020! winter@2020 winter20! winter2021
winter2021! winter@2021 winter21! winter2022 winter2022! winter@2022 winter22! winter2023
winter2023! winter@2023 winter23! winter2024! winter@2024 winter24! winter2025 winter2025!
winter@2025 winter25! winter2026 winter2026! winter@2026 winter26! winter2027 winter2027!
winter@2027 winter27! winter2028 winter2028! winter@2028 winter28! winter2029 winter2029!
winter@2029 winter29! winter2030 winter2030! winter@2030 winter30! january2022 january2022!
january2023 january2023! january2024 january2024! january2025 january2025! january2026 january2026!
february2022 february2022! february2023 february2023! february2024 february2024! february2025
february2025! february2026 february2026! march2022 march2022! march2023 march2023! march2024
march2024! march2025 march2025! march2026 march2026! april2022 april2022! april2023 april2023!
april2024 april2024! april2025 april2025! april2026 april2026! may2022! may2023! may2024! may2025!
may2026! june2022 june2022! june2023 june2023! june2024 june2024! june2025 june2025! june2026
june2026! july2022 july2022! july2023 july2023! july2024 july2024! july2025 july2025! july2026
july2026! august2022 august2022! august2023 august2023! august2024 august2024! august2025
august2025! august2026 august2026! september2022 september2022! september2023 september2023!
september2024 september2024! september2025 september2025! september2026 september2026! october2022
october2022! october2023 october2023! october2024 october2024! october2025 october2025! october2026
october2026! november2022 november2022! november2023 november2023! november2024 november2024!
november2025 november2025! november2026 november2026! december2022 december2022! december2023
december2023! december2024 december2024! december2025 december2025! december2026 december2026!
password2018 password2018! password2019 password2019! password2020 password2020! password2021
password2021! password2022 password2022! password2023 password2023! password2024 password2024!
password2025 password2025! password2026 password2026! password2027 password2027! password2028
password2028! password2029 password2029! password2030 password2030! welcome2018 welcome2018!
welcome2019 welcome2019! welcome2020 welcome2020! welcome2021 welcome2021! welcome2022 welcome2022!
welcome2023 welcome2023! welcome2024! welcome2025 welcome2025! welcome2026 welcome2026! welcome2027
welcome2027! welcome2028 welcome2028! welcome2029 welcome2029! welcome2030 welcome2030! company2018
company2018! company2019 company2019! company2020 company2020! company2021 company2021! company2022
company2022! company2023 company2023! company2024! company2025 company2025! company2026 company2026!
company2027 company2027! company2028 company2028! company2029 company2029! company2030 company2030!
letmein2018 letmein2018! letmein2019 letmein2019! letmein2020 letmein2020! letmein2021 letmein2021!
letmein2022 letmein2022! letmein2023 letmein2023! letmein2024! letmein2025 letmein2025! letmein2026
letmein2026! letmein2027 letmein2027! letmein2028 letmein2028! letmein2029 letmein2029! letmein2030
letmein2030! qwerty2018 qwerty2018! qwerty2019 qwerty2019! qwerty2020 qwerty2020! qwerty2021
qwerty2021! qwerty2022 qwerty2022! qwerty2023 qwerty2023! qwerty2024! qwerty2025 qwerty2025!
qwerty2026 qwerty2026! qwerty2027 qwerty2027! qwerty2028 qwerty2028! qwerty2029 qwerty2029!
qwerty2030 qwerty2030! admin2018 admin2018! admin2019 admin2019! admin2020 admin2020! admin2021
admin2021! admin2022 admin2022! admin2023 admin2023! admin2024! admin2025 admin2025! admin2026
admin2026! admin2027 admin2027! admin2028 admin2028! admin2029 admin2029! admin2030 admin2030!
changeme2018 changeme2018! changeme2019 changeme2019! changeme2020 changeme2020! changeme2021
changeme2021! changeme2022 changeme2022! changeme2023 changeme2023! changeme2024 changeme2024!
changeme2025 changeme2025! changeme2026 changeme2026! changeme2027 changeme2027! changeme2028
changeme2028! changeme2029 changeme2029! changeme2030 changeme2030! secret2018 secret2018!
secret2019 secret2019! secret2020 secret2020! secret2021 secret2021! secret2022 secret2022!
secret2023 secret2023! secret2024! secret2025 secret2025! secret2026 secret2026! secret2027
secret2027! secret2028 secret2028! secret2029 secret2029! secret2030 secret2030! airlock2018
airlock2018! airlock2019 airlock2019! airlock2020 airlock2020! airlock2021 airlock2021! airlock2022
airlock2022! airlock2023 airlock2023! airlock2024! airlock2025! airlock2026 airlock2026! airlock2027
airlock2027! airlock2028 airlock2028! airlock2029 airlock2029! airlock2030 airlock2030! p@ssw0rd2018
p@ssw0rd2018! p@ssw0rd2019 p@ssw0rd2019! p@ssw0rd2020 p@ssw0rd2020! p@ssw0rd2021 p@ssw0rd2021!
p@ssw0rd2022 p@ssw0rd2022! p@ssw0rd2023 p@ssw0rd2023! p@ssw0rd2024 p@ssw0rd2024! p@ssw0rd2025
p@ssw0rd2025! p@ssw0rd2026 p@ssw0rd2026! p@ssw0rd2027 p@ssw0rd2027! p@ssw0rd2028 p@ssw0rd2028!
p@ssw0rd2029 p@ssw0rd2029! p@ssw0rd2030 p@ssw0rd2030! passw0rd2018 passw0rd2018! passw0rd2019
passw0rd2019! passw0rd2020 passw0rd2020! passw0rd2021 passw0rd2021! passw0rd2022 passw0rd2022!
passw0rd2023 passw0rd2023! passw0rd2024 passw0rd2024! passw0rd2025 passw0rd2025! passw0rd2026
passw0rd2026! passw0rd2027 passw0rd2027! passw0rd2028 passw0rd2028! passw0rd2029 passw0rd2029!
passw0rd2030 passw0rd2030!
`
    .trim()
    .split(/\s+/),
);
