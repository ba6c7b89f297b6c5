import assert from 'node:assert/strict';
import { test } from 'node:test';
import { airlock } from './helpers.js';

// The formatter is reached through a real command against no server: only parsing runs, so
// the format check itself is what this tests; rendering is tested in-process below.
test('--output refuses an unknown format before calling anything', async () => {
  const result = await airlock(['identitystore', 'list-users', '--output', 'yaml', '--endpoint-url', 'http://127.0.0.1:9']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--output must be one of json, text, table/);
});

test('text and table render lists as rows and scalars as one row', async () => {
  const { render } = await import('@airlock/cli/formats');
  const answer = { Users: [{ UserName: 'a', Name: { GivenName: 'A' } }, { UserName: 'b' }], NextToken: 'xyz' };
  assert.equal(render(answer, 'text'), 'xyz\nUSERS\ta\tA\nUSERS\tb\t\n');
  const table = render(answer, 'table');
  assert.match(table, /\| UserName \| Name\.GivenName \|/);
  assert.match(table, /\| b {8}\| {16}\|/);
  assert.deepEqual(JSON.parse(render(answer, 'json')), answer);
});
