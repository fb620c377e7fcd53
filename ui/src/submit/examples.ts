/** Pipelines to start from on the Submit page: the files of examples/, each checked by a test to be valid. */
import fallback from '../../../examples/fallback.yaml?raw';
import seed from '../../../examples/seed.json?raw';
import cleanup from '../../../examples/cleanup.yaml?raw';
import slow from '../../../examples/slow.yaml?raw';
import dataPipeline from '../../../examples/data-pipeline.yaml?raw';

export interface Example {
  id: string;
  title: string;
  text: string;
}

export const EXAMPLES: readonly Example[] = [
  { id: 'seed', title: 'Parallel jobs and a fallback (JSON)', text: seed },
  { id: 'fallback', title: 'Nightly load with a fallback (YAML)', text: fallback },
  { id: 'cleanup', title: 'Fan-in with a cleanup that always runs', text: cleanup },
  { id: 'slow', title: 'A minute-long run to follow live', text: slow },
  { id: 'data-pipeline', title: 'Files passed from job to job (artifacts)', text: dataPipeline },
];
