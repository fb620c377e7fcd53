// @vitest-environment node
import { expect, it, vi } from 'vitest';
import { JobStore } from './job-store.ts';

it('notifies only the listeners of jobs whose object changed', () => {
  const a = { name: 'a', status: 'PENDING' as const };
  const b = { name: 'b', status: 'PENDING' as const };
  const store = new JobStore([a, b]);
  const onA = vi.fn();
  const onB = vi.fn();
  const stop = store.subscribe('a', onA);
  store.subscribe('b', onB);
  const a2 = { ...a, status: 'RUNNING' as const };
  store.update([a2, b]);
  expect(onA).toHaveBeenCalledTimes(1);
  expect(onB).not.toHaveBeenCalled();
  expect(store.get('a')).toBe(a2);
  stop();
  store.update([{ ...a2, status: 'SUCCESSFUL' as const }, b]);
  expect(onA).toHaveBeenCalledTimes(1);
});
