/**
 * `chainr token new | hash` as real processes, end to end: their entries go into the Helm chart's
 * auth.tokens, helm renders the Secret, and a `chainr sched` reading that Secret's tokens.yaml
 * accepts the tokens with their roles.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { sha256 } from '../src/http/auth/tokens.ts';
import { helm, helmBinary } from './fixtures/helm.ts';
import type { ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { START_TIMEOUT_MS, bearer, startService } from './gate-fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/chainr.js', import.meta.url));
const CHART = fileURLToPath(new URL('../deploy/helm/chainr', import.meta.url));

/** Runs `chainr ...args` with `input` on stdin. */
function chainr(
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((done) => child.once('close', (code) => done({ code, stdout, stderr })));
}

let dir: string;
let redis: TestRedis;
let sched: (ChainrProcess & { url: string }) | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'chainr-tokens-'));
});
afterAll(async () => {
  await sched?.kill();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('chainr token', () => {
  it('hashes the token on stdin exactly as the gate does, with or without a line ending', async () => {
    const token = 'a-token-of-thirty-two-characters';
    const [entry, ...plain] = await Promise.all([
      chainr(['token', 'hash', '--name', 'alice', '--role', 'admin'], token),
      ...[token, `${token}\n`, `${token}\r\n`].map((input) => chainr(['token', 'hash'], input)),
    ]);
    for (const out of plain) {
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toBe(`${sha256(token).toString('hex')}\n`);
    }
    expect(entry.stdout).toBe(
      `- { name: alice, role: admin, sha256: ${sha256(token).toString('hex')} }\n`,
    );
  });

  it('refuses what is not one strong token, and a name without a role', async () => {
    const cases = [
      [['hash'], '', 'no token on stdin'],
      [['hash'], 'short\n', 'too easy to guess'],
      [['hash'], 'one-token-on-a-line\nanother-token-here\n', 'one token on one line'],
      [['hash', '--name', 'ci'], 'a-token-of-thirty-two-characters', '--name and --role'],
      [['new', '--role', 'viewer'], '', '--name and --role'],
    ] as const;
    const outs = await Promise.all(cases.map(([args, input]) => chainr(['token', ...args], input)));
    cases.forEach(([args, , message], i) => {
      expect(outs[i]?.code, args.join(' ')).toBe(3);
      expect(outs[i]?.stdout).toBe('');
      expect(outs[i]?.stderr).toContain(message);
    });
  });

  it('makes a new random token each time, printed once with its entry', async () => {
    const [a, b] = await Promise.all([chainr(['token', 'new']), chainr(['token', 'new'])]);
    const [tokenA, digestA] = a.stdout.trimEnd().split('\n');
    expect(tokenA).toMatch(/^[0-9a-f]{64}$/);
    expect(digestA).toBe(sha256(tokenA ?? '').toString('hex'));
    expect(b.stdout.split('\n')[0]).not.toBe(tokenA);
  });

  it(
    'makes entries that, through the chart’s Secret, let sched accept each token in its role',
    async () => {
      const made = await chainr(['token', 'new', '--name', 'ci', '--role', 'operator']);
      expect(made.code, made.stderr).toBe(0);
      const [operatorToken = '', operatorEntry = ''] = made.stdout.trimEnd().split('\n');
      expect(operatorEntry).toMatch(/^- \{ name: ci, role: operator, sha256: [0-9a-f]{64} \}$/);
      const viewerToken = 'grafana-reads-everything-0123456789';
      const hashed = await chainr(
        ['token', 'hash', '--name', 'grafana', '--role', 'viewer'],
        `${viewerToken}\n`,
      );
      expect(hashed.code, hashed.stderr).toBe(0);

      // The entries pasted into a values file under auth.tokens, rendered by helm.
      const values = join(dir, 'values.yaml');
      writeFileSync(values, `auth:\n  tokens:\n    ${operatorEntry}\n    ${hashed.stdout}`);
      const rendered = await helm(helmBinary(), ['template', 'chainr', CHART, '-f', values]);
      expect(rendered.code, rendered.stderr).toBe(0);
      const secret = parseAllDocuments(rendered.stdout)
        .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
        .find((d) => d?.kind === 'Secret' && d.metadata?.name === 'chainr-tokens') as
        { stringData: { 'tokens.yaml': string } } | undefined;
      expect(secret).toBeDefined();
      const tokensFile = join(dir, 'tokens.yaml');
      writeFileSync(tokensFile, secret?.stringData['tokens.yaml'] ?? '');

      redis = await startRedis();
      sched = await startService('sched', {
        REDIS_URL: redis.url,
        CHAINR_PREFIX: 'deploy-tokens:',
        CHAINR_TOKENS_FILE: tokensFile,
      });
      const runs = `${sched.url}/api/runs`;
      const submit = (token: string) =>
        fetch(runs, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(token) },
          // noop: with auth on, the local executor is not offered.
          body: JSON.stringify({
            kind: 'Pipeline',
            jobs: { a: { executor: 'noop', image: 'x', run: 'exit 0' } },
          }),
        });
      expect((await fetch(runs)).status).toBe(401);
      expect((await fetch(runs, { headers: bearer(`${operatorToken}x`) })).status).toBe(401);
      expect((await fetch(runs, { headers: bearer(viewerToken) })).status).toBe(200);
      expect((await fetch(runs, { headers: bearer(operatorToken) })).status).toBe(200);
      expect((await submit(viewerToken)).status).toBe(403);
      expect((await submit(operatorToken)).status).toBe(202);
    },
    START_TIMEOUT_MS,
  );
});
