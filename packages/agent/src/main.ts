process.stdout.write('airlock-agent: not yet\n');
