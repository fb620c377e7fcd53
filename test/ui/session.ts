/**
 * One browser test file's world: `chainr up` (API, worker and the built UI in one process, with
 * its private Redis) and a headless Chromium, started before the file's tests and stopped after.
 * Each test opens a fresh page; after it, the page must have logged no console error, uncaught
 * exception or failed request.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { ensureBuilt } from '../../ui/ensure-built.ts';
import { startHttpService, type ChainrProcess } from '../fixtures/processes.ts';
import { chromiumMissing, launchBrowser, openPage, type WatchedPage } from './browser.ts';

export interface UiSession {
  /** The address of `chainr up`. */
  readonly url: string;
  /** Its data directory (Redis' files), free for the tests' own files too. */
  readonly dataDir: string;
  readonly browser: Browser;
  /** A fresh page at `path` (on `base`, default `url`). */
  open: (
    path: string,
    options?: { colorScheme?: 'light' | 'dark'; base?: string; width?: number; height?: number },
  ) => Promise<Page>;
  /** Problems the current test expects (e.g. the browser reporting a 401 before signing in). */
  expectProblems: (pattern: RegExp) => void;
}

export function uiSession(env: Record<string, string> = {}): UiSession {
  let chainr: (ChainrProcess & { url: string }) | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  let current: WatchedPage | undefined;
  let expected: RegExp | undefined;

  beforeAll(async () => {
    const missing = chromiumMissing();
    if (missing) throw new Error(missing);
    await ensureBuilt({ quiet: true });
    dataDir = mkdtempSync(join(tmpdir(), 'chainr-ui-'));
    const serviceEnv: Record<string, string> = {
      CHAINR_DATA_DIR: dataDir,
      CHAINR_CONCURRENCY: '8',
      ...env,
    };
    for (const name of ['REDIS_URL', 'REDIS_ADDR', 'REDIS_ADDRS']) serviceEnv[name] = '';
    // A machine busy with other work can take more than the default 30 s to start it.
    [chainr, browser] = await Promise.all([
      startHttpService('up', serviceEnv, { startTimeoutMs: 90_000 }),
      launchBrowser(),
    ]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await chainr?.kill('SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    const watched = current;
    const allowed = expected;
    current = undefined;
    expected = undefined;
    if (!watched) return;
    await watched.context.close();
    const problems = watched.problems.filter((p) => !allowed?.test(p));
    expect(problems, 'console errors, page errors or failed requests').toEqual([]);
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the UI session is used before it started');
    return value;
  };

  return {
    get url() {
      return started(chainr).url;
    },
    get dataDir() {
      return started(dataDir);
    },
    get browser() {
      return started(browser);
    },
    open: async (path, options = {}) => {
      current = await openPage(started(browser), options);
      await current.page.goto(`${options.base ?? started(chainr).url}${path}`);
      return current.page;
    },
    expectProblems: (pattern) => {
      expected = pattern;
    },
  };
}

/**
 * A second `chainr up`, with auth on: `token` is its one (operator) token. Started before the
 * calling file's tests (or describe block's) and stopped after; pages reach it with `base: url`.
 */
export function securedChainr(token: string): { readonly url: string } {
  let secured: (ChainrProcess & { url: string }) | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chainr-ui-auth-'));
    const tokens = join(dir, 'tokens.yaml');
    const digest = createHash('sha256').update(token).digest('hex');
    writeFileSync(tokens, `tokens:\n  - { name: ui-test, role: operator, sha256: ${digest} }\n`);
    const env: Record<string, string> = { CHAINR_DATA_DIR: dir, CHAINR_TOKENS_FILE: tokens };
    for (const name of ['REDIS_URL', 'REDIS_ADDR', 'REDIS_ADDRS']) env[name] = '';
    secured = await startHttpService('up', env, { startTimeoutMs: 90_000 });
  }, 120_000);

  afterAll(async () => {
    await secured?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return {
    get url() {
      if (!secured) throw new Error('the secured chainr is used before it started');
      return secured.url;
    },
  };
}
