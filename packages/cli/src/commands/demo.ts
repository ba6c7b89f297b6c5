/**
 * `airlock demo`: the guide's walkthrough decided by the policy engine, as a table. This is
 * what `npm start` runs until the server lands; it reads examples/guide/.
 */
import { readFile } from 'node:fs/promises';
import { compilePolicy, decide, label, type CompiledPolicy } from '@airlock/policy';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';

interface Walkthrough {
  readonly region: string;
  readonly account: string;
  readonly instances: readonly { name: string; arn: string; tags: Readonly<Record<string, string>> }[];
  readonly users: readonly { userName: string; group: string; permissionSet: string; policy: string }[];
  readonly checks: readonly { user: string; action: string; target?: string; session?: string; expect: string }[];
}

const DEFAULT_DIR = new URL('../../../../examples/guide/', import.meta.url).pathname;

export const demo: Command = {
  path: 'demo',
  summary: "Decide the guide's walkthrough (users, groups, tagged instances) with its policies and print the table.",
  options: [{ name: 'dir', value: '<path>', help: 'A walkthrough folder (default: examples/guide).' }],
  async run(flags, io) {
    const dir = (flags.one('dir') ?? DEFAULT_DIR).replace(/\/?$/, '/');
    const walkthrough = JSON.parse(await readText(`${dir}walkthrough.json`)) as Walkthrough;
    const policies = new Map<string, CompiledPolicy>();
    for (const user of walkthrough.users) {
      policies.set(user.permissionSet, compilePolicy(await readText(`${dir}${user.policy}`), { name: user.permissionSet }));
    }
    const rows = [['user (permission set)', 'action', 'on', 'decision', 'because']];
    let surprises = 0;
    for (const check of walkthrough.checks) {
      const user = walkthrough.users.find((candidate) => candidate.userName === check.user);
      const instance = walkthrough.instances.find((candidate) => candidate.name === check.target);
      if (user === undefined) throw new UsageError(`walkthrough.json: check names unknown user ${check.user}.`);
      const resource =
        instance?.arn ?? (check.session === undefined ? '*' : `arn:aws:ssm:${walkthrough.region}:${walkthrough.account}:session/${check.session}`);
      const context: Record<string, string> = { 'aws:username': user.userName };
      for (const [key, value] of Object.entries(instance?.tags ?? {})) context[`ssm:resourceTag/${key}`] = value;
      const decision = decide([policies.get(user.permissionSet) as CompiledPolicy], { action: check.action, resource, context });
      const because =
        decision.decision === 'implicitDeny' ? (decision.misses[0]?.detail ?? 'no statement allows it') : decision.matched.map(label).join(', ');
      const ok = decision.decision === check.expect;
      if (!ok) surprises++;
      rows.push([`${user.userName} (${user.permissionSet})`, check.action, check.target ?? check.session ?? '*', `${ok ? '' : '!! '}${decision.decision}`, because]);
    }
    io.stdout.write(table(rows));
    io.stdout.write(
      surprises === 0
        ? `\nEvery decision is the one the guide expects (${walkthrough.checks.length} checks).\n`
        : `\n${surprises} decision(s) differ from the guide (marked !!).\n`,
    );
    return surprises === 0 ? 0 : 1;
  },
};

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`Cannot read ${path}.`);
  }
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
