import { describe, expect, it } from 'vitest';
import { addressAllowed, parseNetwork, type Network } from './destination.ts';

const networks = (...texts: string[]) => texts.map((t) => parseNetwork(t) as Network);

describe('addressAllowed', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '::1',
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    'fe80::1',
    'fd00::1',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    'not an address',
  ])('refuses %s by default', (address) => {
    expect(addressAllowed(address, [])).toBe(false);
  });

  it.each(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c', '::ffff:93.184.215.14'])(
    'allows the public address %s',
    (address) => {
      expect(addressAllowed(address, [])).toBe(true);
    },
  );

  it('allows what the deployment lists, and only that', () => {
    const allow = networks('127.0.0.1', '10.20.0.0/16', 'fd00::/8');
    expect(addressAllowed('127.0.0.1', allow)).toBe(true);
    expect(addressAllowed('::ffff:127.0.0.1', allow)).toBe(true);
    expect(addressAllowed('127.0.0.2', allow)).toBe(false);
    expect(addressAllowed('10.20.3.4', allow)).toBe(true);
    expect(addressAllowed('10.21.0.1', allow)).toBe(false);
    expect(addressAllowed('fd12::1', allow)).toBe(true);
    expect(addressAllowed('::1', allow)).toBe(false);
  });

  it('parses addresses and networks, and nothing else', () => {
    expect(parseNetwork('10.0.0.0/8')?.[1]).toBe(8);
    expect(parseNetwork('::1')?.[1]).toBe(128);
    for (const bad of ['10.0.0.0/33', 'localhost', '10.0.0', ''])
      expect(parseNetwork(bad)).toBeUndefined();
  });
});
