// The import rules of DESIGN §2, as ESLint configuration objects. eslint.config.js uses them,
// and test/repo/import-rules.test.mjs proves that each one fails a lint run when broken.

const testkit = { group: ['@airlock/testkit', '@airlock/testkit/*'], message: 'testkit is for tests only.' };
const server = { group: ['@airlock/server', '@airlock/server/*'], message: 'The agent and the CLI never import the server; share code through @airlock/protocol or @airlock/client.' };
const internal = { group: ['@airlock/*'], message: 'protocol and policy import nothing internal: they are the contract everything else builds on.' };
const node = { group: ['node:*', 'fs', 'path', 'os', 'net', 'http', 'https', 'crypto', 'child_process', 'stream'], message: 'protocol and policy are pure: no I/O and no Node APIs.' };

const web = {
  group: ['@airlock/server', '@airlock/server/*', '@airlock/agent', '@airlock/agent/*', '@airlock/cli', '@airlock/cli/*', '@airlock/testkit', '@airlock/testkit/*'],
  message: 'The web app reaches the server only through its API: @airlock/client (and @airlock/protocol for shapes).',
};
const inBrowsers = 'The web app runs in browsers: no Node APIs.';
const nodeModules = ['fs', 'fs/promises', 'path', 'os', 'net', 'http', 'https', 'crypto', 'child_process', 'stream', 'buffer'];

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export const importRules = [
  { files: ['packages/*/src/**/*.ts', 'packages/*/src/**/*.tsx'], rules: restrict(testkit) },
  { files: ['packages/protocol/src/**/*.ts', 'packages/policy/src/**/*.ts'], rules: restrict(internal, node) },
  { files: ['packages/agent/src/**/*.ts', 'packages/cli/src/**/*.ts'], rules: restrict(server, testkit) },
  {
    files: ['packages/web/src/**/*.ts', 'packages/web/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [web, { group: ['node:*'], message: inBrowsers }], paths: nodeModules.map((name) => ({ name, message: inBrowsers })) }],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Call the API through app/api.ts (an AirlockClient in cookie mode).' },
        { name: 'XMLHttpRequest', message: 'Call the API through app/api.ts (an AirlockClient in cookie mode).' },
        { name: 'localStorage', message: 'The page keeps no credentials or state where other scripts read them.' },
        { name: 'sessionStorage', message: 'The page keeps no credentials or state where other scripts read them.' },
      ],
    },
  },
];
