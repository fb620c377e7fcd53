import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion, completionTree, zshCompletion } from './completion.ts';
import { readCliEnv, type CliContext } from './context.ts';
import { buildProgram } from './program.ts';

const ctx: CliContext = {
  env: readCliEnv({}),
  stdout: { write: () => true },
  stderr: { write: () => true },
  stdin: process.stdin,
  interrupt: new AbortController(),
};
const program = buildProgram(ctx);

const hasShell = (shell: string) => spawnSync(shell, ['-c', 'true']).status === 0;

/** What bash completes for a command line (the cursor at its end) with the generated script. */
function bashComplete(line: string): string[] {
  const words = line.split(' ');
  const script = `${bashCompletion(program)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_chainr; printf '%s\\n' "\${COMPREPLY[@]}"`;
  // PATH without chainr: completing run uids quietly finds none
  const result = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

describe('completionTree', () => {
  it('covers every command with its subcommands, options and argument choices', () => {
    const tree = completionTree(program);
    const paths = tree.map((n) => n.path);
    for (const p of [
      'chainr',
      'chainr up',
      'chainr submit',
      'chainr runs list',
      'chainr runs retry',
      'chainr completion',
    ]) {
      expect(paths).toContain(p);
    }
    const submit = tree.find((n) => n.path === 'chainr submit');
    expect(submit?.options.find((o) => o.flags.includes('--file'))?.value).toEqual({
      kind: 'file',
    });
    expect(submit?.options.find((o) => o.flags.includes('--output'))?.value).toEqual({
      kind: 'words',
      words: ['json', 'yaml'],
    });
    expect(submit?.options.find((o) => o.flags.includes('--watch'))?.value).toEqual({
      kind: 'none',
    });
    expect(tree.find((n) => n.path === 'chainr completion')?.args).toEqual([
      { kind: 'words', words: ['bash', 'zsh'] },
    ]);
    expect(tree.find((n) => n.path === 'chainr runs get')?.args).toEqual([{ kind: 'uid' }]);
    expect(tree.find((n) => n.path === 'chainr logs')?.args).toEqual([
      { kind: 'uid' },
      { kind: 'job' },
    ]);
  });
});

describe.skipIf(!hasShell('bash'))('bash completion', () => {
  it('completes commands, subcommands (and aliases), options and their values', () => {
    expect(bashComplete('chainr ')).toEqual(
      expect.arrayContaining(['submit', 'runs', 'logs', 'up', 'completion']),
    );
    expect(bashComplete('chainr ru')).toEqual(['runs']);
    expect(bashComplete('chainr runs ')).toEqual(
      expect.arrayContaining(['list', 'get', 'cancel', 'retry', 'resubmit']),
    );
    expect(bashComplete('chainr runs ls --st')).toEqual(['--status']);
    expect(bashComplete('chainr submit --w')).toEqual(['--watch']);
    expect(bashComplete('chainr submit -f p.yaml -o ')).toEqual(['json', 'yaml']);
    expect(bashComplete('chainr completion ')).toEqual(expect.arrayContaining(['bash', 'zsh']));
  });

  it('completes file names after --file', () => {
    expect(bashComplete('chainr validate --file /etc/host')).toEqual(
      expect.arrayContaining(['/etc/hosts']),
    );
  });
});

describe('zsh completion', () => {
  it('describes commands and options, and is valid zsh where zsh is installed', () => {
    const script = zshCompletion(program);
    expect(script.startsWith('#compdef chainr\n')).toBe(true);
    expect(script).toContain(
      "'submit:Schedule a run of a pipeline file (YAML or JSON), and optionally follow it'",
    );
    expect(script).toContain("'chainr runs ls') cmd='chainr runs list' ;;");
    expect(script).toContain("'chainr submit -f'|'chainr submit --file') _files; return ;;");
    if (hasShell('zsh')) expect(spawnSync('zsh', ['-n', '-c', script]).status).toBe(0);
  });
});
