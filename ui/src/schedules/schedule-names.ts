/**
 * The names of the schedules, for the runs they created (labelled `chainr.io/schedule=<id>`):
 * read once for the page, and again when a run names a schedule not seen yet.
 */
import { useEffect, useState } from 'react';
import type { Schedule } from '../../../src/api/wire.ts';
import { api } from '../shared/api.ts';

/** The label a schedule puts on the runs it creates. */
export const SCHEDULE_LABEL = 'chainr.io/schedule';

/** A schedule's name as the UI shows it: its own, else its pipeline's. */
export const scheduleName = (schedule: Schedule): string =>
  schedule.metadata.name ?? schedule.pipeline.metadata?.name ?? schedule.metadata.uid;

/** A schedule not listed yet is looked for again at most this often. */
const REREAD_MS = 10_000;

let names: Promise<Map<string, string>> | undefined;
let readAt = 0;

function read(): Promise<Map<string, string>> {
  readAt = Date.now();
  names = api.listSchedules().then(
    (list) => new Map(list.items.map((s) => [s.metadata.uid, scheduleName(s)])),
    // Without schedules (an older server, no permission) the label is shown as it is.
    () => new Map(),
  );
  return names;
}

/** The name of the schedule `id`, once known; undefined for none or an unknown one. */
export function useScheduleName(id: string | undefined): string | undefined {
  const [name, setName] = useState<string>();
  useEffect(() => {
    if (id === undefined) return;
    let live = true;
    void (async () => {
      let known = await (names ?? read());
      if (!known.has(id) && Date.now() - readAt > REREAD_MS) known = await read();
      if (live) setName(known.get(id));
    })();
    return () => {
      live = false;
    };
  }, [id]);
  return name;
}
