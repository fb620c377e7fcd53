/** Pipelines to start from on the Submit page. Each is checked by a test to be valid. */
import fallback from '../../../examples/fallback.yaml?raw';
import seed from '../../../examples/seed.json?raw';

export interface Example {
  id: string;
  title: string;
  text: string;
}

const cleanup = `# Three extracts in parallel, a load that needs all of them, and a cleanup that always runs.
kind: Pipeline
metadata:
  name: warehouse-refresh
  labels: { app: etl, tier: dev }
jobs:
  extract-orders: { image: busybox, run: echo orders; sleep 1 }
  extract-users: { image: busybox, run: echo users; sleep 2 }
  extract-events: { image: busybox, run: echo events; sleep 1 }
  load:
    image: busybox
    run: echo loading everything
    dependsOn: [{ job: extract-orders }, { job: extract-users }, { job: extract-events }]
  cleanup:
    image: busybox
    run: echo removing temporary tables
    dependsOn: [{ job: load, conditions: { always: true } }]
`;

const slow = `# A run that takes a minute: watch it live, open its log, or cancel it.
kind: Pipeline
metadata:
  name: slow-count
jobs:
  count:
    image: busybox
    run: for i in $(seq 1 60); do echo "tick $i"; sleep 1; done
  report:
    image: busybox
    run: echo counted
    dependsOn: [{ job: count }]
`;

export const EXAMPLES: readonly Example[] = [
  { id: 'seed', title: 'Parallel jobs and a fallback (JSON)', text: seed },
  { id: 'fallback', title: 'Nightly load with a fallback (YAML)', text: fallback },
  { id: 'cleanup', title: 'Fan-in with a cleanup that always runs', text: cleanup },
  { id: 'slow', title: 'A minute-long run to follow live', text: slow },
];
