/**
 * Who a session's program runs as (as AWS's agent): without Run As, a root agent runs it as
 * `ssm-user`, which it creates on first use (`useradd -m -s /bin/bash ssm-user`), and only when
 * it created it, gives it passwordless sudo in /etc/sudoers.d/ssm-agent-users (0440; configurable,
 * `ssmUserSudo` in the config file). With Run As, the named user: never root (nor another name
 * for uid 0), and one that does not exist fails the session. An agent that does not run as root
 * can only run programs as itself.
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { control } from '@airlock/protocol';
import type { Logger } from '../log.js';

export const SSM_USER = 'ssm-user';
export const SUDOERS_FILE = '/etc/sudoers.d/ssm-agent-users';

/** An OS account, as getent passwd shows it. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** The session cannot run as asked; the message is the reason the server records. */
export class RunAsError extends Error {
  override readonly name = 'RunAsError';
}

export interface UserOptions {
  /** The default user's name; tests use another so as not to touch the real ssm-user. */
  readonly ssmUser?: string;
  /** Give a newly created ssm-user passwordless sudo (default true, as AWS). */
  readonly ssmUserSudo?: boolean;
  readonly sudoersFile?: string;
  readonly log?: Logger;
}

export interface Identity {
  /** The account to run as. */
  readonly account: Account;
  /** The agent must switch to it (it runs as root and the account is another). */
  readonly switchUser: boolean;
}

function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') resolve({ code, stdout, stderr });
      else reject(new Error(error.message));
    });
  });
}

function parsePasswd(line: string): Account | undefined {
  const [name, , uid, gid, , home, shell] = line.trim().split(':');
  if (name === undefined || uid === undefined || gid === undefined || home === undefined) return undefined;
  const [u, g] = [Number(uid), Number(gid)];
  if (!Number.isInteger(u) || !Number.isInteger(g)) return undefined;
  return { name, uid: u, gid: g, home: home === '' ? '/' : home, shell: shell === undefined || shell === '' ? '/bin/sh' : shell };
}

/**
 * The account named `name`: from /etc/passwd when it is there (read in-process: a session starts
 * without waiting for a program to run), else from NSS through getent (LDAP, sssd), when there is one.
 */
export async function lookupUser(name: string): Promise<Account | undefined> {
  const local = await readPasswd(name);
  if (local !== undefined) return local;
  try {
    const { code, stdout } = await run('getent', ['passwd', name]);
    if (code === 0) return parsePasswd(stdout.split('\n')[0] ?? '');
  } catch {
    // No getent: the file was all there is.
  }
  return undefined;
}

async function readPasswd(name: string): Promise<Account | undefined> {
  let text: string;
  try {
    text = await readFile('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const prefix = `${name}:`;
  const line = text.split('\n').find((entry) => entry.startsWith(prefix));
  return line === undefined ? undefined : parsePasswd(line);
}

/** The agent's own account. */
export function selfAccount(): Account {
  const info = userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid, home: info.homedir, shell: info.shell ?? '/bin/sh' };
}

/** Creations of ssm-user in flight, so that two sessions starting at once make it once. */
const creating = new Map<string, Promise<Account>>();

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function createSsmUser(name: string, options: UserOptions): Promise<Account> {
  const shell = (await exists('/bin/bash')) ? '/bin/bash' : '/bin/sh';
  let result;
  try {
    result = await run('useradd', ['-m', '-s', shell, name]);
  } catch (error) {
    throw new RunAsError(`Cannot create the user ${name} on this instance: useradd failed (${(error as Error).message})`);
  }
  // 9: the name is taken (made meanwhile by someone else): use it, and give no sudo right.
  const created = result.code === 0;
  if (!created && result.code !== 9) throw new RunAsError(`Cannot create the user ${name} on this instance: useradd exited ${result.code}: ${result.stderr.trim()}`);
  const account = await lookupUser(name);
  if (account === undefined) throw new RunAsError(`Created the user ${name}, but it cannot be found afterwards`);
  if (created) {
    options.log?.info(`Created the user ${name} (uid ${account.uid}) for sessions.`);
    if (options.ssmUserSudo ?? true) {
      const file = options.sudoersFile ?? SUDOERS_FILE;
      await writeSudoers(file, `${name} ALL=(ALL) NOPASSWD:ALL\n`);
      options.log?.info(`Gave ${name} passwordless sudo in ${file} (set "ssmUserSudo": false in the agent's config file to leave this out).`);
    }
  }
  return account;
}

/** Writes a sudoers drop-in, 0440, atomically (sudo skips names with a dot, so the temporary file is never read). */
async function writeSudoers(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o750 });
  const temporary = join(dirname(file), `.${Date.now().toString(36)}.tmp`);
  const handle = await open(temporary, 'wx', 0o440);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temporary, 0o440);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * The account a session's program runs as. RunAsError with the reason when it cannot: the
 * caller reports it as session-failed.
 */
export async function resolveRunAs(runAs: control.RunAs, options: UserOptions = {}, self: Account = selfAccount()): Promise<Identity> {
  const named = 'named' in runAs;
  if (named && runAs.user === 'root') throw new RunAsError('Run As root is not allowed: name another user');
  if (self.uid !== 0) {
    if (named && runAs.user !== self.name) {
      throw new RunAsError(
        `This agent runs as "${self.name}", not as root, so it can run sessions only as "${self.name}", not as Run As user "${runAs.user}": run the agent as root to use Run As`,
      );
    }
    return { account: self, switchUser: false };
  }
  if (named) {
    const account = await lookupUser(runAs.user);
    if (account === undefined) throw new RunAsError(`Run As user "${runAs.user}" does not exist on this instance`);
    if (account.uid === 0) throw new RunAsError(`Run As user "${runAs.user}" has uid 0 (root), which is not allowed`);
    return { account, switchUser: true };
  }
  const name = options.ssmUser ?? SSM_USER;
  let account = await lookupUser(name);
  if (account === undefined) {
    let pending = creating.get(name);
    if (pending === undefined) {
      pending = createSsmUser(name, options).finally(() => creating.delete(name));
      creating.set(name, pending);
    }
    account = await pending;
  }
  if (account.uid === 0) throw new RunAsError(`The user ${name} has uid 0 (root); sessions will not run as it`);
  return { account, switchUser: true };
}
