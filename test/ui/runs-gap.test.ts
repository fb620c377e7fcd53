/**
 * The runs page after a disconnection long enough for the server to have let go of the events it
 * missed (CHAINR_MAX_EVENTS): told so by a `gap` event when it resumes, the page lists the runs
 * again, and the runs that came and ended meanwhile are on screen without a reload.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { submit, waitForEnd } from '../fixtures/api.ts';
import { EventStream, type SseEvent } from '../fixtures/event-stream.ts';
import { startTcpProxy, type TcpProxy } from '../fixtures/tcp-proxy.ts';
import { uiSession } from './session.ts';

// Redis trims the event stream by whole nodes of 100 entries: a few hundred events drop the first.
const session = uiSession({ CHAINR_MAX_EVENTS: '100' });
/** The browser's way to the server, cut to disconnect it. */
let network: TcpProxy;
beforeAll(async () => {
  network = await startTcpProxy(session.url);
});
afterAll(() => network?.close());

const pipeline = (name: string) => ({
  kind: 'Pipeline',
  metadata: { name },
  jobs: { step: { image: 'busybox', run: 'true' } },
});

/** The first event of `/api/events`, asked for with `lastEventId` when given. */
async function firstEvent(lastEventId?: string): Promise<SseEvent | undefined> {
  const stream = await EventStream.open(
    `${session.url}/api/events`,
    lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
  );
  try {
    return await stream.next(30_000);
  } finally {
    stream.close();
  }
}

it('lists the runs again when the events it missed are gone, and shows those that came meanwhile', async () => {
  const page = await session.open('/', { base: network.url });
  const live = page.getByRole('status').filter({ hasText: /Live|Reconnecting|Connecting/ });
  await live.getByText('Live').waitFor();

  // An event the page has seen, whose id a resuming reader sends back.
  const seen = firstEvent();
  const before = await submit(session.url, pipeline('before-the-gap'));
  const lastSeen = await seen;
  expect(lastSeen?.id).toEqual(expect.any(String));
  await waitForEnd(session.url, before.metadata.uid);
  await page.getByRole('row', { name: /before-the-gap/ }).waitFor();

  // The cut fails the page's requests of the moment (its event stream, its retries), as a drop would.
  session.expectProblems(/net::ERR_/);
  network.cut();
  await live.getByText('Reconnecting…').waitFor({ timeout: 20_000 });
  const during = [];
  for (let i = 0; i < 80; i++) during.push(await submit(session.url, pipeline('during-the-gap')));
  for (const run of during) await waitForEnd(session.url, run.metadata.uid);
  // The precondition, as any resuming reader sees it: the page's last event is no longer held.
  expect(await firstEvent(lastSeen?.id)).toMatchObject({ event: 'gap' });

  network.restore();
  await live.getByText('Live').waitFor({ timeout: 30_000 });
  await expect
    .poll(() => page.getByRole('row', { name: /during-the-gap/ }).count(), { timeout: 15_000 })
    .toBe(50); // a full first page (the page size) of them, the newest runs
}, 120_000);
