// The import rules of DESIGN §2 fail a lint run when broken (and only then).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { importRules } from '../../tooling/import-rules.js';

const eslint = new ESLint({
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.parser } }, ...importRules],
});

async function violations(filePath, code) {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals').map((m) => m.message);
}

const cases = [
  ['packages/policy/src/x.ts', "import { a } from '@airlock/protocol';", /import nothing internal/],
  ['packages/protocol/src/x.ts', "import { a } from '@airlock/policy';", /import nothing internal/],
  ['packages/policy/src/x.ts', "import { readFileSync } from 'node:fs';", /pure/],
  ['packages/agent/src/x.ts', "import { a } from '@airlock/server';", /never import the server/],
  ['packages/cli/src/x.ts', "import { a } from '@airlock/server/http';", /never import the server/],
  ['packages/server/src/x.ts', "import { a } from '@airlock/testkit';", /tests only/],
  ['packages/cli/src/x.ts', "import { a } from '@airlock/testkit';", /tests only/],
  ['packages/web/src/x.tsx', "import { a } from '@airlock/server/http/app';", /only through its API/],
  ['packages/web/src/app/x.ts', "import { a } from '@airlock/testkit';", /only through its API/],
  ['packages/web/src/x.tsx', "import { readFile } from 'node:fs/promises';", /runs in browsers/],
  ['packages/web/src/x.tsx', "import { join } from 'path';", /runs in browsers/],
  ['packages/web/src/features/x/y.tsx', "void fetch('/api/ssm/StartSession');", /app\/api\.ts/],
  ['packages/web/src/x.ts', "localStorage.setItem('token', 't');", /no credentials/],
];

for (const [file, code, message] of cases) {
  test(`${file}: "${code}" is refused`, async () => {
    const found = await violations(file, code);
    assert.equal(found.length, 1, `expected one violation, got ${JSON.stringify(found)}`);
    assert.match(found[0], message);
  });
}

const allowed = [
  ['packages/cli/src/x.ts', "import { a } from '@airlock/policy';"],
  ['packages/server/src/x.ts', "import { a } from '@airlock/policy';"],
  ['packages/server/test/x.test.ts', "import { a } from '@airlock/testkit';"],
  ['packages/web/src/x.tsx', "import { AirlockClient } from '@airlock/client';"],
  ['packages/web/src/x.tsx', "import { portal } from '@airlock/protocol';"],
];

for (const [file, code] of allowed) {
  test(`${file}: "${code}" is allowed`, async () => {
    assert.deepEqual(await violations(file, code), []);
  });
}
