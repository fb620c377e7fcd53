/** The chainr processes (sched, work, …) currently alive, as the API lists them. */
import { useEffect } from 'react';
import { api } from '../shared/api.ts';
import { ObjectTable } from '../shared/ObjectTable.tsx';
import { Empty, ErrorState, Loading } from '../shared/states.tsx';
import { useNow } from '../shared/use-now.ts';
import { useResource } from '../shared/use-resource.ts';

export function InstancesPage() {
  const list = useResource((signal) => api.listInstances({ signal }), []);
  const now = useNow(true, 5000);
  useEffect(() => {
    document.title = 'Instances · chainr';
  }, []);
  useEffect(() => {
    const timer = window.setInterval(list.reload, 10_000);
    return () => window.clearInterval(timer);
  }, [list.reload]);
  return (
    <section className="page" aria-labelledby="instances-title">
      <header className="page-header">
        <h1 id="instances-title">Instances</h1>
        <span className="muted">refreshed every 10 s</span>
      </header>
      {list.data === undefined && list.loading ? (
        <Loading what="instances" />
      ) : list.data === undefined ? (
        <ErrorState
          title="The instances could not be loaded"
          error={list.error}
          onRetry={list.reload}
        />
      ) : list.data.items.length === 0 ? (
        <Empty title="No instances reported" />
      ) : (
        <ObjectTable items={list.data.items} now={now} />
      )}
    </section>
  );
}
