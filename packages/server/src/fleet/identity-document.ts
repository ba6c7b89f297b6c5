/**
 * EC2 instance identity documents (cloud join): the JSON the instance metadata service serves at
 * /latest/dynamic/instance-identity/document, and AWS's signatures over it, checked against the
 * public certificates the server is configured with (AWS publishes one per region).
 *
 * Two forms are accepted:
 *   - PKCS7: a CMS SignedData (RFC 5652) with the document embedded, as served base64 (without
 *     PEM lines) at /rsa2048 (RSA, SHA-256) or /pkcs7 (DSA, SHA-1). AWS encodes it in BER with
 *     indefinite lengths, so the reader below is a small BER reader, not DER only.
 *   - RSA-SHA256: the bare RSA PKCS#1 v1.5 SHA-256 signature over the document bytes, served
 *     at /signature.
 *
 * Only the configured certificates count: certificates embedded in a SignedData are ignored
 * (anyone can embed one). The certificates are pinned keys, as AWS's own instructions use them
 * (`openssl smime -verify -noverify`): no chain, no validity dates.
 */
import { createHash, verify, type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { ApiError } from '@airlock/protocol';

/* ---------------------------------------------------------------- a small BER reader */

/** One TLV. `bytes` is the whole element (header included); `content` its value. */
interface Element {
  /** The identifier octet (class, constructed bit and tag number below 31). */
  readonly tag: number;
  readonly constructed: boolean;
  readonly indefinite: boolean;
  readonly bytes: Buffer;
  readonly content: Buffer;
  /** Constructed: the elements inside. */
  readonly children: readonly Element[];
}

class BerError extends Error {
  override readonly name = 'BerError';
}

const MAX_DEPTH = 24;

/** Reads one element at `offset`; returns it and the offset after it. */
function readElement(buffer: Buffer, offset: number, depth: number): { element: Element; next: number } {
  if (depth > MAX_DEPTH) throw new BerError('nested too deeply');
  const start = offset;
  const tag = buffer[offset++];
  if (tag === undefined) throw new BerError('truncated (no tag)');
  if ((tag & 0x1f) === 0x1f) throw new BerError(`tag numbers above 30 are not used in a SignedData (at byte ${start})`);
  const constructed = (tag & 0x20) !== 0;
  const first = buffer[offset++];
  if (first === undefined) throw new BerError('truncated (no length)');
  if (first === 0x80) {
    if (!constructed) throw new BerError(`a primitive element with an indefinite length (at byte ${start})`);
    const children: Element[] = [];
    for (;;) {
      if (offset + 2 > buffer.length) throw new BerError('truncated (no end-of-contents)');
      if (buffer[offset] === 0 && buffer[offset + 1] === 0) {
        offset += 2;
        break;
      }
      const { element, next } = readElement(buffer, offset, depth + 1);
      children.push(element);
      offset = next;
    }
    const bytes = buffer.subarray(start, offset);
    const content = buffer.subarray(start + 2, offset - 2);
    return { element: { tag, constructed, indefinite: true, bytes, content, children }, next: offset };
  }
  let length = first;
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new BerError(`a length of ${count} bytes (at byte ${start})`);
    if (offset + count > buffer.length) throw new BerError('truncated (in a length)');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buffer[offset++] ?? 0);
  }
  const end = offset + length;
  if (end > buffer.length) throw new BerError(`truncated: an element of ${length} bytes at byte ${start} runs past the end`);
  const content = buffer.subarray(offset, end);
  const children: Element[] = [];
  if (constructed) {
    let at = offset;
    while (at < end) {
      const { element, next } = readElement(buffer, at, depth + 1);
      if (next > end) throw new BerError(`an element overruns its parent (at byte ${at})`);
      children.push(element);
      at = next;
    }
  }
  return { element: { tag, constructed, indefinite: false, bytes: buffer.subarray(start, end), content, children }, next: end };
}

/** The one element `buffer` holds; anything after it is refused. */
function readAll(buffer: Buffer): Element {
  const { element, next } = readElement(buffer, 0, 0);
  if (next !== buffer.length) throw new BerError(`${buffer.length - next} bytes after the end of the SignedData`);
  return element;
}

const TAG = { INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18, SEQUENCE: 0x30, SET: 0x31 } as const;
const context = (n: number, constructed = true): number => 0x80 | (constructed ? 0x20 : 0) | n;

function expect(element: Element | undefined, tag: number, what: string): Element {
  if (element === undefined) throw new BerError(`${what} is missing`);
  if (element.tag !== tag) throw new BerError(`${what} has tag 0x${element.tag.toString(16)}, not 0x${tag.toString(16)}`);
  return element;
}

function oid(element: Element | undefined, what: string): string {
  const bytes = expect(element, TAG.OID, what).content;
  if (bytes.length === 0) throw new BerError(`${what} is an empty OID`);
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new BerError(`${what} has an arc too large`);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  if ((bytes[bytes.length - 1] ?? 0) & 0x80) throw new BerError(`${what} ends inside an arc`);
  return arcs.join('.');
}

/** An OCTET STRING's bytes, primitive or (BER) constructed from pieces. */
function octets(element: Element | undefined, what: string): Buffer {
  if (element === undefined) throw new BerError(`${what} is missing`);
  if (element.tag === TAG.OCTET_STRING) return element.content;
  if (element.tag === (TAG.OCTET_STRING | 0x20)) return Buffer.concat(element.children.map((child) => octets(child, what)));
  throw new BerError(`${what} is not an OCTET STRING`);
}

/* ---------------------------------------------------------------- algorithms */

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
} as const;

const DIGESTS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms: the key type, and the digest the algorithm fixes (undefined: the SignerInfo's). */
const SIGNATURES: Readonly<Record<string, { readonly key: 'rsa' | 'dsa'; readonly digest?: string }>> = {
  '1.2.840.113549.1.1.1': { key: 'rsa' },
  '1.2.840.113549.1.1.5': { key: 'rsa', digest: 'sha1' },
  '1.2.840.113549.1.1.11': { key: 'rsa', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', digest: 'sha512' },
  '1.2.840.10040.4.1': { key: 'dsa' },
  '1.2.840.10040.4.3': { key: 'dsa', digest: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { key: 'dsa', digest: 'sha256' },
};

/* ---------------------------------------------------------------- SignedData */

export interface VerifiedSignature {
  /** The signed content: the identity document's bytes. */
  readonly content: Buffer;
  /** The configured certificate whose key verified the signature. */
  readonly certificate: X509Certificate;
  /** The signingTime attribute, epoch milliseconds, when there is one. */
  readonly signingTime: number | undefined;
}

function invalidSignature(message: string): ApiError {
  return new ApiError('InvalidIdentityDocumentSignature', message);
}

function time(element: Element | undefined): number | undefined {
  if (element === undefined) return undefined;
  const text = element.content.toString('latin1');
  let match: RegExpExecArray | null;
  if (element.tag === TAG.UTC_TIME && (match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)) !== null) {
    const year = Number(match[1]);
    return Date.UTC(year < 50 ? 2000 + year : 1900 + year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]));
  }
  if (element.tag === TAG.GENERALIZED_TIME && (match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)) !== null) {
    return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]));
  }
  return undefined;
}

/** Who the SignerInfo says signed, for messages: the serial number (hex), or the key identifier. */
function signerName(sid: Element): string {
  if (sid.tag === TAG.SEQUENCE) {
    const serial = sid.children[1];
    if (serial?.tag === TAG.INTEGER) return `the certificate with serial number ${serial.content.toString('hex').replace(/^(00)+(?=.)/, '').toUpperCase()}`;
  }
  if (sid.tag === context(0, false)) return `the certificate with key identifier ${sid.content.toString('hex').toUpperCase()}`;
  return 'an unnamed certificate';
}

function checkAlgorithmParameters(algorithm: Element, what: string): void {
  // Parameters: absent or NULL for every algorithm accepted here.
  const parameters = algorithm.children[1];
  if (algorithm.children.length > 2 || (parameters !== undefined && parameters.tag !== TAG.NULL)) throw new BerError(`${what} has unexpected parameters`);
}

/**
 * Verifies a CMS/PKCS#7 SignedData (BER or DER) with embedded content against the configured
 * certificates; returns the content. Refusals are ApiErrors (InvalidIdentityDocumentSignature)
 * that say what was wrong.
 */
export function verifySignedData(der: Buffer, certificates: readonly X509Certificate[]): VerifiedSignature {
  try {
    return verifyParsed(der, certificates);
  } catch (error) {
    if (error instanceof BerError) throw invalidSignature(`The PKCS7 signature is not a well-formed SignedData: ${error.message}.`);
    throw error;
  }
}

function verifyParsed(der: Buffer, certificates: readonly X509Certificate[]): VerifiedSignature {
  const contentInfo = expect(readAll(der), TAG.SEQUENCE, 'ContentInfo');
  if (oid(contentInfo.children[0], 'contentType') !== OID.signedData) throw new BerError('the ContentInfo is not a SignedData');
  const wrapper = expect(contentInfo.children[1], context(0), 'the SignedData');
  const signedData = expect(wrapper.children[0], TAG.SEQUENCE, 'SignedData');
  const [version, digestAlgorithms, encapContentInfo, ...rest] = signedData.children;
  expect(version, TAG.INTEGER, 'the SignedData version');
  expect(digestAlgorithms, TAG.SET, 'digestAlgorithms');
  const encap = expect(encapContentInfo, TAG.SEQUENCE, 'encapContentInfo');
  if (oid(encap.children[0], 'eContentType') !== OID.data) throw new BerError('the signed content is not of type data');
  const eContent = encap.children[1];
  if (eContent === undefined) throw invalidSignature('The PKCS7 signature is detached: it must embed the identity document (the /rsa2048 or /pkcs7 form).');
  const content = octets(expect(eContent, context(0), 'eContent').children[0], 'eContent');
  // certificates [0] and crls [1] are skipped: only the configured certificates count.
  const signerInfos = expect(rest.find((element) => element.tag === TAG.SET), TAG.SET, 'signerInfos');
  if (signerInfos.children.length !== 1) throw new BerError(`${signerInfos.children.length} SignerInfos; exactly one is expected`);
  const signerInfo = expect(signerInfos.children[0], TAG.SEQUENCE, 'SignerInfo');
  const [, sid, digestAlgorithm, ...fields] = signerInfo.children;
  if (sid === undefined) throw new BerError('the SignerInfo names no signer');
  const digestAlgorithmElement = expect(digestAlgorithm, TAG.SEQUENCE, 'digestAlgorithm');
  const digestOid = oid(digestAlgorithmElement.children[0], 'digestAlgorithm');
  checkAlgorithmParameters(digestAlgorithmElement, 'digestAlgorithm');
  const digest = DIGESTS[digestOid];
  if (digest === undefined) throw invalidSignature(`The PKCS7 signature uses digest ${digestOid}; SHA-1 and SHA-2 are accepted.`);

  let field = fields.shift();
  let signedAttributes: Element | undefined;
  if (field?.tag === context(0)) {
    signedAttributes = field;
    field = fields.shift();
  }
  const signatureAlgorithm = expect(field, TAG.SEQUENCE, 'signatureAlgorithm');
  const signatureOid = oid(signatureAlgorithm.children[0], 'signatureAlgorithm');
  checkAlgorithmParameters(signatureAlgorithm, 'signatureAlgorithm');
  const scheme = SIGNATURES[signatureOid];
  if (scheme === undefined) throw invalidSignature(`The PKCS7 signature uses algorithm ${signatureOid}; RSA and DSA are accepted.`);
  if (scheme.digest !== undefined && scheme.digest !== digest) throw new BerError(`the signature algorithm hashes with ${scheme.digest}, the SignerInfo with ${digest}`);
  const signature = octets(fields.shift(), 'signature');

  let signed: Buffer = content;
  let signingTime: number | undefined;
  if (signedAttributes !== undefined) {
    if (signedAttributes.indefinite) throw new BerError('the signed attributes are not DER (indefinite length)');
    const attributes = new Map<string, Element[]>();
    for (const attribute of signedAttributes.children) {
      const sequence = expect(attribute, TAG.SEQUENCE, 'a signed attribute');
      const type = oid(sequence.children[0], 'a signed attribute type');
      if (attributes.has(type)) throw new BerError(`the signed attribute ${type} appears twice`);
      attributes.set(type, [...expect(sequence.children[1], TAG.SET, `the values of ${type}`).children]);
    }
    const contentType = attributes.get(OID.contentType);
    if (contentType?.length !== 1 || oid(contentType[0], 'the contentType attribute') !== OID.data) throw new BerError('the contentType attribute is missing or not data');
    const messageDigest = attributes.get(OID.messageDigest);
    if (messageDigest?.length !== 1) throw new BerError('the messageDigest attribute is missing');
    const expected = createHash(digest).update(content).digest();
    const stated = octets(messageDigest[0], 'the messageDigest attribute');
    if (!expected.equals(stated)) throw invalidSignature('The signed document has been altered: its digest differs from the messageDigest the signature covers.');
    const signingTimes = attributes.get(OID.signingTime);
    signingTime = signingTimes?.length === 1 ? time(signingTimes[0]) : undefined;
    // The signature covers the DER of the attributes as a SET (RFC 5652 §5.4), not as [0].
    signed = Buffer.concat([Buffer.from([TAG.SET]), signedAttributes.bytes.subarray(1)]);
  }

  for (const certificate of certificates) {
    const key = certificate.publicKey;
    if (key.asymmetricKeyType !== scheme.key) continue;
    let ok = false;
    try {
      ok = verify(digest, signed, key, signature);
    } catch {
      ok = false;
    }
    if (ok) return { content, certificate, signingTime };
  }
  throw invalidSignature(
    `The PKCS7 signature does not verify with any configured certificate (it names ${signerName(sid)}): the document was forged or altered, or the certificate of its region is not configured.`,
  );
}

/** Verifies AWS's bare RSA-SHA256 signature (the /signature endpoint) over the document's bytes. */
export function verifyRsaSignature(document: Buffer, signature: Buffer, certificates: readonly X509Certificate[]): X509Certificate {
  for (const certificate of certificates) {
    const key = certificate.publicKey;
    if (key.asymmetricKeyType !== 'rsa') continue;
    let ok = false;
    try {
      ok = verify('sha256', document, key, signature);
    } catch {
      ok = false;
    }
    if (ok) return certificate;
  }
  throw invalidSignature('The RSA-SHA256 signature does not verify with any configured certificate: the document was forged or altered, or the certificate of its region is not configured.');
}

/* ---------------------------------------------------------------- the document */

/** What Airlock takes from a verified identity document. */
export interface InstanceIdentity {
  readonly instanceId: string;
  readonly accountId: string;
  readonly region: string;
  readonly availabilityZone: string | undefined;
  readonly privateIp: string | undefined;
  /** pendingTime: when the instance last launched (started), epoch milliseconds. */
  readonly pendingTime: number;
  readonly instanceType: string | undefined;
  readonly imageId: string | undefined;
  readonly architecture: string | undefined;
}

export const MAX_DOCUMENT_BYTES = 8 * 1024;
export const EC2_INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const ACCOUNT_ID = /^\d{12}$/;
/** us-east-1, us-gov-west-1, cn-north-1, ap-southeast-4, eusc-de-east-1… */
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

function invalidDocument(message: string): ApiError {
  return new ApiError('InvalidIdentityDocument', message);
}

function optionalString(document: Record<string, unknown>, key: string): string | undefined {
  const value = document[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > 256) throw invalidDocument(`The identity document's ${key} is not a string.`);
  return value;
}

function requiredString(document: Record<string, unknown>, key: string, pattern: RegExp, example: string): string {
  const value = document[key];
  if (typeof value !== 'string') throw invalidDocument(`The identity document has no ${key}.`);
  if (!pattern.test(value)) throw invalidDocument(`The identity document's ${key} ${JSON.stringify(value.slice(0, 64))} is not one (like ${example}).`);
  return value;
}

/** Parses and checks an identity document's JSON (already verified, or about to be). */
export function parseIdentityDocument(bytes: Buffer): InstanceIdentity {
  if (bytes.length > MAX_DOCUMENT_BYTES) throw invalidDocument(`The identity document is larger than ${MAX_DOCUMENT_BYTES} bytes.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalidDocument('The identity document is not JSON (UTF-8).');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidDocument('The identity document is not a JSON object.');
  const document = parsed as Record<string, unknown>;
  const instanceId = requiredString(document, 'instanceId', EC2_INSTANCE_ID, 'i-0123456789abcdef0');
  const accountId = requiredString(document, 'accountId', ACCOUNT_ID, '123456789012');
  const region = requiredString(document, 'region', REGION, 'us-east-1');
  const pendingText = requiredString(document, 'pendingTime', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/, '2024-05-01T12:00:00Z');
  const pendingTime = Date.parse(pendingText);
  if (!Number.isFinite(pendingTime)) throw invalidDocument(`The identity document's pendingTime ${pendingText} is not a date.`);
  const availabilityZone = optionalString(document, 'availabilityZone');
  if (availabilityZone !== undefined && !availabilityZone.startsWith(region)) {
    throw invalidDocument(`The identity document's availabilityZone ${availabilityZone} is not in its region ${region}.`);
  }
  const privateIp = optionalString(document, 'privateIp');
  if (privateIp !== undefined && isIP(privateIp) === 0) throw invalidDocument(`The identity document's privateIp ${privateIp.slice(0, 64)} is not an IP address.`);
  return {
    instanceId,
    accountId,
    region,
    availabilityZone,
    privateIp,
    pendingTime,
    instanceType: optionalString(document, 'instanceType'),
    imageId: optionalString(document, 'imageId'),
    architecture: optionalString(document, 'architecture'),
  };
}

export const SIGNATURE_FORMATS = ['PKCS7', 'RSA-SHA256'] as const;
export type SignatureFormat = (typeof SIGNATURE_FORMATS)[number];

export interface VerifiedIdentity extends InstanceIdentity {
  /** The subject of the configured certificate that verified it, for the record. */
  readonly verifiedBy: string;
}

/** Strict base64 (what the metadata service serves, with its line breaks removed). */
export function decodeBase64(text: string, what: string): Buffer {
  const compact = text.replace(/[\r\n ]/g, '');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length === 0 || bytes.toString('base64') !== compact) throw invalidSignature(`${what} is not base64.`);
  return bytes;
}

/**
 * Verifies a document and its signature (base64, in the given format) against the configured
 * certificates, then parses the document. A PKCS7 signature must embed exactly these bytes.
 */
export function verifyIdentityDocument(document: string, signature: string, format: SignatureFormat, certificates: readonly X509Certificate[]): VerifiedIdentity {
  const bytes = Buffer.from(document, 'utf8');
  if (bytes.length > MAX_DOCUMENT_BYTES) throw invalidDocument(`The identity document is larger than ${MAX_DOCUMENT_BYTES} bytes.`);
  const signatureBytes = decodeBase64(signature, 'The signature');
  let certificate: X509Certificate;
  if (format === 'PKCS7') {
    const verified = verifySignedData(signatureBytes, certificates);
    if (!verified.content.equals(bytes)) {
      throw invalidDocument('The identity document differs from the one its PKCS7 signature holds: send it exactly as the metadata service served it.');
    }
    certificate = verified.certificate;
  } else {
    certificate = verifyRsaSignature(bytes, signatureBytes, certificates);
  }
  return { ...parseIdentityDocument(bytes), verifiedBy: certificate.subject.replace(/\n/g, ', ') };
}
