/**
 * `airlock apply -f setup.yaml [--dry-run]`: makes the server have what a setup file describes
 * (docs/apply.md). The file is checked whole before any call; then the current state is read,
 * the plan printed, and unless --dry-run carried out. Exit codes: 0 done (or nothing to do),
 * 2 a bad file or usage, 254 the server refused a call.
 */
import { AirlockClient } from '@airlock/client';
import { parseArgs, FlagReader, UsageError } from '../args.js';
import { commandHelp, type Command, type Io } from '../command.js';
import { Api, CallError } from '../apply/api.js';
import { executePlan } from '../apply/executor.js';
import { formatProblem, SetupError, type Setup } from '../apply/model.js';
import { makePlan, renderEntry, resolveAccount, summary } from '../apply/planner.js';
import { readSetup } from '../apply/reader.js';
import { readState } from '../apply/state.js';
import { CONNECTION_OPTIONS, connection, PROFILE_OPTION, reportError } from './api.js';

const BAD_FILE_EXIT = 2;

export const apply: Command = {
  path: 'apply',
  summary: 'Make the server have what a setup file describes (MFA settings, groups, users, permission sets, assignments): prints the plan, then creates and updates; never deletes.',
  options: [
    { name: 'file', value: '<path>', help: '(required; also -f) The setup file (YAML). Policy files it names are read relative to it.' },
    { name: 'dry-run', value: '', help: 'Print the plan and change nothing.' },
    ...CONNECTION_OPTIONS,
    PROFILE_OPTION,
  ],
  examples: ['airlock apply -f examples/guide-walkthrough.yaml --dry-run', 'airlock apply -f examples/guide-walkthrough.yaml'],
  // Read its own arguments, so that -f works as well as --file.
  passThrough: true,
  async run(_flags, io, argv) {
    const { words, flags: parsed } = parseArgs(argv.map((arg) => (arg === '-f' ? '--file' : arg)));
    if (parsed.has('help')) {
      io.stdout.write(commandHelp(apply));
      return 0;
    }
    if (words.length > 0) throw new UsageError(`airlock apply takes no argument "${words.join(' ')}"; name the file with -f or --file.`);
    const flags = new FlagReader(parsed, apply.options.map((option) => option.name), 'airlock apply');
    const file = flags.required('file');
    const dryRun = flags.has('dry-run');
    if ((flags.raw('dry-run') ?? []).length > 0) throw new UsageError(`--dry-run takes no value; got "${(flags.raw('dry-run') ?? []).join(' ')}".`);

    let setup: Setup;
    try {
      setup = await readSetup(file);
    } catch (error) {
      if (error instanceof SetupError) return badFile(io, file, error, 'nothing was sent to the server');
      throw error;
    }

    // After airlock login, in a role session (the profile's, or the only permission set), as every API command.
    const api = new Api(new AirlockClient(await connection(flags, true)), false);
    const out = (line: string): void => {
      io.stdout.write(`${line}\n`);
    };
    try {
      const state = await readState(api.reader(), setup, resolveAccount);
      const plan = makePlan(setup, state);
      for (const entry of plan.entries) renderEntry(entry).forEach(out);
      out(summary(plan));
      const steps = plan.entries.filter((entry) => entry.step !== undefined).length;
      if (dryRun) {
        out('Dry run: nothing was changed.');
        return 0;
      }
      if (steps === 0) return 0;
      out('');
      const progress = await executePlan(plan, api, (entry) => {
        out(entry.done);
      });
      out(`Applied: ${progress.created} created, ${progress.updated} updated.`);
      return 0;
    } catch (error) {
      if (error instanceof SetupError) return badFile(io, file, error, 'nothing was changed');
      if (error instanceof CallError) {
        if (api.writes.length > 0) {
          io.stderr.write(`airlock apply: stopped after ${api.writes.length} write call${api.writes.length === 1 ? '' : 's'}; what was done stays done, and applying the file again continues from there.\n`);
        }
        return reportError(error.error, error.operation, io);
      }
      throw error;
    }
  },
};

function badFile(io: Io, file: string, error: SetupError, outcome: string): number {
  const count = error.problems.length;
  io.stderr.write(`airlock apply: ${file} has ${count} problem${count === 1 ? '' : 's'}; ${outcome}.\n`);
  for (const problem of error.problems) io.stderr.write(`${formatProblem(problem)}\n`);
  return BAD_FILE_EXIT;
}
