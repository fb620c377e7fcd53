/** The failures a test can inject into the simulator, by kind. */
import type { SimPod } from './store.ts';
import type { Status } from './status.ts';

/** A request the API server would see: `verb` as RBAC names it (get, list, watch, create, delete). */
export interface RequestInfo {
  verb: string;
  method: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type RequestMatcher = Partial<
  Pick<RequestInfo, 'verb' | 'resource' | 'subresource' | 'name'>
>;

export type Injected =
  /** Answer with this Status (and headers, e.g. Retry-After) instead of serving the request. */
  | { status: Status; headers?: Record<string, string> }
  /** Serve the request (a create takes effect) but cut the connection instead of answering. */
  | { dropAfterApply: true }
  /** Cut the connection without serving the request. */
  | { drop: true };

interface Injection {
  match: RequestMatcher;
  action: Injected;
  remaining: number;
}

export class Faults {
  /** Images whose pull fails, with the kubelet's message. */
  readonly imagePull = new Map<string, string>();
  /** Images whose container is OOM-killed shortly after it starts. */
  readonly oomKill = new Set<string>();
  /** Pods the scheduler cannot place, with its message; cleared, they get scheduled. */
  unschedulable: { match: (pod: SimPod) => boolean; message: string } | undefined;
  /** The Job controller is behind: it does not end Jobs at their activeDeadlineSeconds. */
  deadlinesLate = false;
  /** Requests RBAC denies. */
  readonly forbidden: RequestMatcher[] = [];
  private readonly injections: Injection[] = [];

  failImagePull(image: string, message?: string): void {
    this.imagePull.set(
      image,
      message ??
        `failed to pull and unpack image "docker.io/library/${image}": failed to resolve reference "docker.io/library/${image}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
    );
  }

  makeUnschedulable(match: (pod: SimPod) => boolean = () => true, message?: string): void {
    this.unschedulable = {
      match,
      message:
        message ??
        '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    };
  }

  forbid(match: RequestMatcher): void {
    this.forbidden.push(match);
  }

  /** The next `times` requests matching `match` get `action`. */
  inject(match: RequestMatcher, action: Injected, times = 1): void {
    this.injections.push({ match, action, remaining: times });
  }

  isForbidden(request: RequestInfo): boolean {
    return this.forbidden.some((m) => matches(m, request));
  }

  /** Consumes and returns the injection for this request, if any. */
  take(request: RequestInfo): Injected | undefined {
    const found = this.injections.find((i) => i.remaining > 0 && matches(i.match, request));
    if (!found) return undefined;
    found.remaining -= 1;
    return found.action;
  }

  clear(): void {
    this.imagePull.clear();
    this.oomKill.clear();
    this.unschedulable = undefined;
    this.forbidden.length = 0;
    this.injections.length = 0;
  }
}

function matches(m: RequestMatcher, r: RequestInfo): boolean {
  return (
    (m.verb === undefined || m.verb === r.verb) &&
    (m.resource === undefined || m.resource === r.resource) &&
    (m.subresource === undefined || m.subresource === r.subresource) &&
    (m.name === undefined || m.name === r.name)
  );
}
