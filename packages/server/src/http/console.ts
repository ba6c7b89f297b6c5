/**
 * The web console's files (packages/web's build, `npm run build`): hashed files under /assets/,
 * which browsers may keep for a year, and index.html for every other GET path, since the app
 * routes by path itself. Everything is read into memory (and gzipped) once at start: the build
 * is small, and no request path ever reaches the file system.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

interface StaticFile {
  readonly body: Buffer;
  readonly gzipped: Buffer;
  readonly type: string;
  readonly immutable: boolean;
}

export interface ConsoleFiles {
  /** index.html with `__CSP_NONCE__` where each answer's nonce goes. */
  readonly index: string;
  /** By URL path: `/assets/index-3f2a1c.js`, `/favicon.svg`. */
  readonly files: ReadonlyMap<string, StaticFile>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const NONCE_SLOT = '__CSP_NONCE__';

/** The build's directory: packages/web/build, found through the workspace's @airlock/web. */
export function defaultConsoleDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@airlock/web/package.json')), 'build');
}

const loaded = new Map<string, Promise<ConsoleFiles | undefined>>();

/** The console's files, or undefined when the web app has not been built there; read once a process (tests start many servers). */
export function loadConsole(dir: string): Promise<ConsoleFiles | undefined> {
  let files = loaded.get(dir);
  if (files === undefined) loaded.set(dir, (files = readConsole(dir)));
  return files;
}

async function readConsole(dir: string): Promise<ConsoleFiles | undefined> {
  let index: string;
  try {
    index = await readFile(join(dir, 'index.html'), 'utf8');
  } catch {
    return undefined;
  }
  const files = new Map<string, StaticFile>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'index.html') continue;
    const type = TYPES[extname(entry.name)];
    if (type === undefined) continue;
    const path = join(entry.parentPath, entry.name);
    const urlPath = `/${path.slice(dir.length + 1).split('\\').join('/')}`;
    const body = await readFile(path);
    files.set(urlPath, { body, gzipped: gzipSync(body, { level: 9 }), type, immutable: urlPath.startsWith('/assets/') });
  }
  return { index, files };
}

/**
 * The console's policy: scripts and styles only from files of this origin (no inline code: an
 * injected <script> or on* attribute does not run), style elements only with this answer's
 * nonce (the terminal makes some), style attributes (the terminal's colours), images also from data: URLs (the MFA QR code), connections
 * to this origin only (API and WebSockets) and, with several nodes, to the nodes' own URLs (a
 * session's data channel goes to the node carrying it), and no framing by anyone.
 */
export function consolePolicy(nonce: string, streamOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    // xterm.js sets a cell's 24-bit colours in a style attribute; an attribute can style, not run script.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...streamOrigins].join(' '),
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What every answer carries, API ones included. */
export function addSecurityHeaders(reply: FastifyReply, tls: boolean): void {
  // Over TLS, browsers keep to HTTPS for this host for a year (plain HTTP is only ever loopback).
  if (tls) void reply.header('strict-transport-security', 'max-age=31536000');
  void reply.headers({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // Another site's window gets no handle on ours, nor may it embed our files.
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Invitation and reset links carry their token in the query: never pass the URL on.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cache-control': 'no-store',
  });
}

export function serveConsole(app: FastifyInstance, files: ConsoleFiles | undefined, streamOrigins: () => readonly string[] = () => []): void {
  app.get('/*', async (request, reply) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    if (path.startsWith('/api/')) return notFound(reply, `No route for GET ${path}. The API is POST /api/{service}/{Operation}.`);
    if (files === undefined) {
      return reply.code(503).type('text/plain; charset=utf-8').send('The web console has not been built: run `npm run build` in the Airlock repository, then restart the server.\n');
    }
    const file = files.files.get(path);
    if (file !== undefined) return sendFile(request, reply, file);
    if (path.startsWith('/assets/')) return notFound(reply, `There is no file ${path}: the console was rebuilt since this page loaded; reload it.`);
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('content-security-policy', consolePolicy(nonce, streamOrigins()))
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(files.index.replaceAll(NONCE_SLOT, nonce));
  });
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  void reply.type(file.type).header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache').header('vary', 'accept-encoding');
  const acceptsGzip = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
  return acceptsGzip ? reply.header('content-encoding', 'gzip').send(file.gzipped) : reply.send(file.body);
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ __type: 'UnknownOperationException', message });
}
