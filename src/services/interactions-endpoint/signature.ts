import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * Discord signs every interaction it POSTs with the application's Ed25519 key: the signature
 * (`X-Signature-Ed25519`, hex) covers the `X-Signature-Timestamp` header followed by the raw body.
 * Checked with Node's own crypto; the key is the hex public key from the Developer Portal.
 */

/** DER prefix that turns a raw 32-byte Ed25519 public key into an SPKI structure Node can load. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** How old a signed timestamp may be: a captured request replayed later is refused. */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;
/** How far ahead of this machine's clock a timestamp may be (clocks drift a little). */
export const MAX_CLOCK_SKEW_MS = 30_000;

export function publicKeyFromHex(hex: string): KeyObject {
  const raw = Buffer.from(hex, 'hex');
  if (raw.length !== 32 || raw.toString('hex') !== hex.toLowerCase())
    throw new Error('an Ed25519 public key is 64 hex characters');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export type SignatureCheck = 'valid' | 'missing' | 'invalid' | 'stale';

export function checkSignature(
  key: KeyObject,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: Buffer,
  now = Date.now(),
): SignatureCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return 'missing';
  if (!/^[0-9a-f]{128}$/i.test(signature) || !/^\d{1,15}$/.test(timestamp)) return 'invalid';
  const signed = verify(
    null,
    Buffer.concat([Buffer.from(timestamp), body]),
    key,
    Buffer.from(signature, 'hex'),
  );
  if (!signed) return 'invalid';
  const signedAt = Number(timestamp) * 1000;
  if (signedAt < now - MAX_SIGNATURE_AGE_MS || signedAt > now + MAX_CLOCK_SKEW_MS) return 'stale';
  return 'valid';
}
