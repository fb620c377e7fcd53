/** One job on the graph: its status as colour and icon, its name, and how long it took. */
// The node's data is only its name; its live state comes from the JobStore (see job-store.ts).
import type { Node, NodeProps } from '@xyflow/react';
import { Handle, Position } from '@xyflow/react';
import { memo } from 'react';
import { elapsed, formatDuration } from '../../shared/format.ts';
import { statusClass, statusLabel } from '../../shared/status.ts';
import { StatusIcon } from '../../shared/StatusBadge.tsx';
import type { Job } from '../../../../src/api/wire.ts';
import { useNow } from '../../shared/use-now.ts';
import { useJob } from './job-store.ts';

export interface JobNodeData extends Record<string, unknown> {
  name: string;
}

export type JobFlowNode = Node<JobNodeData, 'job'>;

function Timing({ job }: { job: Job }) {
  const running = job.status === 'RUNNING';
  const now = useNow(running);
  const took = elapsed(job.startedAt, job.finishedAt, now);
  const details: string[] = [statusLabel(job.status)];
  if (job.exitCode !== undefined && job.exitCode !== 0) details.push(`exit ${job.exitCode}`);
  if (job.attempt !== undefined && job.attempt > 1) details.push(`attempt ${job.attempt}`);
  return (
    <span className="job-node-meta">
      <span>{details.join(' · ')}</span>
      {took !== undefined && <span className="numeric">{formatDuration(took)}</span>}
    </span>
  );
}

export const JobNode = memo(function JobNode({ data, selected }: NodeProps<JobFlowNode>) {
  const job = useJob(data.name);
  const status = job?.status;
  return (
    <div
      className={`job-node ${status ? statusClass(status) : 'status-draft'} ${selected ? 'selected' : ''}`}
      data-job={data.name}
      data-status={status ?? 'DRAFT'}
      title={status ? `${data.name}: ${statusLabel(status)}` : data.name}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {status && <StatusIcon status={status} />}
      <span className="job-node-text">
        <span className="job-node-name">{data.name}</span>
        {job && <Timing job={job} />}
      </span>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
