/**
 * Session documents on both backends: publishing one (CreateDocument, versions, the default
 * version, GetDocument, DescribeDocument, ListDocuments, DeleteDocument), AWS's read-only ones,
 * content checks naming the field at fault, a custom document's command reaching the agent with
 * its parameters checked and substituted, a policy that allows only one custom document, Run As
 * from the preferences and the person's SSMSessionRunAs attribute, and the account's preferences
 * (SSM-SessionManagerRunShell) setting the idle timeout and maximum duration on a moved clock.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { documents, organizations, sessions, ssoAdmin, type InputOf } from '@airlock/protocol';
import { BACKENDS, createPerson, roleSession, signIn, SimulatedAgent, startTestServer, type TestServer } from '@airlock/testkit';

const RUN_SHELL = 'SSM-SessionManagerRunShell';
const AWS_NAMES = ['AWS-StartInteractiveCommand', 'AWS-StartNonInteractiveCommand', 'AWS-StartPortForwardingSession', 'AWS-StartPortForwardingSessionToRemoteHost', 'AWS-StartSSHSession'];

/** A Session document's content (schema 1.0) as JSON. */
const content = (document: object): string => JSON.stringify({ schemaVersion: '1.0', ...document });

/** The admin's document: `systemctl status` of one unit, nothing else. */
const systemctl = (commands: string): string =>
  content({
    description: 'systemctl status of one unit',
    sessionType: 'InteractiveCommands',
    parameters: { unit: { type: 'String', description: 'The unit.', default: 'nginx', allowedPattern: '^[a-z0-9@._-]{1,64}$' } },
    properties: { linux: { commands, runAsElevated: false } },
  });

const preferences = (inputs: object): string => content({ description: 'Session Manager preferences', sessionType: 'Standard_Stream', inputs });

/** What assert.rejects checks of an AirlockApiError. */
const refusal = (code: string, message?: RegExp) => ({ name: 'AirlockApiError', code, ...(message === undefined ? {} : { message }) });

for (const backend of BACKENDS) {
  describe(`session documents on ${backend}`, () => {
    let server: TestServer;
    let agent: SimulatedAgent;
    let account: string;
    let region: string;

    /** A person whose one permission set has these statements, in a role session. */
    async function personWith(name: string, statements: readonly object[], attributes?: Record<string, string>): Promise<AirlockClient> {
      const userId = await createPerson(server, name, attributes);
      const { PermissionSetArn } = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: name })).PermissionSet;
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn, InlinePolicy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn, PrincipalType: 'USER', PrincipalId: userId });
      return roleSession(server, await signIn(server, name), account, name);
    }

    /** Starts a session and returns what the agent was told to run; the session is then ended. */
    async function work(caller: AirlockClient, input: { DocumentName?: string; Parameters?: Record<string, string[]> } = {}) {
      const { SessionId } = await caller.call(sessions.StartSession, { Target: agent.instanceId, ...input });
      const opened = await agent.sessionOpen(SessionId);
      await server.root.call(sessions.TerminateSession, { SessionId });
      return opened.work;
    }

    async function ended(sessionId: string) {
      for (let tries = 0; tries < 250; tries++) {
        const [found] = (await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'SessionId', value: sessionId }] })).Sessions;
        if (found !== undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${sessionId} did not end`);
    }

    before(async () => {
      server = await startTestServer({ backend });
      account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      region = server.server.services.config.region;
      agent = await SimulatedAgent.register(server, [{ Key: 'Name', Value: 'web01' }]);
      await agent.connect(server);
      await server.root.call(documents.CreateDocument, { Name: 'SystemctlStatus', Content: systemctl('systemctl status {{ unit }}'), DocumentType: 'Session' });
    });
    after(async () => {
      agent.disconnect();
      await server.stop();
    });

    test('CreateDocument, new versions, the default version, GetDocument, DescribeDocument and DeleteDocument', async () => {
      const first = systemctl('systemctl status {{unit}}');
      const created = await server.root.call(documents.CreateDocument, {
        Name: 'Ops-Status',
        Content: first,
        DocumentType: 'Session',
        DocumentFormat: 'JSON',
        VersionName: 'first',
        TargetType: '/AWS::EC2::Instance',
        Tags: [{ Key: 'team', Value: 'ops' }],
      });
      const { CreatedDate, ...described } = created.DocumentDescription ?? {};
      assert.equal(typeof CreatedDate, 'number');
      assert.deepEqual(described, {
        Name: 'Ops-Status',
        Owner: account,
        VersionName: 'first',
        PlatformTypes: ['Linux'],
        DocumentVersion: '1',
        DocumentType: 'Session',
        SchemaVersion: '1.0',
        DocumentFormat: 'JSON',
        TargetType: '/AWS::EC2::Instance',
        Tags: [{ Key: 'team', Value: 'ops' }],
        Hash: createHash('sha256').update(first).digest('hex'),
        HashType: 'Sha256',
        Status: 'Active',
        Description: 'systemctl status of one unit',
        Parameters: [{ Name: 'unit', Type: 'String', Description: 'The unit.', DefaultValue: 'nginx' }],
        LatestVersion: '1',
        DefaultVersion: '1',
      });
      await assert.rejects(server.root.call(documents.CreateDocument, { Name: 'Ops-Status', Content: first, DocumentType: 'Session' }), refusal('DocumentAlreadyExists', /UpdateDocument/));

      // New versions: the latest only, new content and version names only; the default stays.
      await assert.rejects(server.root.call(documents.UpdateDocument, { Name: 'Ops-Status', Content: first }), refusal('DuplicateDocumentContent', /Version 1/));
      const second = systemctl('systemctl status --no-pager {{ unit }}');
      const updated = await server.root.call(documents.UpdateDocument, { Name: 'Ops-Status', Content: second, DocumentVersion: '$LATEST', VersionName: 'second' });
      assert.deepEqual([updated.DocumentDescription?.DocumentVersion, updated.DocumentDescription?.LatestVersion, updated.DocumentDescription?.DefaultVersion], ['2', '2', '1']);
      const third = systemctl('systemctl status --lines=5 {{ unit }}');
      await assert.rejects(server.root.call(documents.UpdateDocument, { Name: 'Ops-Status', Content: third, DocumentVersion: '1' }), refusal('InvalidDocumentVersion', /latest version .* \$LATEST or 2/));
      await assert.rejects(server.root.call(documents.UpdateDocument, { Name: 'Ops-Status', Content: third, VersionName: 'first' }), refusal('DuplicateDocumentVersionName', /first/));

      const byDefault = await server.root.call(documents.GetDocument, { Name: 'Ops-Status' });
      assert.deepEqual([byDefault.Content, byDefault.DocumentVersion, byDefault.VersionName, byDefault.DocumentType, byDefault.DocumentFormat, byDefault.Status], [first, '1', 'first', 'Session', 'JSON', 'Active']);
      assert.equal((await server.root.call(documents.GetDocument, { Name: 'Ops-Status', DocumentVersion: '$LATEST' })).Content, second);
      assert.equal((await server.root.call(documents.GetDocument, { Name: 'Ops-Status', VersionName: 'second' })).DocumentVersion, '2');
      assert.equal((await server.root.call(documents.GetDocument, { Name: `arn:aws:ssm:${region}:${account}:document/Ops-Status` })).Content, first);
      await assert.rejects(server.root.call(documents.GetDocument, { Name: 'arn:aws:ssm:us-east-1:999999999999:document/Ops-Status' }), refusal('InvalidDocument'));
      await assert.rejects(server.root.call(documents.GetDocument, { Name: 'Ops-Status', DocumentVersion: '9' }), refusal('InvalidDocumentVersion', /no version 9: its latest version is 2, its default 1/));
      await assert.rejects(server.root.call(documents.GetDocument, { Name: 'Ops-Status', DocumentFormat: 'YAML' }), refusal('ValidationException', /JSON only/));

      assert.deepEqual(await server.root.call(documents.UpdateDocumentDefaultVersion, { Name: 'Ops-Status', DocumentVersion: '2' }), {
        Description: { Name: 'Ops-Status', DefaultVersion: '2', DefaultVersionName: 'second' },
      });
      await assert.rejects(server.root.call(documents.UpdateDocumentDefaultVersion, { Name: 'Ops-Status', DocumentVersion: '5' }), refusal('InvalidDocumentVersion'));
      assert.equal((await server.root.call(documents.DescribeDocument, { Name: 'Ops-Status' })).Document?.DocumentVersion, '2');
      assert.equal((await server.root.call(documents.DescribeDocument, { Name: 'Ops-Status', DocumentVersion: '1' })).Document?.VersionName, 'first');

      // One version (never the default), then the whole document.
      await assert.rejects(server.root.call(documents.DeleteDocument, { Name: 'Ops-Status', DocumentVersion: '2' }), refusal('InvalidDocumentOperation', /default version/));
      await server.root.call(documents.DeleteDocument, { Name: 'Ops-Status', VersionName: 'first' });
      await assert.rejects(server.root.call(documents.GetDocument, { Name: 'Ops-Status', DocumentVersion: '1' }), refusal('InvalidDocumentVersion'));
      await server.root.call(documents.DeleteDocument, { Name: 'Ops-Status' });
      await assert.rejects(server.root.call(documents.GetDocument, { Name: 'Ops-Status' }), refusal('InvalidDocument', /is not a Session document/));
      await assert.rejects(server.root.call(documents.DeleteDocument, { Name: 'Ops-Status' }), refusal('InvalidDocument'));
    });

    test("AWS's documents are listed as Amazon's and read-only; ListDocuments filters and pages", async () => {
      const ssh = await server.root.call(documents.GetDocument, { Name: 'AWS-StartSSHSession' });
      const sshContent = JSON.parse(ssh.Content ?? '') as { sessionType: string; parameters: { portNumber: { default: string } }; properties: object };
      assert.deepEqual([sshContent.sessionType, sshContent.parameters.portNumber.default, sshContent.properties], ['Port', '22', { portNumber: '{{ portNumber }}' }]);
      assert.equal((await server.root.call(documents.DescribeDocument, { Name: 'AWS-StartSSHSession' })).Document?.Owner, 'Amazon');
      const change = systemctl('reboot');
      await assert.rejects(server.root.call(documents.UpdateDocument, { Name: 'AWS-StartSSHSession', Content: change }), refusal('InvalidDocumentOperation', /AWS's, and read-only/));
      await assert.rejects(server.root.call(documents.DeleteDocument, { Name: 'AWS-StartInteractiveCommand' }), refusal('InvalidDocumentOperation', /read-only/));
      await assert.rejects(server.root.call(documents.UpdateDocumentDefaultVersion, { Name: 'AWS-StartSSHSession', DocumentVersion: '1' }), refusal('InvalidDocumentOperation'));
      for (const Name of ['AWS-Mine', 'amazon-tools', 'AMZN_x']) {
        await assert.rejects(server.root.call(documents.CreateDocument, { Name, Content: change, DocumentType: 'Session' }), refusal('ValidationException', /cannot begin with aws-, amazon or amzn/));
      }

      await server.root.call(documents.CreateDocument, { Name: 'List-A', Content: systemctl('uptime'), DocumentType: 'Session', Tags: [{ Key: 'team', Value: 'ops' }] });
      await server.root.call(documents.CreateDocument, { Name: 'List-B', Content: systemctl('df -h'), DocumentType: 'Session' });
      const names = async (input: InputOf<typeof documents.ListDocuments>) => ((await server.root.call(documents.ListDocuments, input)).DocumentIdentifiers ?? []).map((identifier) => identifier.Name);
      const amazon = (await server.root.call(documents.ListDocuments, { Filters: [{ Key: 'Owner', Values: ['Amazon'] }] })).DocumentIdentifiers ?? [];
      assert.deepEqual(amazon.map((identifier) => identifier.Name), AWS_NAMES);
      assert.ok(amazon.every((identifier) => identifier.Owner === 'Amazon' && identifier.DocumentType === 'Session' && identifier.DocumentVersion === '1'));
      const own = (await server.root.call(documents.ListDocuments, { Filters: [{ Key: 'Owner', Values: ['Self'] }] })).DocumentIdentifiers ?? [];
      assert.deepEqual(own.map((identifier) => identifier.Name), ['List-A', 'List-B', RUN_SHELL, 'SystemctlStatus']);
      assert.ok(own.every((identifier) => identifier.Owner === account));
      assert.deepEqual(await names({ Filters: [{ Key: 'Name', Values: ['List-'] }] }), ['List-A', 'List-B']);
      assert.deepEqual(await names({ Filters: [{ Key: 'tag:team', Values: ['ops', 'dev'] }] }), ['List-A']);
      assert.deepEqual(await names({ Filters: [{ Key: 'Owner', Values: ['Self'] }, { Key: 'DocumentType', Values: ['Session'] }, { Key: 'Name', Values: ['Sys'] }] }), ['SystemctlStatus']);
      assert.deepEqual(await names({ Filters: [{ Key: 'DocumentType', Values: ['Command'] }] }), []);
      assert.deepEqual(await names({ DocumentFilterList: [{ key: 'Owner', value: 'Self' }] }), ['List-A', 'List-B', RUN_SHELL, 'SystemctlStatus']);

      const everything = await names({ Filters: [{ Key: 'Owner', Values: ['All'] }] });
      assert.equal(everything.length, AWS_NAMES.length + 4);
      const paged: (string | undefined)[] = [];
      let NextToken: string | undefined;
      do {
        const page = await server.root.call(documents.ListDocuments, { MaxResults: 3, ...(NextToken === undefined ? {} : { NextToken }) });
        paged.push(...(page.DocumentIdentifiers ?? []).map((identifier) => identifier.Name));
        NextToken = page.NextToken;
      } while (NextToken !== undefined);
      assert.deepEqual(paged, everything);
      await assert.rejects(server.root.call(documents.ListDocuments, { Filters: [{ Key: 'Color', Values: ['red'] }] }), refusal('InvalidFilterKey', /Owner, Name/));
      await assert.rejects(server.root.call(documents.ListDocuments, { Filters: [{ Key: 'Owner', Values: ['Nobody'] }] }), refusal('ValidationException', /Self, Private, Amazon/));
      await assert.rejects(server.root.call(documents.ListDocuments, { NextToken: 'not-a-token' }), refusal('InvalidNextToken'));
      for (const Name of ['List-A', 'List-B']) await server.root.call(documents.DeleteDocument, { Name });
    });

    test('content is checked, each problem naming its field', async () => {
      const commands = (linux: object, parameters: object = {}) => content({ sessionType: 'InteractiveCommands', parameters, properties: { linux } });
      const port = (properties: object) => content({ sessionType: 'Port', properties });
      const cases: [string, string, RegExp, Partial<{ DocumentType: 'Command'; DocumentFormat: 'YAML'; Name: string }>?][] = [
        ['{"schemaVersion": "1.0",', 'InvalidDocumentContent', /Content is not JSON .*JSON only/],
        [systemctl('uptime'), 'ValidationException', /DocumentType Command .*Session documents only/, { DocumentType: 'Command' }],
        [systemctl('uptime'), 'ValidationException', /DocumentFormat YAML .*JSON only/, { DocumentFormat: 'YAML' }],
        [JSON.stringify({ schemaVersion: '2.2', sessionType: 'Port' }), 'InvalidDocumentSchemaVersion', /schemaVersion "2.2" .*"1.0"/],
        [JSON.stringify({ sessionType: 'Port' }), 'InvalidDocumentContent', /^schemaVersion is required/],
        [content({ sessionType: 'Shell' }), 'InvalidDocumentContent', /^sessionType must be one of Standard_Stream, InteractiveCommands, NonInteractiveCommands, Port, not "Shell"/],
        [content({ sessionType: 'Port', mainSteps: [] }), 'InvalidDocumentContent', /^mainSteps is not a field of a Session document/],
        [commands({ commands: 'x' }, { unit: { type: 'Number' } }), 'InvalidDocumentContent', /^parameters\.unit\.type must be String or StringList/],
        [commands({ commands: 'x' }, { unit: { type: 'String', allowedPattern: '(' } }), 'InvalidDocumentContent', /^parameters\.unit\.allowedPattern "\(" is not a regular expression/],
        [commands({ commands: 'x' }, { unit: { type: 'String', allowedValues: ['a'], default: 'b' } }), 'InvalidDocumentContent', /^parameters\.unit\.default does not suit the parameter: unit must be one of a/],
        [commands({ commands: 'x' }, { unit: { type: 'String', maxChars: 'many' } }), 'InvalidDocumentContent', /^parameters\.unit\.maxChars must be a whole number/],
        [commands({ commands: 'x' }, { unit: { type: 'String', secret: true } }), 'InvalidDocumentContent', /^parameters\.unit\.secret is not a field of parameters\.unit/],
        [commands({ commands: 'systemctl status {{ service }}' }, { unit: { type: 'String' } }), 'InvalidDocumentContent', /^properties\.linux\.commands refers to \{\{ service \}\}, which is not among the document's parameters \(unit\)/],
        [content({ sessionType: 'InteractiveCommands', properties: { windows: { commands: 'dir' } } }), 'InvalidDocumentContent', /^properties\.linux is required/],
        [commands({ commands: '' }), 'InvalidDocumentContent', /^properties\.linux\.commands must be the command to run/],
        [commands({ commands: 'id', runAsElevated: true }), 'InvalidDocumentContent', /^properties\.linux\.runAsElevated cannot be true/],
        [content({ sessionType: 'NonInteractiveCommands' }), 'InvalidDocumentContent', /^properties is required for NonInteractiveCommands documents/],
        [port({ portNumber: '70000' }), 'InvalidDocumentContent', /^properties\.portNumber "70000" is not a port/],
        [port({ portNumber: '80', host: '169.254.169.254' }), 'InvalidDocumentContent', /^properties\.host "169\.254\.169\.254" is forbidden/],
        [port({ portNumber: '80', type: 'RemotePortForwarding' }), 'InvalidDocumentContent', /^properties\.type must be LocalPortForwarding/],
        [port({ host: 'db' }), 'InvalidDocumentContent', /^properties\.portNumber is required/],
        [content({ sessionType: 'Port', properties: { portNumber: '80' }, inputs: {} }), 'InvalidDocumentContent', /^inputs is for Standard_Stream documents only/],
        [content({ sessionType: 'Standard_Stream' }), 'InvalidDocumentContent', /^inputs is required for Standard_Stream documents/],
        [preferences({ idleSessionTimeout: '90' }), 'InvalidDocumentContent', /^inputs\.idleSessionTimeout must be a whole number of minutes from 1 to 60, .* not "90"/],
        [preferences({ idleSessionTimeout: '0' }), 'InvalidDocumentContent', /^inputs\.idleSessionTimeout .*from 1 to 60/],
        [preferences({ maxSessionDuration: '1441' }), 'InvalidDocumentContent', /^inputs\.maxSessionDuration must be a whole number of minutes from 1 to 1440/],
        [preferences({ runAsDefaultUser: 'root' }), 'InvalidDocumentContent', /^inputs\.runAsDefaultUser cannot be root/],
        [preferences({ runAsDefaultUser: 'Bad User' }), 'InvalidDocumentContent', /^inputs\.runAsDefaultUser "Bad User" is not an OS user name/],
        [preferences({ s3EncryptionEnabled: 'yes' }), 'InvalidDocumentContent', /^inputs\.s3EncryptionEnabled must be true or false, not "yes"/],
        [preferences({ shellProfile: { linux: 1 } }), 'InvalidDocumentContent', /^inputs\.shellProfile\.linux must be a string/],
        [preferences({ idleTimeout: '5' }), 'InvalidDocumentContent', /^inputs\.idleTimeout is not a field of inputs: use s3BucketName/],
        [preferences({ s3BucketName: 'Bad_Bucket' }), 'InvalidDocumentContent', /^inputs\.s3BucketName "Bad_Bucket" is not a valid bucket name/],
        [preferences({ s3KeyPrefix: 'logs\n' }), 'InvalidDocumentContent', /^inputs\.s3KeyPrefix may not hold control characters/],
        [preferences({ s3KeyPrefix: 'p'.repeat(769) }), 'InvalidDocumentContent', /^inputs\.s3KeyPrefix must be at most 768 bytes/],
        [preferences({ cloudWatchLogGroupName: 'bad name!' }), 'InvalidDocumentContent', /^inputs\.cloudWatchLogGroupName "bad name!" is not a log group name/],
        [port({ portNumber: '22' }), 'InvalidDocumentContent', new RegExp(`sessionType must be Standard_Stream for ${RUN_SHELL}`), { Name: RUN_SHELL }],
        [content({ sessionType: 'Port', description: 'x'.repeat(70_000), properties: { portNumber: '22' } }), 'MaxDocumentSizeExceeded', /at most 65536/],
      ];
      for (const [index, [given, code, message, extra]] of cases.entries()) {
        await assert.rejects(server.root.call(documents.CreateDocument, { Name: `Bad-${index}`, Content: given, DocumentType: 'Session', ...extra }), refusal(code, message), `case ${index}`);
      }
      await assert.rejects(server.root.call(documents.CreateDocument, { Name: 'No-Type', Content: systemctl('uptime') }), refusal('ValidationException', /Command \(the default\)/));
      await assert.rejects(server.root.call(documents.UpdateDocument, { Name: 'SystemctlStatus', Content: '[]' }), refusal('InvalidDocumentContent', /must be a JSON object/));
      const own = (await server.root.call(documents.ListDocuments, { Filters: [{ Key: 'Owner', Values: ['Self'] }] })).DocumentIdentifiers ?? [];
      assert.deepEqual(own.map((identifier) => identifier.Name), [RUN_SHELL, 'SystemctlStatus']);
    });

    test("the admin's document runs only systemctl status: parameters checked and substituted, the command sent to the agent, its default version used", async () => {
      assert.deepEqual(await work(server.root, { DocumentName: 'SystemctlStatus' }), { kind: 'interactive-command', runAs: { user: 'ssm-user' }, command: 'systemctl status nginx' });
      assert.deepEqual(await work(server.root, { DocumentName: `arn:aws:ssm:${region}:${account}:document/SystemctlStatus`, Parameters: { unit: ['sshd'] } }), {
        kind: 'interactive-command',
        runAs: { user: 'ssm-user' },
        command: 'systemctl status sshd',
      });
      const start = (Parameters: Record<string, string[]>, DocumentName = 'SystemctlStatus') => server.root.call(sessions.StartSession, { Target: agent.instanceId, DocumentName, Parameters });
      await assert.rejects(start({ unit: ['nginx; reboot'] }), refusal('InvalidParameters', /unit "nginx; reboot" does not match/));
      await assert.rejects(start({ units: ['nginx'] }), refusal('InvalidParameters', /SystemctlStatus has no parameter units; it takes unit/));
      await assert.rejects(start({ unit: ['nginx', 'sshd'] }), refusal('InvalidParameters', /takes one value, not 2/));

      // StringList with allowedValues, no default; the values joined by spaces; a command without a PTY.
      await server.root.call(documents.CreateDocument, {
        Name: 'IsActive',
        DocumentType: 'Session',
        Content: content({
          sessionType: 'NonInteractiveCommands',
          parameters: { units: { type: 'StringList', description: 'The units.', allowedValues: ['nginx', 'sshd'] } },
          properties: { linux: { commands: ['systemctl is-active {{ units }}'] } },
        }),
      });
      assert.deepEqual(await work(server.root, { DocumentName: 'IsActive', Parameters: { units: ['nginx', 'sshd'] } }), { kind: 'command', runAs: { user: 'ssm-user' }, command: 'systemctl is-active nginx sshd' });
      await assert.rejects(start({ units: ['cron'] }, 'IsActive'), refusal('InvalidParameters', /units must be one of nginx, sshd/));
      await assert.rejects(start({}, 'IsActive'), refusal('InvalidParameters', /IsActive needs the parameter units: The units\./));

      // A Port document of the account's own.
      await server.root.call(documents.CreateDocument, { Name: 'Web-Forward', DocumentType: 'Session', Content: content({ sessionType: 'Port', properties: { portNumber: '8080', type: 'LocalPortForwarding' } }) });
      assert.deepEqual(await work(server.root, { DocumentName: 'Web-Forward' }), { kind: 'port', host: 'localhost', port: 8080 });

      // A new version runs only once it is the default.
      await server.root.call(documents.UpdateDocument, { Name: 'SystemctlStatus', Content: systemctl('systemctl status --no-pager {{ unit }}') });
      assert.deepEqual(await work(server.root, { DocumentName: 'SystemctlStatus' }), { kind: 'interactive-command', runAs: { user: 'ssm-user' }, command: 'systemctl status nginx' });
      await server.root.call(documents.UpdateDocumentDefaultVersion, { Name: 'SystemctlStatus', DocumentVersion: '2' });
      assert.deepEqual(await work(server.root, { DocumentName: 'SystemctlStatus' }), { kind: 'interactive-command', runAs: { user: 'ssm-user' }, command: 'systemctl status --no-pager nginx' });
      await assert.rejects(start({}, 'NoSuchDocument'), refusal('InvalidDocument', /AWS-StartSSHSession/));
    });

    test("a policy that allows ssm:StartSession on one custom document's ARN allows that document only", async () => {
      const statusArn = `arn:aws:ssm:*:${account}:document/SystemctlStatus`;
      const operator = await personWith('operator', [
        { Effect: 'Allow', Action: 'ssm:StartSession', Resource: ['arn:aws:ssm:*:*:managed-instance/*', statusArn], Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } } },
        { Effect: 'Allow', Action: 'ssm:GetDocument', Resource: statusArn },
      ]);
      assert.deepEqual(await work(operator, { DocumentName: 'SystemctlStatus', Parameters: { unit: ['sshd'] } }), {
        kind: 'interactive-command',
        runAs: { user: 'ssm-user' },
        command: 'systemctl status --no-pager sshd',
      });
      for (const DocumentName of ['IsActive', 'AWS-StartInteractiveCommand', 'NoSuchDocument']) {
        await assert.rejects(operator.call(sessions.StartSession, { Target: agent.instanceId, DocumentName }), refusal('AccessDeniedException', new RegExp(`document/${DocumentName}`)));
      }
      await assert.rejects(operator.call(sessions.StartSession, { Target: agent.instanceId }), refusal('AccessDeniedException', /managed-instance/));
      assert.equal((await operator.call(documents.GetDocument, { Name: 'SystemctlStatus' })).DocumentVersion, '2');
      await assert.rejects(operator.call(documents.GetDocument, { Name: 'IsActive' }), refusal('AccessDeniedException', new RegExp(`arn:aws:ssm:${region}:${account}:document/IsActive`)));
      await assert.rejects(operator.call(documents.GetDocument, { Name: 'AWS-StartSSHSession' }), refusal('AccessDeniedException', new RegExp(`arn:aws:ssm:${region}::document/AWS-StartSSHSession`)));
      await assert.rejects(operator.call(documents.UpdateDocument, { Name: RUN_SHELL, Content: preferences({}) }), refusal('AccessDeniedException', new RegExp(`document/${RUN_SHELL}`)));
      await assert.rejects(operator.call(documents.CreateDocument, { Name: 'Mine', Content: systemctl('id'), DocumentType: 'Session' }), refusal('AccessDeniedException', /document\/Mine/));
    });

    test("Run As: the person's SSMSessionRunAs attribute (a principal tag), else runAsDefaultUser; never root", async () => {
      // Allowed only to callers that carry the tag: the attribute arrives as aws:PrincipalTag/SSMSessionRunAs.
      const tagged = [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*', Condition: { Null: { 'aws:PrincipalTag/SSMSessionRunAs': 'false' } } }];
      const alice = await personWith('alice.admin', tagged, { SSMSessionRunAs: 'alice' });
      const plain = await personWith('plain.user', tagged);
      const rooted = await personWith('wants.root', tagged, { SSMSessionRunAs: 'root' });
      await assert.rejects(plain.call(sessions.StartSession, { Target: agent.instanceId }), refusal('AccessDeniedException'));
      assert.deepEqual(await work(alice), { kind: 'shell', runAs: { user: 'ssm-user' }, profile: '' }, 'Run As is off by default');

      await server.root.call(documents.UpdateDocument, { Name: RUN_SHELL, Content: preferences({ runAsEnabled: true, runAsDefaultUser: 'ops' }) });
      assert.deepEqual(await work(alice), { kind: 'shell', runAs: { user: 'alice', named: true }, profile: '' });
      assert.deepEqual(await work(alice, { DocumentName: 'SystemctlStatus' }), { kind: 'interactive-command', runAs: { user: 'alice', named: true }, command: 'systemctl status --no-pager nginx' });
      assert.deepEqual(await work(server.root), { kind: 'shell', runAs: { user: 'ops', named: true }, profile: '' });
      await assert.rejects(rooted.call(sessions.StartSession, { Target: agent.instanceId }), refusal('InvalidParameters', /Run As root is not allowed/));

      await server.root.call(documents.UpdateDocument, { Name: RUN_SHELL, Content: preferences({ runAsEnabled: true }) });
      await assert.rejects(server.root.call(sessions.StartSession, { Target: agent.instanceId }), refusal('InvalidParameters', /SSMSessionRunAs attribute or set runAsDefaultUser/));
      assert.deepEqual(await work(server.root, { DocumentName: 'AWS-StartSSHSession' }), { kind: 'port', host: 'localhost', port: 22 }, 'port forwarding runs no program');

      // Deleting the preferences puts the defaults back.
      await server.root.call(documents.DeleteDocument, { Name: RUN_SHELL });
      const defaults = await server.root.call(documents.GetDocument, { Name: RUN_SHELL });
      assert.equal(defaults.DocumentVersion, '1');
      assert.equal((JSON.parse(defaults.Content ?? '') as { inputs: { runAsEnabled: boolean } }).inputs.runAsEnabled, false);
      assert.deepEqual(await work(alice), { kind: 'shell', runAs: { user: 'ssm-user' }, profile: '' });
    });

    // Last: it moves the clock, after which the agent's heartbeat is stale.
    test("the account's preferences (SSM-SessionManagerRunShell) set the idle timeout, maximum duration and shell profile of the sessions started after", async () => {
      const defaults = await server.root.call(documents.GetDocument, { Name: RUN_SHELL });
      assert.equal(defaults.DocumentVersion, '1');
      const { sessionType, inputs } = JSON.parse(defaults.Content ?? '') as { sessionType: string; inputs: Record<string, unknown> };
      assert.equal(sessionType, 'Standard_Stream');
      assert.deepEqual([inputs['idleSessionTimeout'], inputs['maxSessionDuration'], inputs['runAsEnabled']], ['20', '', false]);
      assert.equal((await server.root.call(documents.DescribeDocument, { Name: RUN_SHELL })).Document?.Owner, account);

      // Created (it was never stored), then updated: each new version is in force at once.
      const idle = preferences({ idleSessionTimeout: '5', shellProfile: { linux: 'cd /srv', windows: '' }, s3BucketName: 'airlock-recordings', s3EncryptionEnabled: false, s3KeyPrefix: 'sessions', cloudWatchLogGroupName: '/airlock/sessions', kmsKeyId: 'alias/sessions' });
      const made = await server.root.call(documents.CreateDocument, { Name: RUN_SHELL, Content: idle, DocumentType: 'Session' });
      assert.equal(made.DocumentDescription?.DocumentVersion, '1');
      assert.equal((await server.root.call(documents.GetDocument, { Name: RUN_SHELL })).Content, idle);
      const idleSession = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
      assert.deepEqual((await agent.sessionOpen(idleSession.SessionId)).work, { kind: 'shell', runAs: { user: 'ssm-user' }, profile: 'cd /srv' });

      const capped = await server.root.call(documents.UpdateDocument, { Name: RUN_SHELL, Content: preferences({ idleSessionTimeout: '60', maxSessionDuration: '1' }), DocumentVersion: '$LATEST' });
      assert.deepEqual([capped.DocumentDescription?.DocumentVersion, capped.DocumentDescription?.DefaultVersion], ['2', '2']);
      const cappedSession = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
      const [active] = (await server.root.call(sessions.DescribeSessions, { State: 'Active', Filters: [{ key: 'SessionId', value: cappedSession.SessionId }] })).Sessions;
      assert.equal(active?.MaxSessionDuration, '1');

      server.clock.advance(5 * 60_000);
      server.server.services.sessions.tick();
      assert.equal((await ended(idleSession.SessionId)).Details, 'the session was idle for 5 minutes');
      assert.equal((await ended(cappedSession.SessionId)).Details, 'the session reached its maximum duration of 1 minute');

      // UpdateDocumentDefaultVersion brings an earlier version's preferences back.
      await server.root.call(documents.UpdateDocumentDefaultVersion, { Name: RUN_SHELL, DocumentVersion: '1' });
      assert.equal((await server.root.call(documents.GetDocument, { Name: RUN_SHELL })).Content, idle);
    });
  });
}
