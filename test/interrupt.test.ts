/**
 * Interrupted, the benchmark and the chaos tool stop every process they started (redis-servers,
 * clients, chainr services): none is left running, even though their redis-server runs in a
 * process group of its own, out of reach of a terminal's Ctrl+C; and they remove their temporary
 * directories.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { descendants, isRunning, until } from './fixtures/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainr-interrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an interrupted bench or chaos run', () => {
  it.each([
    {
      command: 'npm run bench',
      args: ['bench/main.ts', '--quick', '--only', 'diamond', '--out', dir],
      signal: 'SIGTERM' as const,
      code: 143,
      // its redis-server and its client process
      started: (found: string[]) =>
        found.some((c) => c.startsWith('redis-server')) &&
        found.some((c) => c.includes('client.ts')),
    },
    {
      command: 'npm run chaos',
      args: ['src/chaos/main.ts', '--duration', '2m', '--report', join(dir, 'chaos.json')],
      signal: 'SIGINT' as const,
      code: 130,
      // its redis-server and its eight chainr services
      started: (found: string[]) =>
        found.some((c) => c.startsWith('redis-server')) &&
        found.filter((c) => c.includes('bin/chainr.js')).length >= 8,
    },
  ])(
    '$command, sent $signal, exits $code, leaving no process or temporary directory behind',
    { timeout: 90_000 },
    async ({ args, signal, code, started }) => {
      // Its own temporary directory, to see what it leaves there.
      const tmp = mkdtempSync(join(dir, 'tmp-'));
      const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
        stdio: 'ignore',
        env: { ...process.env, TMPDIR: tmp },
      });
      const exited = new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
      const pid = child.pid ?? 0;
      const processes = await until(
        () => {
          const found = descendants(pid);
          return started(found.map((p) => p.command)) && found;
        },
        'its processes to start',
        60_000,
      );
      child.kill(signal);
      expect(await exited).toBe(code);
      await until(
        () => processes.every((p) => !isRunning(p.pid)),
        () =>
          `its processes to stop: ${processes
            .filter((p) => isRunning(p.pid))
            .map((p) => `${p.command} (${p.pid})`)
            .join(', ')} still running`,
        20_000,
      );
      // Its temporary files (the redis-servers' directories, chaos's ledger) are gone too.
      expect(readdirSync(tmp).filter((name) => name.startsWith('chainr-'))).toEqual([]);
    },
  );
});
