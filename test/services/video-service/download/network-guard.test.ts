import { describe, expect, it } from 'vitest';
import {
  hasPrivateHostLiteral,
  isPrivateAddress,
  publicOnlyLookup,
  specialRangeOf,
} from '../../../../src/services/video-service/download/network-guard.ts';

describe('network guard', () => {
  it.each([
    ['0.0.0.0', 'this network'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['172.20.0.1', 'private'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', '6to4 relay anycast'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('refuses IPv4 %s (%s)', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fec0::1', 'deprecated site-local fec0::/10'],
    ['fd00::1', 'unique local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard'],
  ])('refuses IPv6 %s (%s)', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each([
    ['::ffff:127.0.0.1', 'IPv4-mapped ::ffff:0:0/96'],
    ['::ffff:8.8.8.8', 'IPv4-mapped, even of a public address'],
    ['::ffff:7f00:1', 'IPv4-mapped in hex'],
    ['::127.0.0.1', 'IPv4-compatible ::/96'],
    ['::a00:1', 'IPv4-compatible ::/96 in hex'],
    ['::ffff:0:a00:1', 'IPv4-translated ::ffff:0:0:0/96'],
    ['64:ff9b::10.0.0.1', 'NAT64 64:ff9b::/96'],
    ['64:ff9b::7f00:1', 'NAT64 64:ff9b::/96 in hex'],
    ['64:ff9b:1::a00:1', 'local NAT64 64:ff9b:1::/48'],
    ['2002:7f00:1::1', '6to4 2002::/16 of 127.0.0.1'],
    ['2002:808:808::1', '6to4 2002::/16 of a public address'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo 2001::/32'],
  ])('refuses IPv6 %s that embeds an IPv4 address (%s)', (address) =>
    expect(isPrivateAddress(address)).toBe(true),
  );

  it.each(['8.8.8.8', '151.101.1.1', '1.1.1.1', '2606:4700::1111', '2a00:1450:4001:80b::200e'])(
    'allows the public unicast address %s',
    (address) => expect(isPrivateAddress(address)).toBe(false),
  );

  it('refuses anything that is not an IP address, and names the range it refused', () => {
    expect(isPrivateAddress('videos.example.com')).toBe(true);
    expect(specialRangeOf('10.0.0.1')).toBe('private');
    expect(specialRangeOf('2002:7f00:1::1')).toBe('6to4');
    expect(specialRangeOf('8.8.8.8')).toBeUndefined();
  });

  it('spots non-public IP literals in URLs, including bracketed IPv6', () => {
    expect(hasPrivateHostLiteral(new URL('https://127.0.0.1/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://[::1]/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://[64:ff9b::a00:1]/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://[::ffff:10.0.0.1]/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://0x7f000001/x.mp4'))).toBe(true);
    expect(hasPrivateHostLiteral(new URL('https://8.8.8.8/x.mp4'))).toBe(false);
    expect(hasPrivateHostLiteral(new URL('https://videos.example.com/x.mp4'))).toBe(false);
  });

  it('refuses at connect time a name that resolves only to non-public addresses', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      publicOnlyLookup('localhost', {}, (failure) => resolve(failure)),
    );
    expect(error?.code).toBe('EPRIVATEADDRESS');
  });
});
