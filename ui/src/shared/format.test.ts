// @vitest-environment node
import { describe, expect, it } from 'vitest';
import {
  elapsed,
  formatBytes,
  formatDuration,
  formatRelative,
  plural,
  shortUid,
} from './format.ts';

describe('formatDuration', () => {
  it('writes each scale the way people read it', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(184_000)).toBe('3m 04s');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2h 05m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3600_000)).toBe('3d 4h');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(NaN)).toBe('—');
  });
});

describe('elapsed', () => {
  it('runs to now while not finished, and is undefined before the start', () => {
    const start = '2026-01-01T00:00:00.000Z';
    const now = Date.parse(start) + 5000;
    expect(elapsed(start, undefined, now)).toBe(5000);
    expect(elapsed(start, '2026-01-01T00:00:02.000Z', now)).toBe(2000);
    expect(elapsed(undefined, undefined, now)).toBeUndefined();
  });
});

describe('formatRelative', () => {
  const now = Date.parse('2026-06-15T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it('says how long ago, or how long until', () => {
    expect(formatRelative(ago(1000), now)).toBe('just now');
    expect(formatRelative(ago(42_000), now)).toBe('42 s ago');
    expect(formatRelative(ago(5 * 60_000), now)).toBe('5 min ago');
    expect(formatRelative(ago(3 * 3600_000), now)).toBe('3 h ago');
    expect(formatRelative(ago(2 * 86_400_000), now)).toBe('2 d ago');
    expect(formatRelative(ago(-9 * 3600_000), now)).toBe('in 9 h');
    expect(formatRelative(ago(30 * 86_400_000), now)).toMatch(/2026/);
    expect(formatRelative(undefined, now)).toBe('—');
  });
});

it('shortens uids to their random tail, and counts with the right word', () => {
  expect(shortUid('01a213a6-ac5e-7511-80fc-f1837936e1b8')).toBe('7936e1b8');
  expect(plural(1, 'job')).toBe('1 job');
  expect(plural(1500, 'job')).toBe('1,500 jobs');
});

describe('formatBytes', () => {
  it('writes sizes in binary units, as exact as they are', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(256 * 1024 ** 2)).toBe('256 MiB');
    expect(formatBytes(100 * 1024 ** 2 - 1)).toBe('100 MiB');
    expect(formatBytes(12.04 * 1024 ** 3)).toBe('12.0 GiB');
    expect(formatBytes(3 * 1024 ** 5)).toBe('3072 TiB');
    expect(formatBytes(-1)).toBe('—');
  });
});
