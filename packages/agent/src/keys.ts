/** The agent's identity: an Ed25519 key pair made at registration. The private key never leaves the host. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { control, data } from '@airlock/protocol';

export interface KeyPair {
  /** PKCS#8 PEM, for private-key.pem. */
  readonly privateKeyPem: string;
  /** base64 of the SubjectPublicKeyInfo DER: what RegisterManagedInstance takes as PublicKey. */
  readonly publicKey: string;
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** Reads private-key.pem; anything but an Ed25519 private key is refused. */
export function loadPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('The private key file does not hold a PEM private key; register again with --force.');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`The private key is ${key.asymmetricKeyType ?? 'not asymmetric'}, not Ed25519; register again with --force.`);
  return key;
}

/** base64 SPKI DER of the public half, as registered. */
export function publicKeyOf(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).toString('base64');
}

/** The hello's signature: base64 Ed25519 over signedChallenge(nonce, instanceId). */
export function signChallenge(privateKey: KeyObject, nonce: string, instanceId: string): string {
  return sign(null, Buffer.from(control.signedChallenge(nonce, instanceId), 'utf8'), privateKey).toString('base64');
}

/** A data channel's Auth signature: base64 Ed25519 over agentDataChallenge(sessionId, instanceId, nonce). */
export function signDataChallenge(privateKey: KeyObject, sessionId: string, instanceId: string, nonce: string): string {
  return sign(null, Buffer.from(data.agentDataChallenge(sessionId, instanceId, nonce), 'utf8'), privateKey).toString('base64');
}
