/** The UI's addresses. Every page has one, so that a link or a reload lands on the same view. */

export type Route =
  | { page: 'runs' }
  | { page: 'run'; uid: string; job?: string; view: RunView }
  | { page: 'submit' }
  | { page: 'pipeline'; name: string }
  | { page: 'schedules' }
  | { page: 'instances' }
  | { page: 'not-found'; path: string };

export type RunView = 'graph' | 'timeline';

const segment = (s: string) => encodeURIComponent(s);

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The route of a pathname and search string (`/runs/<uid>/jobs/<job>?view=timeline`). */
export function matchRoute(pathname: string, search = ''): Route {
  const parts = pathname.split('/').filter(Boolean).map(decode);
  if (parts.some((p) => p === undefined)) return { page: 'not-found', path: pathname };
  const [first, uid, jobs, job, ...rest] = parts as string[];
  if (first === undefined) return { page: 'runs' };
  if (first === 'runs' && uid === undefined) return { page: 'runs' };
  if (first === 'runs' && uid !== undefined && rest.length === 0) {
    const view: RunView =
      new URLSearchParams(search).get('view') === 'timeline' ? 'timeline' : 'graph';
    if (jobs === undefined) return { page: 'run', uid, view };
    if (jobs === 'jobs' && job !== undefined) return { page: 'run', uid, job, view };
  }
  if (first === 'pipelines' && uid !== undefined && parts.length === 2)
    return { page: 'pipeline', name: uid };
  if (parts.length === 1 && (first === 'submit' || first === 'schedules' || first === 'instances'))
    return { page: first };
  return { page: 'not-found', path: pathname };
}

export const runsHref = (search = '') => (search ? `/?${search}` : '/');

export function runHref(uid: string, options: { job?: string; view?: RunView } = {}): string {
  const base = `/runs/${segment(uid)}`;
  const path = options.job === undefined ? base : `${base}/jobs/${segment(options.job)}`;
  return options.view === 'timeline' ? `${path}?view=timeline` : path;
}

/** A pipeline's history: its recent runs side by side. */
export const pipelineHref = (name: string) => `/pipelines/${segment(name)}`;

export const submitHref = '/submit';
export const schedulesHref = '/schedules';
export const instancesHref = '/instances';
