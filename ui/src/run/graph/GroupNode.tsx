/**
 * A fan-out group on the graph (fan-out-graph.ts): collapsed, one node with the group's status
 * and its instances' counts by status, and a button that expands it; expanded, a frame around its
 * instances with a button that collapses it again.
 */
import type { Node, NodeProps } from '@xyflow/react';
import { Handle, Position } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';
import { countByStatus, groupStatus, type FanOutGroup } from '../../../../src/core/fan-out.ts';
import { statusClass, statusLabel } from '../../shared/status.ts';
import { StatusIcon, statusIcon } from '../../shared/StatusBadge.tsx';
import { useStatuses } from './job-store.ts';

export interface GroupNodeData extends Record<string, unknown> {
  group: FanOutGroup;
}

export type GroupFlowNode = Node<GroupNodeData, 'fanout'>;
export type FrameFlowNode = Node<GroupNodeData, 'frame'>;

/** Expands or collapses a group on the graph, by its name. */
export const ToggleGroupContext = createContext<(group: string) => void>(() => undefined);

/** Ended statuses as their icon, the others as a word: `12 ✓ 3 ✕ 5 running`. */
function Counts({ group }: { group: FanOutGroup }) {
  const statuses = useStatuses(group.instances);
  return (
    <span className="group-counts">
      {countByStatus(statuses).map(([status, n]) => (
        <span key={status} className={statusClass(status)} title={`${n} ${statusLabel(status)}`}>
          {n}{' '}
          {status === 'RUNNING' || status === 'PENDING'
            ? statusLabel(status).toLowerCase()
            : statusIcon(status)}
        </span>
      ))}
    </span>
  );
}

const kindText = (group: FanOutGroup) => (group.kind === 'matrix' ? 'matrix' : 'forEach');

export const GroupNode = memo(function GroupNode({ data, selected }: NodeProps<GroupFlowNode>) {
  const { group } = data;
  const toggle = useContext(ToggleGroupContext);
  const status = groupStatus(useStatuses(group.instances));
  const size = group.instances.length;
  return (
    <div
      className={`job-node group-node ${statusClass(status)} ${selected ? 'selected' : ''}`}
      data-job={group.name}
      data-status={status}
      title={`${group.name}: ${kindText(group)} of ${size} instances, ${statusLabel(status)}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <StatusIcon status={status} />
      <span className="job-node-text">
        <span className="job-node-name">
          {group.name} <span className="group-size">×{size}</span>
        </span>
        <Counts group={group} />
      </span>
      <button
        type="button"
        className="icon-button group-toggle nodrag nopan"
        aria-label={`Expand ${group.name} into its ${size} instances`}
        title="Expand"
        onClick={(event) => {
          event.stopPropagation();
          toggle(group.name);
        }}
      >
        ⊞
      </button>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

export const FrameNode = memo(function FrameNode({ data }: NodeProps<FrameFlowNode>) {
  const { group } = data;
  const toggle = useContext(ToggleGroupContext);
  const size = group.instances.length;
  return (
    <div className="group-frame" role="group" aria-label={`${group.name}: ${size} instances`}>
      <span className="group-frame-title">
        {group.name} · {size} instances
        <button
          type="button"
          className="link-button group-toggle nodrag nopan"
          aria-label={`Collapse ${group.name} into one node`}
          onClick={(event) => {
            event.stopPropagation();
            toggle(group.name);
          }}
        >
          collapse
        </button>
      </span>
    </div>
  );
});
