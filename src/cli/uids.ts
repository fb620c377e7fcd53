/** A run named on the command line by its uid, or by its start or end as the UI shows it. */
import type { ChainrClient } from '../api/client.ts';
import { CliError } from './context.ts';

const FULL_UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UID_PART = /^[0-9a-f-]{4,35}$/;

/** The uid of the one run whose uid is, starts with or ends with `given`. */
export async function resolveUid(client: ChainrClient, given: string): Promise<string> {
  const wanted = given.toLowerCase();
  if (FULL_UID.test(wanted)) return wanted;
  if (!UID_PART.test(wanted)) {
    throw new CliError(
      `not a run uid: "${given}" (a uid, or at least 4 of its first or last characters)`,
    );
  }
  const { items } = await client.listRuns({ uid: wanted, limit: 10 });
  const [only, ...others] = items;
  if (only && others.length === 0) return only.metadata.uid;
  if (!only) throw new CliError(`no run's uid starts or ends with ${given}`);
  throw new CliError(
    `${given} names more than one run: give more of its uid`,
    undefined,
    items.map((r) => `  ${r.metadata.uid}  ${r.metadata.name ?? '-'}  ${r.status}`),
  );
}
