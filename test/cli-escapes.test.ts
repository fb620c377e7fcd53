/**
 * Text anyone who may submit a run writes — its name, labels, its jobs' logs — printed by the
 * real `chainr` process: terminal control sequences (a title change, a screen clear, an OSC 52
 * clipboard write) are shown escaped, and passed through only with --raw.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { submit, waitForEnd } from './fixtures/api.ts';
import { cliTestbed, runChainr } from './fixtures/cli.ts';

const testbed = cliTestbed('cli-escapes');

const TITLE = '\x1b]0;owned\x07';
const CLEAR = '\x1b[2J\x1b[H';
const CLIPBOARD = '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

let uid: string;

beforeAll(async () => {
  const run = await submit(testbed.url(), {
    kind: 'Pipeline',
    metadata: { name: `nightly${TITLE}`, labels: { team: `data${CLEAR}` } },
    jobs: {
      main: {
        image: 'busybox',
        // printf turns the \033 and \007 written here into the bytes themselves.
        run: `printf 'before\\033]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\007after\\n\\033[2Jline 2\\n'`,
      },
    },
  });
  uid = run.metadata.uid;
  await waitForEnd(testbed.url(), uid);
});

const chainr = (args: string[]) =>
  runChainr([...args, '--server', testbed.url()], { NO_COLOR: '1' });

describe('the CLI, by default', () => {
  it.each([
    ['runs list', ['runs', 'list']],
    ['runs get', ['runs', 'get', '<uid>']],
    ['watch', ['watch', '<uid>']],
  ])('%s shows the name and labels with their control sequences escaped', async (_, args) => {
    const { code, stdout, stderr } = await chainr(args.map((a) => (a === '<uid>' ? uid : a)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(CONTROL);
    expect(stdout).toContain('nightly\\x1b]0;owned\\x07');
    if (args[0] === 'runs') expect(stdout).toContain('team=data\\x1b[2J\\x1b[H');
  });

  it('shows a job log with its control sequences escaped, its lines kept', async () => {
    for (const args of [
      ['logs', uid, 'main'],
      ['logs', uid],
    ]) {
      const { code, stdout } = await chainr(args);
      expect(code).toBe(0);
      expect(stdout).not.toMatch(CONTROL);
      expect(stdout).toContain('before\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07after\n');
      expect(stdout).toContain('\\x1b[2Jline 2\n');
    }
  });
});

describe('the CLI with --raw', () => {
  it('prints the log and the name as they are', async () => {
    const logs = await chainr(['logs', uid, 'main', '--raw']);
    expect(logs.stdout).toBe(`before${CLIPBOARD}after\n\x1b[2Jline 2\n`);
    const get = await chainr(['runs', 'get', uid, '--raw']);
    expect(get.stdout).toContain(`nightly${TITLE}`);
    expect(get.stdout).toContain(`team=data${CLEAR}`);
  });
});
