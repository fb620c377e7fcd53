/**
 * Opening a declared artifact is checked on what was opened, not only on the path: a process a
 * job left behind that swaps a directory of the path for a link to elsewhere, between the
 * worker's check and its open, gets nothing of elsewhere stored.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { openArtifact } from '../src/artifacts/transfer.ts';

/** Run once, right after the next path check: the swap a racing process would make. */
let afterCheck: (() => void) | undefined;

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsPromises>();
  return {
    ...actual,
    realpath: async (...args: Parameters<typeof actual.realpath>) => {
      const resolved = await actual.realpath(...args);
      if (String(args[0]).endsWith('secret')) {
        afterCheck?.();
        afterCheck = undefined;
      }
      return resolved;
    },
  };
});

const scratch = mkdtempSync(join(tmpdir(), 'chainr-artifact-open-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  afterCheck = undefined;
});

/** A job's working directory with `out/secret` (a file, or a directory with one), and elsewhere's. */
function layout(kind: 'file' | 'directory') {
  const base = mkdtempSync(join(scratch, `${kind}-`));
  const work = join(base, 'work');
  const elsewhere = join(base, 'elsewhere');
  for (const dir of [join(work, 'out'), elsewhere]) mkdirSync(dir, { recursive: true });
  const write = (dir: string, text: string) => {
    if (kind === 'file') return writeFileSync(join(dir, 'secret'), text);
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'inside'), text);
  };
  write(join(work, 'out'), "the job's own");
  write(elsewhere, 'not for the job');
  const swap = () => {
    renameSync(join(work, 'out'), join(work, 'out-before'));
    symlinkSync(elsewhere, join(work, 'out'));
  };
  return { work, swap };
}

it.each(['file', 'directory'] as const)(
  'refuses a %s whose path was swapped for a link out of the working directory after its check',
  async (kind) => {
    const { work, swap } = layout(kind);
    afterCheck = swap;
    await expect(openArtifact(work, 'out/secret')).rejects.toThrow(
      "out/secret leads outside the job's working directory",
    );
  },
);

it.each(['file', 'directory'] as const)('opens a %s that stayed where it was', async (kind) => {
  const { work } = layout(kind);
  const opened = await openArtifact(work, 'out/secret');
  expect(opened.kind).toBe(kind);
  if (opened.kind === 'file') {
    expect(await opened.file.readFile('utf8')).toBe("the job's own");
    await opened.file.close();
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of opened.body) chunks.push(chunk as Buffer);
    const tar = Buffer.concat(chunks).toString('latin1');
    expect(tar).toContain('./inside');
    expect(tar).toContain("the job's own");
  }
});
