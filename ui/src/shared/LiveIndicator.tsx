/** Whether the page is receiving live updates. */
import type { StreamState } from './use-event-stream.ts';

const TEXT: Record<StreamState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Not live',
};

export function LiveIndicator({ state, endedText }: { state: StreamState; endedText?: string }) {
  const text = state === 'closed' && endedText ? endedText : TEXT[state];
  return (
    <span
      className={`live live-${state}`}
      role="status"
      aria-live="polite"
      title="Updates from the server as they happen"
    >
      <span className="live-dot" aria-hidden="true" />
      {text}
    </span>
  );
}
