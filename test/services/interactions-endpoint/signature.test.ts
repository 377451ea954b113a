import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkSignature,
  MAX_CLOCK_SKEW_MS,
  MAX_SIGNATURE_AGE_MS,
  publicKeyFromHex,
} from '../../../src/services/interactions-endpoint/signature.ts';

/** Discord's Ed25519 check over `timestamp + body`, with a key made here as the Developer Portal shows it (hex). */

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const hex = Buffer.from(String(publicKey.export({ format: 'jwk' }).x), 'base64url').toString('hex');
const key = publicKeyFromHex(hex);
const body = Buffer.from('{"type":1}');
const now = 1_800_000_000_000;

function signedAt(ms: number, payload = body) {
  const timestamp = String(Math.floor(ms / 1000));
  const signature = sign(null, Buffer.concat([Buffer.from(timestamp), payload]), privateKey).toString('hex');
  return { signature, timestamp };
}

describe('interaction signatures', () => {
  it('accepts a request signed now with the application key', () => {
    expect(checkSignature(key, signedAt(now), body, now)).toBe('valid');
  });

  it('refuses missing headers, a changed body, a signature of another timestamp and garbage', () => {
    expect(checkSignature(key, { signature: undefined, timestamp: undefined }, body, now)).toBe('missing');
    expect(checkSignature(key, signedAt(now), Buffer.from('{"type":2}'), now)).toBe('invalid');
    const { signature } = signedAt(now);
    expect(checkSignature(key, { signature, timestamp: String(now / 1000 + 1) }, body, now)).toBe('invalid');
    expect(checkSignature(key, { signature: 'zz', timestamp: '1' }, body, now)).toBe('invalid');
  });

  it('refuses a replay of an old request and one dated too far ahead, within the bounds it accepts', () => {
    expect(checkSignature(key, signedAt(now - MAX_SIGNATURE_AGE_MS + 1000), body, now)).toBe('valid');
    expect(checkSignature(key, signedAt(now - MAX_SIGNATURE_AGE_MS - 1000), body, now)).toBe('stale');
    expect(checkSignature(key, signedAt(now + MAX_CLOCK_SKEW_MS - 1000), body, now)).toBe('valid');
    expect(checkSignature(key, signedAt(now + MAX_CLOCK_SKEW_MS + 1000), body, now)).toBe('stale');
  });

  it('takes the public key only as 64 hex characters', () => {
    expect(() => publicKeyFromHex('abc')).toThrow(/64 hex/);
    expect(() => publicKeyFromHex(hex.toUpperCase())).not.toThrow();
  });
});
