/**
 * Parameters in shell scripts: a corpus of the places a value stands in real scripts (after a
 * comment with an apostrophe, inside `$( … )` and backquotes, in heredocs, in `case`), run by
 * dash and bash with the environment chainr gives a job. Written as `"$CHAINR_PARAM_V"`, the value
 * arrives whole everywhere; written as `${{ params.v }}`, the script is refused at validation,
 * since no text pasted into a script is data in every one of these places.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyParams } from '../src/core/params.ts';
import { formatError, validatePipeline } from '../src/core/validate.ts';

/** Spaces to split on, a glob to expand, quotes, a command substitution, a newline. */
const VALUE = `two  words * it's "quoted" $(touch pwned) \`touch pwned\`\nsecond line`;
const REF = '"$CHAINR_PARAM_V"';

const CORPUS: Record<string, string> = {
  plain: `printf '%s\\n' ${REF}`,
  'after a comment with an apostrophe': `# it's the value:\nprintf '%s\\n' ${REF}`,
  'inside $( )': `out=$(printf '%s' ${REF})\nprintf '%s\\n' "$out"`,
  'inside "$( )"': `printf '%s\\n' "$(printf '%s' ${REF})"`,
  'inside backquotes': `out=\`printf '%s' ${REF}\`\nprintf '%s\\n' "$out"`,
  'in a heredoc': `cat <<EOF\n$CHAINR_PARAM_V\nEOF`,
  'after a heredoc with quotes in it': `cat >/dev/null <<'EOF'\nit's "open\nEOF\nprintf '%s\\n' ${REF}`,
  'between single-quoted strings': `printf '%s\\n' ''${REF}''`,
  'in case': `case ${REF} in *'$(touch'*) printf '%s\\n' ${REF};; *) echo no;; esac`,
  'in a loop over one word': `for w in ${REF}; do printf '%s\\n' "$w"; done`,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'chainr-params-'));
  // Files a glob would expand to.
  for (const f of ['a.txt', 'b.txt']) writeFileSync(join(dir, f), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (run: string) => ({ image: 'busybox', run });

describe.each(['dash', 'bash'])('a parameter in a script run by %s', (shell) => {
  it.each(Object.entries(CORPUS))('%s: arrives whole as "$CHAINR_PARAM_V"', (_where, run) => {
    const resolved = applyParams(job(run), { v: VALUE });
    const result = spawnSync(shell, ['-c', resolved.run ?? ''], {
      cwd: dir,
      // Not a socket on stdin: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...resolved.env },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${VALUE}\n`);
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });
});

describe('${{ params.v }} in run', () => {
  it.each(Object.entries(CORPUS))(
    '%s: is refused, naming the path and the variable',
    (_where, run) => {
      const pipeline = {
        kind: 'Pipeline',
        params: { v: {} },
        jobs: {
          a: job(
            run.replaceAll(REF, '${{ params.v }}').replaceAll('$CHAINR_PARAM_V', '${{ params.v }}'),
          ),
        },
      };
      const result = validatePipeline(pipeline);
      expect(result.ok ? [] : result.errors.map(formatError)).toEqual([
        'jobs.a.run: ${{ params.v }} is not substituted in run: parameters reach scripts as environment variables, write "$CHAINR_PARAM_V"',
      ]);
    },
  );
});
