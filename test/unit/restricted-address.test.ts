// The restricted-host rule's address classification (upstream §3.7), table-driven: every form of a loopback,
// private or otherwise special address is refused, public unicast addresses pass. Expected verdicts written by hand
// from the IANA special-purpose registries.
import { expect } from 'chai';
import { parseFlinkMemorySize } from '../../api/flink-config.js';
import { isRestrictedAddress } from '../../api/validation/jar-uri.js';

const restricted: [string, string][] = [
  ['127.0.0.1', 'IPv4 loopback'],
  ['127.255.0.9', 'anywhere in 127/8'],
  ['0.0.0.0', 'unspecified'],
  ['10.1.2.3', 'private 10/8'],
  ['172.31.255.255', 'the end of 172.16/12'],
  ['172.16.0.1', 'private 172.16/12'],
  ['192.168.1.1', 'private 192.168/16'],
  ['169.254.169.254', 'link-local: the cloud metadata endpoint'],
  ['100.64.0.1', 'shared address space (CGNAT)'],
  ['224.0.0.1', 'multicast'],
  ['240.0.0.1', 'reserved 240/4'],
  ['255.255.255.255', 'limited broadcast'],
  ['192.0.2.1', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['::1', 'IPv6 loopback'],
  ['::', 'IPv6 unspecified'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback in hex'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata endpoint'],
  ['::127.0.0.1', 'IPv4-compatible loopback (deprecated form)'],
  ['::7f00:1', 'IPv4-compatible loopback in hex'],
  ['64:ff9b::7f00:1', 'NAT64 of loopback'],
  ['64:ff9b::8.8.8.8', 'NAT64 of anything: a translator reaches what it embeds'],
  ['2002:7f00:1::', '6to4 of loopback'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ['fe80::1', 'IPv6 link-local'],
  ['fe80::1%eth0', 'IPv6 link-local with a zone'],
  ['fc00::1', 'unique local'],
  ['fd12:3456::1', 'unique local'],
  ['fec0::1', 'deprecated site-local'],
  ['ff02::1', 'IPv6 multicast'],
  ['2001:db8::1', 'IPv6 documentation'],
  ['not-an-address', 'not an address at all'],
];
const allowed: [string, string][] = [
  ['8.8.8.8', 'public IPv4'],
  ['172.32.0.1', 'just past 172.16/12'],
  ['2606:4700::1111', 'public IPv6'],
  ['151.101.1.69', 'public IPv4'],
  ['2606:4700:4700::1111', 'public IPv6'],
  ['2a00:1450:4001:82b::200e', 'public IPv6'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public address'],
];

describe('restricted jar-host addresses (ipaddr.js)', () => {
  for (const [address, what] of restricted)
    it(`refuses ${address} (${what})`, () => expect(isRestrictedAddress(address)).to.equal(true));
  for (const [address, what] of allowed)
    it(`allows ${address} (${what})`, () => expect(isRestrictedAddress(address)).to.equal(false));
});

describe('memory sizes read as Flink reads them', () => {
  for (const [text, bytes] of [
    ['1g', 2 ** 30],
    ['2048m', 2048 * 2 ** 20],
    ['100', 100],
    ['1 kb', 1024],
  ] as const) {
    it(`${text} is ${bytes} bytes`, () => expect(parseFlinkMemorySize(text)).to.equal(bytes));
  }
  for (const text of ['1constructor', '1toString', '1__proto__', '1hasOwnProperty', '1x', 'g']) {
    it(`${JSON.stringify(text)} is not a memory size (no lookup reaches a built-in property)`, () =>
      expect(parseFlinkMemorySize(text)).to.equal(undefined));
  }
});
