import { describe, expect, it } from 'vitest';
import { hasPrivateHostLiteral, isPrivateAddress } from '../../src/services/network-guard.ts';

describe('network guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '0.0.0.0',
  ])('refuses %s', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '151.101.1.1', '2606:4700::1111'])('allows %s', (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );

  it('spots private IP literals in URLs, including bracketed IPv6', () => {
    expect(hasPrivateHostLiteral(new URL('https://127.0.0.1/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://[::1]/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://videos.example.com/x.mp4'))).toBe(false);
  });
});
