/**
 * A real OpenSSH server for tests: its own sshd on a loopback port, with a fresh host key, one
 * authorized client key, and nothing of the machine's configuration. The test reaches it only
 * through an Airlock session (ProxyCommand), as users do.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { temporaryDirectory } from './files.js';
import { within } from './wait.js';

export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  readonly port: number;
  /** The client's private key file (for ssh -i) and a known_hosts file that trusts this server. */
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly directory: string;
  stop(): Promise<void>;
}

/** A loopback port nobody listens on now (for a server that must be told its port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts sshd (as the current user, which must be root for sshd to run) and waits until it listens. */
export async function startSshd(user: string): Promise<TestSshd> {
  // sshd's privilege separation directory; systemd makes it at boot, a container may not have it.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const directory = await temporaryDirectory();
  const path = (name: string): string => join(directory.path, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path('host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path('client_key')]);
  const port = await freePort();
  const hostKey = (await readFile(path('host_key.pub'), 'utf8')).trim();
  await writeFile(path('authorized_keys'), await readFile(path('client_key.pub'), 'utf8'), { mode: 0o600 });
  // Sessions carry ssh to "localhost" on the instance: the known_hosts entry names both.
  await writeFile(path('known_hosts'), `[localhost]:${port},[127.0.0.1]:${port} ${hostKey}\n`);
  await writeFile(
    path('sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path('host_key')}`,
      `AuthorizedKeysFile ${path('authorized_keys')}`,
      `PidFile ${path('sshd.pid')}`,
      `AllowUsers ${user}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', path('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code) => reject(new Error(`sshd exited with ${code}: ${stderr}`))));
  await within(Promise.race([waitForPort(port), exited]), `sshd on port ${port}`);
  exited.catch(() => undefined);
  return {
    port,
    identityFile: path('client_key'),
    knownHostsFile: path('known_hosts'),
    directory: directory.path,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await directory.remove();
    },
  };
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}
