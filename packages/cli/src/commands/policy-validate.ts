/** `airlock policy validate`: a policy's findings, as IAM Access Analyzer's ValidatePolicy lists them. */
import { analyzePolicy, hasErrors } from '@airlock/policy';
import type { Command } from '../command.js';
import { printJson } from '../output.js';
import { readParameter } from '../params.js';

export const policyValidate: Command = {
  path: 'policy validate',
  summary: 'Check a policy document. Prints its findings as JSON; exits 1 when any finding is an ERROR.',
  options: [{ name: 'policy-document', value: '<json | file://path>', help: 'The policy to check.' }],
  examples: ['airlock policy validate --policy-document file://production.json'],
  async run(flags, io) {
    const document = await readParameter(flags.required('policy-document'));
    const { findings } = analyzePolicy(document);
    printJson(io.stdout, { findings });
    return hasErrors(findings) ? 1 : 0;
  },
};
