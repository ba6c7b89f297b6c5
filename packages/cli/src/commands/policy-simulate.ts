/**
 * `airlock policy simulate`: decisions for requests against policies, with no server.
 * Flags mode mirrors `aws iam simulate-custom-policy`; `--cases` runs JSON Lines in bulk.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { actionApplies, analyzePolicy, evaluate, resourceApplies, prepareRequest, RequestContext, type CompiledPolicy, type PreparedRequest } from '@airlock/policy';
import { UsageError, type FlagReader } from '../args.js';
import type { Command, Io } from '../command.js';
import { parseContextEntries } from '../context-entries.js';
import { LineWriter, printJson } from '../output.js';
import { readParameter } from '../params.js';
import { CaseSimulator } from '../simulate-cases.js';

export const policySimulate: Command = {
  path: 'policy simulate',
  summary: 'Decide requests against policies, as IAM would: allowed, explicitDeny or implicitDeny, with the statements that decided.',
  options: [
    { name: 'policy-input-list', value: '<json | file://path> …', help: 'The policies, as one principal would hold them.' },
    { name: 'action-names', value: '<service:Operation> …', help: 'Actions to decide, e.g. ssm:StartSession.' },
    { name: 'resource-arns', value: '<arn> …', help: 'Resources to decide each action on (default "*").' },
    { name: 'context-entries', value: '<entry> …', help: 'ContextKeyName=k,ContextKeyValues=v,ContextKeyType=string (or JSON).' },
    { name: 'cases', value: '<file | ->', help: 'JSON Lines of {id, policies, action, resource, context}; one decision a line.' },
  ],
  examples: [
    'airlock policy simulate --policy-input-list file://production.json --action-names ssm:StartSession \\\n' +
      '    --resource-arns arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0 \\\n' +
      '    --context-entries ContextKeyName=ssm:resourceTag/project,ContextKeyValues=Production,ContextKeyType=string',
    'airlock policy simulate --cases cases.jsonl',
  ],
  async run(flags, io) {
    const cases = flags.one('cases');
    if (cases !== undefined) {
      for (const name of ['policy-input-list', 'action-names', 'resource-arns', 'context-entries']) {
        if (flags.has(name)) throw new UsageError(`--cases reads everything from its file; drop --${name}.`);
      }
      return runCases(cases === '-' ? io.stdin : createReadStream(cases), io);
    }
    return runFlags(flags, io);
  },
};

async function runCases(input: Readable, io: Io): Promise<number> {
  const simulator = new CaseSimulator();
  const out = new LineWriter(io.stdout);
  let lineNumber = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber++;
      if (line.trim() === '') continue;
      await out.line(JSON.stringify(simulator.run(line, lineNumber)));
    }
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') throw new UsageError(`Cannot read the cases file: ${error.message}.`);
    throw error;
  }
  await out.flush();
  return 0;
}

async function runFlags(flags: FlagReader, io: Io): Promise<number> {
  const documents = flags.list('policy-input-list');
  const actions = flags.list('action-names');
  if (documents === undefined || actions === undefined) {
    throw new UsageError('Give --policy-input-list and --action-names (or --cases FILE).');
  }
  const policies: CompiledPolicy[] = [];
  for (const [index, parameter] of documents.entries()) {
    const name = `PolicyInputList.${index + 1}`;
    const { findings, policy } = analyzePolicy(await readParameter(parameter), { name });
    if (policy === undefined) {
      printJson(io.stderr, { __type: 'MalformedPolicyDocumentException', message: `${name} is not a valid policy.`, findings });
      return 1;
    }
    policies.push(policy);
  }
  const context = new RequestContext(parseContextEntries(flags.list('context-entries') ?? []));
  const resources = flags.list('resource-arns') ?? ['*'];
  const EvaluationResults = actions.flatMap((action) =>
    resources.map((resource) => {
      const request = prepareRequest({ action, resource, context });
      const decision = evaluate(policies, request);
      return {
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: decision.decision,
        MatchedStatements: decision.matched.map((ref) => ({
          SourcePolicyId: ref.policy,
          StatementIndex: ref.statement,
          ...(ref.sid === undefined ? {} : { Sid: ref.sid }),
        })),
        MissingContextValues: missingContextValues(policies, request),
        ...(decision.decision === 'implicitDeny' ? { DenyReason: decision.reason } : {}),
      };
    }),
  );
  printJson(io.stdout, { EvaluationResults });
  return 0;
}

/** Condition keys that statements covering this action and resource read but the request lacks. */
function missingContextValues(policies: readonly CompiledPolicy[], request: PreparedRequest): string[] {
  const missing = new Set<string>();
  for (const policy of policies) {
    for (const statement of policy.statements) {
      if (!actionApplies(statement, request.action, request.context)) continue;
      if (!request.resources.some((resource) => resourceApplies(statement, resource, request.context))) continue;
      for (const condition of statement.conditions) {
        if (request.context.values(condition.key) === undefined) missing.add(condition.keyName);
      }
    }
  }
  return [...missing];
}
