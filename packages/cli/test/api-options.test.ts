/**
 * Options of the API commands as the AWS CLI reads them: shorthand (a key given twice refused,
 * names plain objects inherit unknown), and file://path in place of any value.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { parseOptionValue } from '@airlock/cli/shorthand';
import { documents, fleet } from '@airlock/protocol';
import { startTestServer, temporaryDirectory, type TestServer } from '@airlock/testkit';
import { airlock } from './helpers.js';

let server: TestServer;
let files: { path: string; remove: () => Promise<void> };

before(async () => {
  server = await startTestServer();
  files = await temporaryDirectory();
});
after(async () => {
  await server.stop();
  await files.remove();
});

const filtersMember = fleet.DescribeInstanceInformation.input.members['Filters'];
if (filtersMember === undefined) throw new Error('DescribeInstanceInformation takes Filters');
const filters = filtersMember.shape;

test('shorthand: a key given twice is refused, not the last one taken', () => {
  assert.deepEqual(parseOptionValue('filters', filters, ['Key=PingStatus,Values=Online,ConnectionLost']), [{ Key: 'PingStatus', Values: ['Online', 'ConnectionLost'] }]);
  assert.throws(() => parseOptionValue('filters', filters, ['Key=PingStatus,Values=Online,Key=ResourceType']), /--filters: Key is given twice/);
  assert.throws(() => parseOptionValue('filters', filters, ['Key=PingStatus,constructor=1']), /constructor is not a field\. Fields: Key, Values/);
});

test('any option may be file://path: the file is read in its place; a missing file is a usage error', async () => {
  const content = { schemaVersion: '1.0', description: 'Status of nginx', sessionType: 'InteractiveCommands', properties: { linux: { commands: 'systemctl status nginx' } } };
  const path = `${files.path}/status.json`;
  await writeFile(path, JSON.stringify(content, null, 2));
  const cli = (args: readonly string[]) => airlock([...args, '--endpoint-url', server.url, '--token-file', `${server.dataDir}/root-token`]);

  const created = await cli(['ssm', 'create-document', '--name', 'Nginx-Status', '--document-type', 'Session', '--content', `file://${path}`]);
  assert.equal(created.code, 0, created.stderr);
  const stored = await server.root.call(documents.GetDocument, { Name: 'Nginx-Status' });
  assert.deepEqual(JSON.parse(stored.Content ?? ''), content);

  const missing = await cli(['ssm', 'create-document', '--name', 'Nowhere', '--document-type', 'Session', '--content', `file://${files.path}/absent.json`]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Cannot read .*absent\.json: no such file/);
});

test("an option's help shows how to write it in shorthand", async () => {
  const { code, stdout } = await airlock(['ssm', 'describe-instance-information', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /--filters <list> +.*Shorthand: Key=string,Values=string,string … \(or JSON\)\./);
  const targets = await airlock(['events', 'put-targets', '--help']);
  assert.match(targets.stdout, /--targets <list> +\(required\) Shorthand: Id=string,Arn=string,/);
});
