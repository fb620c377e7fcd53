/** The runs list: newest first, live over SSE, filtered and paged by the server. */
import { useEffect, useRef, useState } from 'react';
import { navigate, useLocation, Link } from '../app/router.tsx';
import { runsHref, submitHref } from '../app/routes.ts';
import { api } from '../shared/api.ts';
import { useCapabilities } from '../shared/capabilities-context.tsx';
import { LiveIndicator } from '../shared/LiveIndicator.tsx';
import { Empty, ErrorState, Loading } from '../shared/states.tsx';
import { ALL_EVENTS_PATH } from '../../../src/api/client.ts';
import type { RunList, TransitionEvent } from '../../../src/api/wire.ts';
import { useBatched, useThrottled } from '../shared/use-batched.ts';
import { useEventStream } from '../shared/use-event-stream.ts';
import { useNow } from '../shared/use-now.ts';
import { useResource } from '../shared/use-resource.ts';
import {
  filterFromSearch,
  filterToSearch,
  isFiltered,
  supportedFilter,
  type RunFilter,
} from './filters.ts';
import { applyEvents } from '../shared/run-events.ts';
import { RunFilters } from './RunFilters.tsx';
import { RunsTable } from './RunsTable.tsx';
import { StatusCounts } from './StatusCounts.tsx';

export const PAGE_SIZE = 50;
/** Events this recent are applied again to a freshly loaded page, which may predate them. */
const REPLAY_MS = 5000;

export function RunsPage() {
  const { search } = useLocation();
  const capabilities = useCapabilities();
  const filter = supportedFilter(filterFromSearch(search), capabilities.runFilters);
  const filterKey = filterToSearch(filter);
  // Continue tokens of the pages before the current one; empty on the first (live) page.
  const [tokens, setTokens] = useState<string[]>([]);
  const token = tokens[tokens.length - 1];
  useEffect(() => setTokens([]), [filterKey]);
  useEffect(() => {
    document.title = 'Runs · chainr';
  }, []);

  const recent = useRef<{ event: TransitionEvent; at: number }[]>([]);
  const list = useResource(
    async (signal) => {
      const page = await api.listRuns({ limit: PAGE_SIZE, continue: token, ...filter }, { signal });
      const since = Date.now() - REPLAY_MS;
      recent.current = recent.current.filter((r) => r.at >= since);
      return {
        ...page,
        items: applyEvents(
          page.items,
          recent.current.map((r) => r.event),
        ).runs,
      };
    },
    [filterKey, token],
  );
  const counts = useResource(
    (signal) =>
      capabilities.runCounts
        ? api.countRuns({ signal }).then((body) => body.counts)
        : Promise.resolve(undefined),
    [capabilities.runCounts],
  );
  const current = useRef(list.data);
  current.current = list.data;

  const reloadList = useThrottled(list.reload, 1000);
  const reloadCounts = useThrottled(counts.reload, 1000);
  const onFirstPage = token === undefined;
  const apply = useBatched<TransitionEvent>((events) => {
    const at = Date.now();
    recent.current.push(...events.map((event) => ({ event, at })));
    if (recent.current.length > 5000) recent.current.splice(0, recent.current.length - 5000);
    const page = current.current;
    if (!page) return;
    const update = applyEvents(page.items, events);
    const next = { ...page, items: update.runs };
    current.current = next;
    list.set(() => next);
    if (onFirstPage && (update.unknown || (filter.status !== undefined && update.runTransitions)))
      reloadList();
    if (capabilities.runCounts && (update.runTransitions || update.unknown)) reloadCounts();
  });
  const live = useEventStream(ALL_EVENTS_PATH, ['run', 'job', 'gap'], (type, data) => {
    if (type !== 'gap') return apply(data as TransitionEvent);
    // Events were missed while disconnected and are no longer held: only a new list is right.
    reloadList();
    if (capabilities.runCounts) reloadCounts();
  });

  const runs = list.data?.items ?? [];
  const anyRunning = runs.some((r) => r.status === 'RUNNING' || r.status === 'PENDING');
  const now = useNow(anyRunning);
  const setFilter = (next: RunFilter) =>
    navigate(runsHref(filterToSearch(next)), { replace: true });

  return (
    <section className="page runs-page" aria-labelledby="runs-title">
      <header className="page-header">
        <h1 id="runs-title">Runs</h1>
        <LiveIndicator state={live} />
        <div className="spacer" />
        <Link href={submitHref} className="button button-primary">
          New run
        </Link>
      </header>
      {capabilities.runCounts && counts.data && (
        <StatusCounts
          counts={counts.data}
          selected={filter.status}
          onSelect={
            capabilities.runFilters.status
              ? (status) => setFilter({ ...filter, status })
              : undefined
          }
        />
      )}
      <RunFilters filter={filter} supports={capabilities.runFilters} onChange={setFilter} />
      <RunsBody
        list={list}
        filtered={isFiltered(filter)}
        now={now}
        onClearFilters={() => setFilter({})}
      />
      {list.data && (tokens.length > 0 || list.data.metadata.continue) && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            className="button"
            disabled={tokens.length === 0}
            onClick={() => setTokens((t) => t.slice(0, -1))}
          >
            ← Newer
          </button>
          <span className="muted">Page {tokens.length + 1}</span>
          <button
            type="button"
            className="button"
            disabled={!list.data.metadata.continue}
            onClick={() => {
              const next = list.data?.metadata.continue;
              if (next) setTokens((t) => [...t, next]);
            }}
          >
            Older →
          </button>
        </nav>
      )}
    </section>
  );
}

function RunsBody({
  list,
  filtered,
  now,
  onClearFilters,
}: {
  list: ReturnType<typeof useResource<RunList>>;
  filtered: boolean;
  now: number;
  onClearFilters: () => void;
}) {
  if (list.data === undefined && list.loading) return <Loading what="runs" />;
  if (list.data === undefined)
    return (
      <ErrorState title="The runs could not be loaded" error={list.error} onRetry={list.reload} />
    );
  if (list.data.items.length === 0) {
    return filtered ? (
      <Empty title="No run matches these filters">
        <button type="button" className="button" onClick={onClearFilters}>
          Clear filters
        </button>
      </Empty>
    ) : (
      <Empty title="No runs yet">
        <span>Submit a pipeline and follow it here, live.</span>
        <Link href={submitHref} className="button button-primary">
          Submit a pipeline
        </Link>
      </Empty>
    );
  }
  return <RunsTable runs={list.data.items} now={now} />;
}
