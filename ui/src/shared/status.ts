/** Run and job statuses: their order, labels and whether they have ended. */
import type { JobStatus, RunStatus } from '../../../src/core/types.ts';

export const RUN_STATUS_ORDER: readonly RunStatus[] = [
  'RUNNING',
  'PENDING',
  'FAILED',
  'CANCELED',
  'SUCCESSFUL',
];

/** Order of the segments of a progress strip: done work first, then what is left. */
export const JOB_STATUS_ORDER: readonly JobStatus[] = [
  'SUCCESSFUL',
  'FAILED',
  'CANCELED',
  'SKIPPED',
  'RUNNING',
  'PENDING',
];

export type AnyStatus = RunStatus | JobStatus;

const LABELS: Record<AnyStatus, string> = {
  PENDING: 'Pending',
  RUNNING: 'Running',
  SUCCESSFUL: 'Successful',
  FAILED: 'Failed',
  SKIPPED: 'Skipped',
  CANCELED: 'Canceled',
};

export const statusLabel = (status: AnyStatus) => LABELS[status] ?? status;

/** The CSS modifier of a status: `status-running`, … */
export const statusClass = (status: AnyStatus) => `status-${status.toLowerCase()}`;

export function isEnded(status: AnyStatus): boolean {
  return status !== 'PENDING' && status !== 'RUNNING';
}
