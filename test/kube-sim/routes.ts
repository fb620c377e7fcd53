/** The simulator's URL space, and the RBAC verb each request is authorized as. */
import { isTrue } from './http-util.ts';
import type { RequestInfo } from './faults.ts';

const ROUTES: { re: RegExp; resource: string; subresource?: string }[] = [
  { re: /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/, resource: 'jobs' },
  { re: /^\/apis\/batch\/v1\/jobs$/, resource: 'jobs' },
  {
    re: /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/,
    resource: 'pods',
    subresource: 'log',
  },
  { re: /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/, resource: 'pods' },
  {
    re: /^\/api\/v1\/namespaces\/([^/]+)\/persistentvolumeclaims(?:\/([^/]+))?$/,
    resource: 'persistentvolumeclaims',
  },
  { re: /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/, resource: 'secrets' },
];

const VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export function route(method: string, url: URL): { info: RequestInfo } | undefined {
  for (const r of ROUTES) {
    const m = r.re.exec(url.pathname);
    if (!m) continue;
    const namespace = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const verb =
      VERBS[method] ??
      (name !== undefined ? 'get' : isTrue(url.searchParams.get('watch')) ? 'watch' : 'list');
    return {
      info: {
        verb,
        method,
        resource: r.resource,
        ...(r.subresource && { subresource: r.subresource }),
        ...(namespace !== undefined && { namespace }),
        ...(name !== undefined && { name }),
      },
    };
  }
  return undefined;
}

/** What `/version` answers: the Kubernetes version whose behaviour the simulator follows. */
export const VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-kube-sim',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T00:00:00Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};
