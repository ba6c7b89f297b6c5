/** The server's address: checked once, then turned into the API and control-channel URLs. */
import { isIP } from 'node:net';
import { control, data } from '@airlock/protocol';

export class EndpointError extends Error {
  override readonly name = 'EndpointError';
}

/** Whether a URL's hostname is this host's loopback (the only place plain http is allowed). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host.toLowerCase() === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1');
}

/**
 * The endpoint in canonical form (no trailing slash). Only http(s), no credentials, query or
 * fragment; plain http only to loopback, since the activation code and the control channel
 * would otherwise cross the network in clear (and the server itself refuses plain http there).
 */
export function normalizeEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointError(`The endpoint ${JSON.stringify(text)} is not a URL: give one like https://airlock.example.com:4100.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EndpointError(`The endpoint ${text} must be an https:// (or, on loopback, http://) URL.`);
  if (url.username !== '' || url.password !== '') throw new EndpointError('The endpoint URL must not carry a user name or password.');
  if (url.search !== '' || url.hash !== '') throw new EndpointError(`The endpoint ${text} must not have a query or fragment.`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new EndpointError(`Refusing plain http:// to ${url.hostname}, which is not loopback: use https:// and pin the server's CA with --ca-file.`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function isHttps(endpoint: string): boolean {
  return endpoint.startsWith('https:');
}

/** `POST {endpoint}/api/{service}/{operation}`. */
export function apiUrl(endpoint: string, service: string, operation: string): string {
  return `${endpoint}/api/${service}/${operation}`;
}

/** `ws(s)://…{CONTROL_PATH}`. */
export function controlUrl(endpoint: string): string {
  return `${endpoint.replace(/^http/, 'ws')}${control.CONTROL_PATH}`;
}

/** `ws(s)://…{DATA_PATH_AGENT}`: where the agent dials a session's data channel. */
export function dataUrl(endpoint: string): string {
  return `${endpoint.replace(/^http/, 'ws')}${data.DATA_PATH_AGENT}`;
}
