/**
 * The load balancer configurations of docs/deployment.md, working: Debian's nginx and HAProxy
 * each run deploy/'s file (addresses, ports and certificate paths replaced, nothing else) in
 * front of two server nodes on one PostgreSQL database, TLS at the balancer and again to the
 * nodes. Through each: API calls, an agent's registration and control channel (a WebSocket),
 * a session started through it whose client and agent meet on the node carrying it, and API
 * calls still answered once one node is killed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startCluster, temporaryDirectory, type Cluster } from '@airlock/testkit';

const TIMEOUT = { timeout: 180_000 };
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PROBE = fileURLToPath(new URL('./balancer-probe.js', import.meta.url));
const NODE_NAME = 'airlock-node.internal';

interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly nodeCert: string;
  readonly nodeKey: string;
  readonly frontCert: string;
  readonly frontKey: string;
  /** Certificate and key in one file, as HAProxy's `crt` wants. */
  readonly frontPem: string;
}

/** A test CA, a certificate for the nodes (the name the balancers check) and one for the front. */
async function makePki(dir: string): Promise<Pki> {
  const path = (name: string): string => join(dir, name);
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '2', '-subj', '/CN=Airlock test CA');
  const issue = async (name: string, subjectAltName: string): Promise<void> => {
    await writeFile(path(`${name}.ext`), `subjectAltName=${subjectAltName}\n`);
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${name}`);
    run('x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '2', '-out', path(`${name}.pem`), '-extfile', path(`${name}.ext`));
  };
  // The balancer checks the name; clients and agents reach a node at its advertised address.
  await issue('node', `DNS:${NODE_NAME},IP:127.0.0.1`);
  await issue('front', 'IP:127.0.0.1');
  const frontPem = path('front-with-key.pem');
  await writeFile(frontPem, (await readFile(path('front.pem'), 'utf8')) + (await readFile(path('front.key'), 'utf8')), { mode: 0o600 });
  return { dir, ca: path('ca.pem'), nodeCert: path('node.pem'), nodeKey: path('node.key'), frontCert: path('front.pem'), frontKey: path('front.key'), frontPem };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

/** deploy/`file` with each [from, to] replaced, failing when the file no longer has a `from`. */
async function deployFile(file: string, swaps: readonly (readonly [string, string])[]): Promise<string> {
  let text = await readFile(join(REPO, 'deploy', file), 'utf8');
  for (const [from, to] of swaps) {
    assert.ok(text.includes(from), `deploy/${file} no longer contains ${JSON.stringify(from)}`);
    text = text.split(from).join(to);
  }
  return text;
}

/** GET /healthz through the balancer over TLS, trusting the test CA: the status, or 0 when it cannot connect. */
function health(url: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { ca, timeout: 5000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', () => {
      resolve(0);
    });
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

interface Balancer {
  readonly name: 'nginx' | 'haproxy';
  /** Writes the configuration into `dir` and returns the command that runs it in the foreground. */
  configure(dir: string, pki: Pki, ports: { https: number; http: number }, nodes: readonly string[]): Promise<readonly string[]>;
}

const NGINX: Balancer = {
  name: 'nginx',
  configure: async (dir, pki, ports, nodes) => {
    const site = await deployFile('nginx/airlock.conf', [
      ['10.0.1.11:4100', nodes[0] ?? ''],
      ['10.0.1.12:4100', nodes[1] ?? ''],
      ['listen 443 ssl;', `listen 127.0.0.1:${String(ports.https)} ssl;`],
      ['listen 80;', `listen 127.0.0.1:${String(ports.http)};`],
      ['/etc/ssl/airlock/fullchain.pem', pki.frontCert],
      ['/etc/ssl/airlock/privkey.pem', pki.frontKey],
      ['/etc/airlock/nodes-ca.pem', pki.ca],
    ]);
    await writeFile(join(dir, 'airlock.conf'), site);
    for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, temp));
    // What /etc/nginx/nginx.conf would hold, in the test's own directory.
    await writeFile(
      join(dir, 'nginx.conf'),
      [
        'daemon off;',
        'user root;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')} warn;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((temp) => `  ${temp === 'body' ? 'client_body' : temp}_temp_path ${join(dir, temp)};`),
        `  include ${join(dir, 'airlock.conf')};`,
        '}',
      ].join('\n'),
    );
    return ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')];
  },
};

const HAPROXY: Balancer = {
  name: 'haproxy',
  configure: async (dir, pki, ports, nodes) => {
    const config = await deployFile('haproxy/haproxy.cfg', [
      ['10.0.1.11:4100', nodes[0] ?? ''],
      ['10.0.1.12:4100', nodes[1] ?? ''],
      ['bind :443 ', `bind 127.0.0.1:${String(ports.https)} `],
      ['bind :80', `bind 127.0.0.1:${String(ports.http)}`],
      ['/etc/haproxy/certs/airlock.pem', pki.frontPem],
      ['/etc/airlock/nodes-ca.pem', pki.ca],
    ]);
    await writeFile(join(dir, 'haproxy.cfg'), config);
    return ['haproxy', '-db', '-f', join(dir, 'haproxy.cfg')];
  },
};

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface Seen {
  readonly apiCalls: number;
  readonly ping: string;
  readonly streamUrl: string;
  readonly agentUrl: string;
  readonly output: string;
  readonly printed: string;
}

function runProbe(url: string, token: string, ca: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PROBE, url, token], { env: { ...process.env, NODE_EXTRA_CA_CERTS: ca }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`the probe exited with ${String(code)}: ${output}`));
        return;
      }
      resolve({ ...(JSON.parse(line) as Omit<Seen, 'printed'>), printed: output });
    });
  });
}

for (const balancer of [NGINX, HAPROXY]) {
  describe(`two nodes behind ${balancer.name}, with deploy/'s configuration`, () => {
    let pki: Pki;
    let cluster: Cluster | undefined;
    let process_: ChildProcess | undefined;
    let url = '';
    let log = '';
    const cleanups: (() => Promise<void>)[] = [];

    before(async () => {
      const dir = await temporaryDirectory('airlock-balancer-');
      cleanups.push(dir.remove);
      pki = await makePki(dir.path);
      const ports = { https: await freePort(), http: await freePort() };
      url = `https://127.0.0.1:${String(ports.https)}`;
      // Each node named, and advertising its own address (where sessions' data channels go).
      const nodePorts = [await freePort(), await freePort()];
      cluster = await startCluster({
        nodes: 2,
        flags: (index) => {
          const own = `127.0.0.1:${String(nodePorts[index])}`;
          return ['--listen', own, '--advertise-url', `https://${own}`, '--node-name', `node-${String(index)}`, '--tls-cert', pki.nodeCert, '--tls-key', pki.nodeKey, '--public-url', url];
        },
      });
      const nodes = cluster.nodes.map((node) => new URL(node.url).host);
      const [command = '', ...args] = await balancer.configure(dir.path, pki, ports, nodes);
      process_ = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      process_.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
      process_.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
      const ca = await readFile(pki.ca, 'utf8');
      // Bounded: the balancer listens, and its health checks find the nodes up.
      let status = 0;
      for (let tries = 0; tries < 100 && status !== 200 && process_.exitCode === null; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await health(url, ca);
      }
      assert.equal(status, 200, `${balancer.name} did not answer /healthz: ${log}`);
    });

    after(async () => {
      await stopProcess(process_);
      await cluster?.stop();
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('API calls, an agent registering and holding its control channel (WebSocket) through the balancer, and a session with output', TIMEOUT, async () => {
      assert.ok(cluster !== undefined);
      const seen = await runProbe(url, await cluster.rootToken(), pki.ca);
      assert.equal(seen.apiCalls, 6, seen.printed);
      assert.equal(seen.ping, 'Online', seen.printed);
      const nodeHosts = cluster.nodes.map((node) => new URL(node.url).host);
      const carrier = new URL(seen.streamUrl).host;
      assert.ok(nodeHosts.includes(carrier), `the client's data channel goes to a node itself: ${seen.streamUrl}`);
      assert.equal(new URL(seen.agentUrl).host, carrier, "the agent dials the client's node");
      assert.match(seen.output, /output through the cluster/);
    });

    test('with one node killed, the balancer sends every call to the other', TIMEOUT, async () => {
      assert.ok(cluster !== undefined);
      await cluster.nodes[0]?.kill();
      const ca = await readFile(pki.ca, 'utf8');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push(await health(url, ca));
      assert.deepEqual(statuses, Array<number>(8).fill(200), log);
    });
  });
}
