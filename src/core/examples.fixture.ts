/** The examples of the repository's examples/ folder, inlined for the tests. */

/** examples/seed.json. */
export const SEED_EXAMPLE = `{
  "kind": "Pipeline",
  "metadata": {
    "name": "seed"
  },
  "jobs": {
    "first": {
      "image": "busybox",
      "run": "exit 0"
    },
    "second": {
      "image": "busybox",
      "run": "exit 0"
    },
    "success": {
      "dependsOn": [{
        "job": "first"
      }],
      "image": "busybox",
      "run": "exit 0"
    },
    "error": {
      "dependsOn": [{
        "job": "first",
        "conditions": {
          "failure": true
        }
      }],
      "image": "busybox",
      "run": "exit 0"
    }
  }
}`;

/** examples/fallback.yaml */
export const FALLBACK_YAML = `# A nightly load with a fallback: when "load" fails, "restore" runs and "report" is skipped.
kind: Pipeline
metadata:
  name: nightly-fallback
jobs:
  extract:
    image: busybox
    run: echo extracting; sleep 1
  load:
    image: busybox
    run: echo loading; exit 1
    dependsOn:
      - job: extract
  report:
    image: busybox
    run: echo all good
    dependsOn:
      - job: load
  restore:
    image: busybox
    run: echo "restoring yesterday's snapshot"
    dependsOn:
      - job: load
        conditions:
          failure: true
`;
