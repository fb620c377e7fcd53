// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { matchRoute, runHref, runsHref, pipelineHref } from './routes.ts';

const UID = '01a213a6-ac5e-7511-80fc-f1837936e1b8';

describe('routes', () => {
  it('maps every page address to its route', () => {
    expect(matchRoute('/')).toEqual({ page: 'runs' });
    expect(matchRoute('/runs')).toEqual({ page: 'runs' });
    expect(matchRoute('/submit')).toEqual({ page: 'submit' });
    expect(matchRoute('/schedules')).toEqual({ page: 'schedules' });
    expect(matchRoute('/instances')).toEqual({ page: 'instances' });
    expect(matchRoute('/pipelines/nightly-load')).toEqual({
      page: 'pipeline',
      name: 'nightly-load',
    });
    expect(matchRoute(new URL(pipelineHref('a b/c'), 'http://x').pathname)).toEqual({
      page: 'pipeline',
      name: 'a b/c',
    });
    expect(matchRoute(`/runs/${UID}`)).toEqual({ page: 'run', uid: UID, view: 'graph' });
    expect(matchRoute(`/runs/${UID}/jobs/load`, '?view=timeline')).toEqual({
      page: 'run',
      uid: UID,
      job: 'load',
      view: 'timeline',
    });
  });

  it('round-trips the links it makes, including odd job names', () => {
    for (const job of ['first', 'a b', 'ünï/cødé']) {
      const href = runHref(UID, { job, view: 'timeline' });
      const url = new URL(href, 'http://x');
      expect(matchRoute(url.pathname, url.search)).toEqual({
        page: 'run',
        uid: UID,
        job,
        view: 'timeline',
      });
    }
    expect(runHref(UID)).toBe(`/runs/${UID}`);
    expect(runsHref('status=FAILED')).toBe('/?status=FAILED');
  });

  it('says not found for anything else, and for undecodable paths', () => {
    expect(matchRoute('/nope').page).toBe('not-found');
    expect(matchRoute(`/runs/${UID}/logs`).page).toBe('not-found');
    expect(matchRoute('/runs/%E0%A4%A').page).toBe('not-found');
    expect(matchRoute('/submit/more').page).toBe('not-found');
  });
});
