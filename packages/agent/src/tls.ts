/** The CA an agent pins at registration (`--ca-file`): afterwards the only CA it trusts. */
import { X509Certificate } from 'node:crypto';

export interface PinnedCa {
  /** The certificates, PEM, one after another. */
  readonly pem: string;
  /** SHA-256 of each certificate, `AB:CD:…` as `openssl x509 -fingerprint -sha256` and the server print it. */
  readonly fingerprints: readonly string[];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a PEM bundle of one or more certificates; anything else is refused. */
export function parseCaBundle(text: string, source: string): PinnedCa {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  const fingerprints = blocks.map((block) => {
    try {
      return new X509Certificate(block).fingerprint256;
    } catch (error) {
      throw new Error(`${source} holds a certificate that does not parse: ${(error as Error).message}`, { cause: error });
    }
  });
  return { pem: `${blocks.join('\n')}\n`, fingerprints };
}

/**
 * TLS options for a pinned CA: `ca` replaces Node's trust store (and NODE_EXTRA_CA_CERTS), and
 * verification is forced on whatever NODE_TLS_REJECT_UNAUTHORIZED says.
 */
export function tlsOptions(caPem: string | undefined): { ca?: string; rejectUnauthorized: true } {
  return caPem === undefined ? { rejectUnauthorized: true } : { ca: caPem, rejectUnauthorized: true };
}

/** A connection error in words; certificate failures say what to do about them. */
export function describeNetworkError(error: unknown, pinned: boolean): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const tls = typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME|ALTNAME/.test(code);
  if (!tls) return code === undefined || message.includes(code) ? message : `${message} (${code})`;
  return pinned
    ? `the server's certificate does not chain to the pinned CA or does not name this host (${code}: ${message})`
    : `the server's certificate is not trusted (${code}: ${message}); pin the server's CA with --ca-file`;
}
