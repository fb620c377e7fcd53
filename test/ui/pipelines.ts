/** Pipelines the browser tests run. */
import { readFileSync } from 'node:fs';

export const seedText = readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8');

/** The seed with a typo on line 10: `frist`. */
export const typoText = `kind: Pipeline
jobs:
  first:
    image: busybox
    run: exit 0
  error:
    image: busybox
    run: exit 0
    dependsOn:
      - job: frist
`;

/** A job whose log has colours, many lines and a word to search for, then a follower. */
export const loggingPipeline = {
  kind: 'Pipeline',
  metadata: { name: 'colourful-logs', labels: { app: 'etl', tier: 'dev' } },
  jobs: {
    talk: {
      image: 'busybox',
      run: `printf '\\033[1;32mPASS\\033[0m suite starts\\n'; for i in $(seq 1 300); do echo "line $i"; done; printf '\\033[31mwarning\\033[0m: needle in the haystack\\n'; echo rows=300 >> "$CHAINR_OUTPUTS"`,
    },
    trickle: {
      image: 'busybox',
      run: 'for i in $(seq 1 12); do echo "tick $i"; sleep 0.5; done',
      dependsOn: [{ job: 'talk' }],
    },
  },
};

export const slowPipeline = {
  kind: 'Pipeline',
  metadata: { name: 'slow-count' },
  jobs: {
    count: { image: 'busybox', run: 'for i in $(seq 1 120); do echo "tick $i"; sleep 1; done' },
    report: { image: 'busybox', run: 'echo counted', dependsOn: [{ job: 'count' }] },
  },
};

export const failingPipeline = {
  kind: 'Pipeline',
  metadata: { name: 'nightly-load', labels: { app: 'warehouse' } },
  jobs: {
    extract: { image: 'busybox', run: 'echo extracting' },
    load: { image: 'busybox', run: 'echo loading; exit 3', dependsOn: [{ job: 'extract' }] },
    report: { image: 'busybox', run: 'echo report', dependsOn: [{ job: 'load' }] },
    restore: {
      image: 'busybox',
      run: 'echo restoring',
      dependsOn: [{ job: 'load', conditions: { failure: true } }],
    },
    cleanup: {
      image: 'busybox',
      run: 'echo cleanup',
      dependsOn: [{ job: 'restore', conditions: { always: true } }],
    },
  },
};

/**
 * `n` jobs: a `gate` that waits until the file `flag` exists, then `n - 1` jobs in layers of
 * `width` that complete at once (the noop executor), each depending on one or two jobs of the
 * layer before — so the test decides when the burst of transitions starts.
 */
export function bigPipeline(n: number, flag: string, width = 25) {
  type Spec = { image: string; run: string; executor?: string; dependsOn?: { job: string }[] };
  const jobs: Record<string, Spec> = {
    gate: { image: 'busybox', run: `while [ ! -f '${flag}' ]; do sleep 0.1; done` },
  };
  for (let i = 0; i < n - 1; i++) {
    const layer = Math.floor(i / width);
    const parents =
      layer === 0
        ? ['gate']
        : [...new Set([(i * 7) % width, (i * 3 + 1) % width])].map(
            (p) => `step-${p + (layer - 1) * width}`,
          );
    jobs[`step-${i}`] = {
      image: 'busybox',
      run: 'true',
      executor: 'noop',
      dependsOn: parents.map((job) => ({ job })),
    };
  }
  return { kind: 'Pipeline', metadata: { name: `big-${n}` }, jobs };
}

/** A job that writes a line every 20 ms until the file `flag` exists, then a last line. */
export function streamingPipeline(flag: string) {
  return {
    kind: 'Pipeline',
    metadata: { name: 'streaming-log' },
    jobs: {
      stream: {
        image: 'busybox',
        run: `i=0; while [ ! -f '${flag}' ]; do i=$((i + 1)); echo "tick $i"; sleep 0.02; done; echo 'stream ended'`,
      },
    },
  };
}

/** A job whose log has 100,000 lines, `row 1` to `row 100000`. */
export const hugeLogPipeline = {
  kind: 'Pipeline',
  metadata: { name: 'huge-log' },
  jobs: { huge: { image: 'busybox', run: "seq 1 100000 | sed 's/^/row /'" } },
};

/**
 * `prepare`, then `shard`, a matrix of 20 instances (`shard-01`...`shard-20`) of which 01-03 fail,
 * 04-08 wait until the file `flag` exists and the rest succeed at once; then `report`, always.
 */
export function matrixPipeline(flag: string) {
  const n = Array.from({ length: 20 }, (_, i) => String(i + 1).padStart(2, '0'));
  return {
    kind: 'Pipeline',
    metadata: { name: 'sharded-tests' },
    jobs: {
      prepare: { image: 'busybox', run: 'true' },
      shard: {
        image: 'busybox',
        run: `case "$CHAINR_MATRIX_N" in 01|02|03) exit 1 ;; 04|05|06|07|08) while [ ! -f '${flag}' ]; do sleep 0.1; done ;; esac`,
        matrix: { n },
        dependsOn: [{ job: 'prepare' }],
      },
      report: {
        image: 'busybox',
        run: 'echo reported',
        dependsOn: [{ job: 'shard', conditions: { always: true } }],
      },
    },
  };
}

/** The line `extract` repeats in its artifact, and how many times: 1,376,256 bytes (1.3 MiB). */
export const ARTIFACT_LINE = 'chainr artifact line\n';
export const ARTIFACT_LINES = 65_536;

/**
 * Data between jobs: `extract` stores an artifact that `count` receives; `count` declares none;
 * `broken` declares one and fails before writing it.
 */
export const artifactPipeline = {
  kind: 'Pipeline',
  metadata: { name: 'artifact-handover' },
  jobs: {
    extract: {
      image: 'busybox',
      run: `yes '${ARTIFACT_LINE.trimEnd()}' | head -n ${ARTIFACT_LINES} > lines.txt`,
      artifacts: [{ name: 'lines', path: 'lines.txt' }],
    },
    count: {
      image: 'busybox',
      run: 'wc -l < "$CHAINR_ARTIFACTS/extract/lines"',
      dependsOn: [{ job: 'extract' }],
      inputs: { artifacts: [{ from: 'extract', name: 'lines' }] },
    },
    broken: {
      image: 'busybox',
      run: 'echo giving up; exit 4',
      artifacts: [{ name: 'summary', path: 'summary.txt' }],
    },
  },
};
