/**
 * The deployment files. The Helm chart is linted and rendered by a real helm (the static binary
 * of a pinned devDependency, test/fixtures/helm.ts) for several value sets; every rendered
 * manifest is validated against the Kubernetes schemas (kubernetes-models), and the RBAC rules,
 * probes, auth and Redis wiring are asserted on what helm renders.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CHAINR_IN_IMAGE } from '../src/executors/kubernetes/pod-artifacts.ts';
import { HELPER_IN_IMAGE } from '../src/executors/kubernetes/manifest.ts';
import { attemptLabels } from '../src/executors/kubernetes/naming.ts';
import { parseTokens } from '../src/http/auth/tokens.ts';
import { DIGEST, SET_NAMES, VALUE_SETS, type SetName } from './fixtures/chart-values.ts';
import { helm, helmBinary, type HelmResult } from './fixtures/helm.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const CHART = join(ROOT, 'deploy/helm/chainr');
const RELEASE = 'chainr';
const NAMESPACE = 'pipelines';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<HelmResult>((done) => {
    execFile(file, args, { cwd: ROOT, env }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}
interface Workload extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: Meta; spec: PodSpec };
    volumeClaimTemplates?: { spec: { resources: { requests: { storage: string } } } }[];
  };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface RbacDoc extends Manifest {
  rules?: Rule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
  automountServiceAccountToken?: boolean;
}

/** The Kubernetes schema model of each kind the chart renders (PodMonitor is a CRD: see below). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};
const POD_MONITOR = 'monitoring.coreos.com/v1/PodMonitor';

let bin: string;
let dir: string;
const valuesFile: Partial<Record<SetName, string>> = {};
const rendered: Partial<Record<SetName, Manifest[]>> = {};

function template(args: string[]): Promise<HelmResult> {
  return helm(bin, ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
}

function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d): d is Manifest => d !== null && typeof d === 'object');
}

beforeAll(async () => {
  bin = helmBinary();
  dir = mkdtempSync(join(tmpdir(), 'chainr-chart-'));
  for (const name of SET_NAMES) {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, JSON.stringify(VALUE_SETS[name]));
    valuesFile[name] = file;
  }
  // Two at a time: the test machines are small.
  for (let i = 0; i < SET_NAMES.length; i += 2) {
    await Promise.all(
      SET_NAMES.slice(i, i + 2).map(async (name) => {
        const out = await template(['-f', valuesFile[name] as string]);
        if (out.code !== 0) throw new Error(`helm template (${name}) failed:\n${out.stderr}`);
        rendered[name] = parseManifests(out.stdout);
      }),
    );
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const docs = (set: SetName): Manifest[] => rendered[set] ?? [];
const ofKind = <T extends Manifest>(set: SetName, kind: string): T[] =>
  docs(set).filter((d) => d.kind === kind) as T[];
const named = <T extends Manifest>(set: SetName, kind: string, suffix: string): T | undefined =>
  ofKind<T>(set, kind).find((d) => d.metadata.name === `${RELEASE}-${suffix}`);
const deployment = (set: SetName, service: string): Workload => {
  const found = named<Workload>(set, 'Deployment', service);
  if (!found) throw new Error(`no Deployment ${service} in ${set}`);
  return found;
};
const container = (set: SetName, service: string): Container => {
  const c = deployment(set, service).spec.template.spec.containers[0];
  if (!c) throw new Error(`no container in ${service}`);
  return c;
};
const envOf = (c: Container): Map<string, EnvVar> => new Map((c.env ?? []).map((e) => [e.name, e]));

const SERVICES = ['sched', 'work', 'notif', 'recycle', 'gate'] as const;

describe('helm lint and template', () => {
  it('lints cleanly (--strict) with every value set', async () => {
    for (const name of SET_NAMES) {
      const out = await helm(bin, ['lint', '--strict', CHART, '-f', valuesFile[name] as string]);
      expect(out.code, `${name}:\n${out.stdout}${out.stderr}`).toBe(0);
      expect(out.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(out.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('refuses to render without tokens, and a PodMonitor without a token to scrape with', async () => {
    const bare = await template([]);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('set auth.tokens or auth.existingSecret');
    const monitor = await template([
      '-f',
      valuesFile.defaults as string,
      '--set',
      'metrics.podMonitor.enabled=true',
    ]);
    expect(monitor.code).not.toBe(0);
    expect(monitor.stderr).toContain('metrics.podMonitor.tokenSecret');
  });

  it('renders every value set into manifests valid against the Kubernetes schemas', () => {
    // The models do reject what the API server would.
    expect(() =>
      new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two' } } as never).validate(),
    ).toThrow();
    let validated = 0;
    for (const name of SET_NAMES) {
      const manifests = docs(name);
      expect(manifests.length, name).toBeGreaterThan(10);
      const ids = manifests.map((d) => `${d.kind}/${d.metadata.name}`);
      expect(new Set(ids).size, `${name}: duplicate objects`).toBe(ids.length);
      for (const doc of manifests) {
        const key = `${doc.apiVersion}/${doc.kind}`;
        if (key === POD_MONITOR) continue; // a CRD: asserted field by field below
        const Model = MODELS[key];
        expect(Model, `${name}: unexpected ${key}`).toBeDefined();
        if (!Model) continue;
        expect(
          () => new Model(doc as never).validate(),
          `${name}: ${key} ${doc.metadata.name}`,
        ).not.toThrow();
        validated++;
      }
    }
    expect(validated).toBeGreaterThan(150);
  });

  it('gives every workload a selector matching its pods and a service account that exists', () => {
    for (const name of SET_NAMES) {
      const accounts = new Set(ofKind(name, 'ServiceAccount').map((d) => d.metadata.name));
      for (const w of [
        ...ofKind<Workload>(name, 'Deployment'),
        ...ofKind<Workload>(name, 'StatefulSet'),
      ]) {
        const labels = w.spec.template.metadata.labels ?? {};
        expect(labels, `${name}: ${w.metadata.name}`).toMatchObject(w.spec.selector.matchLabels);
        const pod = w.spec.template.spec;
        if (w.kind === 'Deployment') expect(accounts).toContain(pod.serviceAccountName);
        expect(pod.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
        for (const c of pod.containers) {
          expect(c.securityContext, `${w.metadata.name}/${c.name}`).toMatchObject({
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          });
        }
      }
    }
  });
});

/** The Kubernetes API calls a source file makes (the client's method names), sorted. */
const apiCalls = (source: string): string[] =>
  [
    ...new Set(source.match(/\b(create|read|list|watch|patch|replace|delete)Namespaced\w+/g)),
  ].sort();

describe('RBAC: least privilege', () => {
  const roles = (set: SetName) => ofKind<RbacDoc>(set, 'Role');
  const rules = (set: SetName, suffix: string) => named<RbacDoc>(set, 'Role', suffix)?.rules;

  it('lets the worker only create/get/list/watch/delete jobs, get/list/watch pods and logs, and create claims', () => {
    // A run's workspace claim is created (409 when there already) and never read or deleted by work.
    expect(apiCalls(read('src/executors/kubernetes/executor.ts'))).toContain(
      'createNamespacedPersistentVolumeClaim',
    );
    for (const set of SET_NAMES) {
      expect(rules(set, 'work'), set).toEqual([
        {
          apiGroups: ['batch'],
          resources: ['jobs'],
          verbs: ['create', 'get', 'list', 'watch', 'delete'],
        },
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['create'] },
      ]);
    }
  });

  it('lets recycle only list and delete jobs and claims: what orphan collection calls', () => {
    // collectOrphans lists chainr's Jobs and deletes them with background propagation: the
    // garbage collector, not recycle, deletes their pods; collectWorkspaceClaims lists and
    // deletes the claims of deleted runs.
    const orphans = read('src/executors/kubernetes/orphans.ts');
    expect(apiCalls(orphans)).toEqual([
      'deleteNamespacedJob',
      'deleteNamespacedPersistentVolumeClaim',
      'listNamespacedJob',
      'listNamespacedPersistentVolumeClaim',
    ]);
    expect(orphans).toContain("propagationPolicy: 'Background'");
    for (const set of SET_NAMES) {
      expect(rules(set, 'recycle'), set).toEqual([
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'delete'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list', 'delete'] },
      ]);
    }
  });

  it('lets the chaos monkey only list and delete pods, and only when it is enabled', () => {
    expect(apiCalls(read('src/chaos/kubernetes.ts'))).toEqual([
      'deleteNamespacedPod',
      'listNamespacedPod',
    ]);
    expect(rules('chaos', 'chaos')).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] },
    ]);
    expect(
      roles('chaos')
        .map((r) => r.metadata.name)
        .sort(),
    ).toEqual(['chainr-chaos', 'chainr-recycle', 'chainr-work']);
    for (const set of SET_NAMES.filter((s) => s !== 'chaos')) {
      expect(
        roles(set)
          .map((r) => r.metadata.name)
          .sort(),
        set,
      ).toEqual(['chainr-recycle', 'chainr-work']);
      expect(named(set, 'ServiceAccount', 'chaos'), set).toBeUndefined();
      expect(named(set, 'Deployment', 'chaos'), set).toBeUndefined();
    }
  });

  it('binds each role to its own service account in the release namespace, and nothing else', () => {
    for (const set of SET_NAMES) {
      const names = roles(set).map((r) => r.metadata.name);
      const bindings = ofKind<RbacDoc>(set, 'RoleBinding');
      expect(bindings.map((b) => b.metadata.name).sort(), set).toEqual([...names].sort());
      for (const b of bindings) {
        expect(b.roleRef).toEqual({
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Role',
          name: b.metadata.name,
        });
        expect(b.subjects).toEqual([
          { kind: 'ServiceAccount', name: b.metadata.name, namespace: NAMESPACE },
        ]);
      }
      // Only the accounts with a Role carry a token.
      for (const sa of ofKind<RbacDoc>(set, 'ServiceAccount')) {
        expect(sa.automountServiceAccountToken, sa.metadata.name).toBe(
          names.includes(sa.metadata.name),
        );
      }
      for (const service of SERVICES) {
        const pod = deployment(set, service).spec.template.spec;
        expect(pod.serviceAccountName).toBe(`${RELEASE}-${service}`);
        expect(pod.automountServiceAccountToken, service).toBe(
          service === 'work' || service === 'recycle',
        );
      }
    }
  });

  it('has no cluster-wide roles and no wildcards in any rendering', () => {
    for (const set of SET_NAMES) {
      const kinds = docs(set).map((d) => d.kind);
      expect(kinds).not.toContain('ClusterRole');
      expect(kinds).not.toContain('ClusterRoleBinding');
      for (const role of roles(set)) {
        for (const rule of role.rules ?? []) {
          expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
        }
      }
    }
  });
});

describe('services', () => {
  it('probes sched and gate on http and work, notif and recycle on ops (9090)', () => {
    for (const service of SERVICES) {
      const c = container('defaults', service);
      const http = service === 'sched' || service === 'gate';
      const port = http ? 'http' : 'ops';
      expect(c.args).toEqual([service]);
      expect(c.ports).toEqual([{ name: port, containerPort: http ? 8080 : 9090 }]);
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port });
      const env = envOf(c);
      // No local jobs in the chart: they would run inside a worker pod, with its secrets.
      expect(env.get('CHAINR_EXECUTORS')?.value).toBe('kubernetes,noop');
      if (http) {
        expect(env.get('HOST')?.value).toBe('0.0.0.0');
        expect(env.get('PORT')?.value).toBe('8080');
        expect(env.has('CHAINR_OPS_PORT')).toBe(false);
        expect(env.get('CHAINR_RATE_LIMIT')?.value).toBe('50');
      } else {
        expect(env.get('CHAINR_OPS_HOST')?.value).toBe('0.0.0.0');
        expect(env.get('CHAINR_OPS_PORT')?.value).toBe('9090');
        expect(env.has('HOST')).toBe(false);
        expect(env.has('CHAINR_RATE_LIMIT')).toBe(false); // nothing to limit on the ops port
      }
    }
    expect(envOf(container('defaults', 'gate')).get('CHAINR_UPSTREAMS')?.value).toBe(
      'http://chainr-sched:8080',
    );
  });

  it('gives workers a termination grace period longer than CHAINR_SHUTDOWN_GRACE', () => {
    for (const [set, grace] of [
      ['defaults', 10],
      ['unauthenticated', 60],
    ] as const) {
      const pod = deployment(set, 'work').spec.template.spec;
      expect(envOf(container(set, 'work')).get('CHAINR_SHUTDOWN_GRACE')?.value).toBe(`${grace}s`);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    }
  });

  it('serves chainr.io through an Ingress by default, or a NodePort service', () => {
    const [ingress] = ofKind<Manifest & { spec: unknown }>('defaults', 'Ingress');
    expect(ingress?.spec).toMatchObject({
      rules: [
        {
          host: 'chainr.io',
          http: {
            paths: [
              { path: '/', backend: { service: { name: 'chainr-gate', port: { name: 'http' } } } },
            ],
          },
        },
      ],
    });
    expect(ingress?.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
    });
    expect(named<Manifest & { spec: unknown }>('defaults', 'Service', 'gate')?.spec).toMatchObject({
      type: 'ClusterIP',
    });
    expect(ofKind('nodePort', 'Ingress')).toEqual([]);
    expect(named<Manifest & { spec: unknown }>('nodePort', 'Service', 'gate')?.spec).toMatchObject({
      type: 'NodePort',
      ports: [{ name: 'http', nodePort: 30080, targetPort: 'http' }],
    });
  });

  it('runs the chaos monkey from the chainr image with its own account and the downward API', () => {
    const chaos = deployment('chaos', 'chaos');
    const pod = chaos.spec.template.spec;
    const c = container('chaos', 'chaos');
    expect(pod.serviceAccountName).toBe('chainr-chaos');
    expect(c.image).toBe(container('chaos', 'sched').image);
    expect(c.args).toEqual([
      'chaos',
      'kubernetes',
      '--interval',
      '45s',
      '--selector',
      'app.kubernetes.io/part-of=chainr,app.kubernetes.io/instance=chainr',
    ]);
    const env = envOf(c);
    expect(env.get('POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env.get('POD_NAMESPACE')?.valueFrom).toEqual({
      fieldRef: { fieldPath: 'metadata.namespace' },
    });
    // Its own pod is not among its victims; every chainr service's pod is.
    expect(chaos.spec.template.metadata.labels?.['app.kubernetes.io/part-of']).toBeUndefined();
    for (const service of SERVICES) {
      expect(deployment('chaos', service).spec.template.metadata.labels).toMatchObject({
        'app.kubernetes.io/part-of': 'chainr',
        'app.kubernetes.io/instance': RELEASE,
      });
    }
  });
});

/** A label selector of a NetworkPolicy: matchLabels and matchExpressions, as Kubernetes reads them. */
interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface Policy extends Manifest {
  spec: {
    podSelector: Selector;
    policyTypes: string[];
    ingress?: { ports?: { port: string | number }[]; from?: Peer[] }[];
  };
}
/** A pod as a NetworkPolicy sees it: its namespace, its labels, the ports by name. */
interface Pod {
  namespace: string;
  labels: Record<string, string>;
}

function selects(selector: Selector, labels: Record<string, string>): boolean {
  const has = (k: string) => Object.hasOwn(labels, k);
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector.matchExpressions ?? []).every((e) => {
      const values = e.values ?? [];
      if (e.operator === 'In') return has(e.key) && values.includes(labels[e.key] as string);
      // NotIn also selects objects without the key.
      if (e.operator === 'NotIn') return !has(e.key) || !values.includes(labels[e.key] as string);
      if (e.operator === 'Exists') return has(e.key);
      if (e.operator === 'DoesNotExist') return !has(e.key);
      throw new Error(`unknown operator ${e.operator}`);
    })
  );
}

/** Whether `peer` matches a pod, per the NetworkPolicy semantics (pods of the policy's namespace
 * for a podSelector alone; an ipBlock is for traffic from outside the cluster, not asserted here). */
function peerMatches(peer: Peer, policyNamespace: string, from: Pod): boolean {
  const namespaceLabels = { 'kubernetes.io/metadata.name': from.namespace };
  if (peer.ipBlock) return false;
  const inNamespace = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels)
    : from.namespace === policyNamespace;
  return inNamespace && (peer.podSelector === undefined || selects(peer.podSelector, from.labels));
}

/** Whether the rendered policies let `from` open a connection to `to` on the named port. */
function reachable(set: SetName, from: Pod, to: Pod, port: string): boolean {
  const isolating = ofKind<Policy>(set, 'NetworkPolicy').filter(
    (p) =>
      (p.metadata.namespace ?? NAMESPACE) === to.namespace &&
      p.spec.policyTypes.includes('Ingress') &&
      selects(p.spec.podSelector, to.labels),
  );
  if (isolating.length === 0) return true;
  return isolating.some((p) =>
    (p.spec.ingress ?? []).some(
      (rule) =>
        (rule.ports === undefined || rule.ports.some((x) => x.port === port)) &&
        (rule.from === undefined ||
          rule.from.some((peer) => peerMatches(peer, p.metadata.namespace ?? NAMESPACE, from))),
    ),
  );
}

describe('NetworkPolicies', () => {
  const podOf = (set: SetName, kind: string, suffix: string): Pod => {
    const w = named<Workload>(set, kind, suffix);
    if (!w) throw new Error(`no ${kind} ${suffix} in ${set}`);
    return { namespace: NAMESPACE, labels: w.spec.template.metadata.labels ?? {} };
  };
  const service = (set: SetName, name: string) => podOf(set, 'Deployment', name);
  const redis = (set: SetName) => podOf(set, 'StatefulSet', 'redis');
  // A job pod as the kubernetes executor labels it, in the release's namespace.
  const jobPod: Pod = {
    namespace: NAMESPACE,
    labels: attemptLabels({ uid: '0190a1b2-c3d4', job: 'load', attempt: 1 }, RELEASE),
  };
  const ingressController: Pod = {
    namespace: 'ingress-nginx',
    labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
  };
  const PORTS: Record<string, string> = { sched: 'http', gate: 'http' };
  const portOf = (name: string) => PORTS[name] ?? 'ops';

  it('are on by default: every chainr pod is isolated by exactly one policy', () => {
    for (const set of SET_NAMES.filter((s) => s !== 'unauthenticated')) {
      const policies = ofKind<Policy>(set, 'NetworkPolicy');
      const pods = [...SERVICES.map((s) => service(set, s))];
      if (named(set, 'StatefulSet', 'redis')) pods.push(redis(set));
      for (const pod of pods) {
        const matching = policies.filter((p) => selects(p.spec.podSelector, pod.labels));
        expect(matching, `${set}: ${pod.labels['app.kubernetes.io/component']}`).toHaveLength(1);
      }
    }
    expect(ofKind('unauthenticated', 'NetworkPolicy')).toEqual([]);
  });

  it('let only gate reach sched, and users reach gate from outside the namespace', () => {
    const set: SetName = 'defaults';
    for (const from of ['work', 'notif', 'recycle', 'sched'])
      expect(reachable(set, service(set, from), service(set, 'sched'), 'http'), from).toBe(false);
    expect(reachable(set, service(set, 'gate'), service(set, 'sched'), 'http')).toBe(true);
    expect(reachable(set, ingressController, service(set, 'sched'), 'http')).toBe(false);
    expect(reachable(set, ingressController, service(set, 'gate'), 'http')).toBe(true);
  });

  it("let only chainr's services reach Redis", () => {
    const set: SetName = 'chaos';
    for (const from of SERVICES)
      expect(reachable(set, service(set, from), redis(set), 'redis'), from).toBe(true);
    const monkey = podOf(set, 'Deployment', 'chaos');
    expect(reachable(set, monkey, redis(set), 'redis')).toBe(false);
    expect(reachable(set, ingressController, redis(set), 'redis')).toBe(false);
    expect(reachable(set, jobPod, redis(set), 'redis')).toBe(false);
  });

  it("let job pods reach none of chainr's services", () => {
    for (const set of ['defaults', 'metrics', 'chaos'] as SetName[]) {
      for (const name of SERVICES)
        expect(reachable(set, jobPod, service(set, name), portOf(name)), `${set}: ${name}`).toBe(
          false,
        );
    }
    // Without the policies, they could.
    expect(reachable('unauthenticated', jobPod, service('unauthenticated', 'sched'), 'http')).toBe(
      true,
    );
  });

  it('let the peers of networkPolicy.metricsFrom scrape every service, and only them', () => {
    const prometheus: Pod = { namespace: 'monitoring', labels: { app: 'prometheus' } };
    for (const name of SERVICES) {
      expect(reachable('metrics', prometheus, service('metrics', name), portOf(name)), name).toBe(
        true,
      );
      if (name !== 'gate')
        expect(reachable('defaults', prometheus, service('defaults', name), portOf(name))).toBe(
          false,
        );
    }
  });
});

describe('auth', () => {
  it('puts auth.tokens in a Secret in the gate tokens file format, mounted by every service', () => {
    const secret = named<Manifest & { stringData: Record<string, string> }>(
      'defaults',
      'Secret',
      'tokens',
    );
    const entries = parseTokens(secret?.stringData['tokens.yaml'] ?? '', 'the Secret');
    expect(entries).toEqual([{ name: 'ci', role: 'operator', digest: Buffer.from(DIGEST, 'hex') }]);
    for (const set of ['defaults', 'existingSecret'] as const) {
      const secretName = set === 'defaults' ? 'chainr-tokens' : 'my-tokens';
      for (const service of SERVICES) {
        const c = container(set, service);
        expect(envOf(c).get('CHAINR_TOKENS_FILE')?.value).toBe('/etc/chainr/tokens/tokens.yaml');
        expect(envOf(c).has('CHAINR_ALLOW_UNAUTHENTICATED')).toBe(false);
        expect(c.volumeMounts).toContainEqual(
          expect.objectContaining({ name: 'tokens', mountPath: '/etc/chainr/tokens' }),
        );
        expect(deployment(set, service).spec.template.spec.volumes).toContainEqual({
          name: 'tokens',
          secret: { secretName },
        });
      }
    }
    expect(named('existingSecret', 'Secret', 'tokens')).toBeUndefined();
  });

  it('runs without tokens only when told to', () => {
    expect(named('unauthenticated', 'Secret', 'tokens')).toBeUndefined();
    for (const service of SERVICES) {
      const env = envOf(container('unauthenticated', service));
      expect(env.get('CHAINR_ALLOW_UNAUTHENTICATED')?.value).toBe('1');
      expect(env.has('CHAINR_TOKENS_FILE')).toBe(false);
      // Without auth, requests are served only for the names the deployment is reached by.
      expect(env.get('CHAINR_ALLOWED_HOSTS')?.value).toBe('chainr-sched,chainr-gate,chainr.io');
    }
  });
});

describe('Redis', () => {
  it('bundles a StatefulSet with a persistent volume and a generated password by default', () => {
    const redis = named<Workload>('defaults', 'StatefulSet', 'redis');
    expect(redis?.spec.volumeClaimTemplates?.[0]?.spec.resources.requests.storage).toBe('8Gi');
    const password = named<Manifest & { data: Record<string, string> }>(
      'defaults',
      'Secret',
      'redis',
    );
    expect(Buffer.from(password?.data.password ?? '', 'base64').toString()).toMatch(
      /^[A-Za-z0-9]{32}$/,
    );
    const env = envOf(container('defaults', 'work'));
    expect(env.get('REDIS_ADDR')?.value).toBe('chainr-redis:6379');
    expect(env.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'chainr-redis',
      key: 'password',
    });
  });

  it("gives the worker its own image as the helper image of jobs' pods (images without a shell)", () => {
    for (const set of SET_NAMES) {
      const work = container(set, 'work');
      expect(envOf(work).get('CHAINR_KUBERNETES_HELPER_IMAGE')?.value, set).toBe(work?.image);
    }
  });

  it('uses an external Redis by URL, or by Sentinel with a password Secret and replicas to wait for', () => {
    for (const set of ['externalRedis', 'sentinel'] as const) {
      expect(ofKind(set, 'StatefulSet'), set).toEqual([]);
      expect(named(set, 'Secret', 'redis'), set).toBeUndefined();
    }
    for (const service of SERVICES) {
      const url = envOf(container('externalRedis', service));
      expect(url.get('REDIS_URL')?.value).toBe('redis://redis.example:6379/2');
      expect(url.has('REDIS_ADDR')).toBe(false);
      const sentinel = envOf(container('sentinel', service));
      expect(sentinel.get('REDIS_ADDRS')?.value).toBe('sentinel-0:26379,sentinel-1:26379');
      expect(sentinel.get('REDIS_MASTER')?.value).toBe('chainr');
      expect(sentinel.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'redis-password',
        key: 'password',
      });
      expect(sentinel.get('CHAINR_WAIT_REPLICAS')?.value).toBe('2');
      expect(sentinel.get('CHAINR_WAIT_TIMEOUT')?.value).toBe('3s');
      // Unset, chainr's own default applies (1 with Sentinel, 0 otherwise).
      expect(url.has('CHAINR_WAIT_REPLICAS')).toBe(false);
    }
  });
});

describe('artifacts', () => {
  it("gives sched and work the S3 store, credentials from your Secret, and work that Secret's name for jobs' pods", () => {
    for (const service of SERVICES) {
      const env = envOf(container('artifactsS3', service));
      const reads = service === 'sched' || service === 'work';
      expect(env.get('CHAINR_ARTIFACTS_S3_BUCKET')?.value, service).toBe(
        reads ? 'chainr-artifacts' : undefined,
      );
      expect(env.get('CHAINR_ARTIFACTS_S3_ENDPOINT')?.value, service).toBe(
        reads ? 'http://minio.minio:9000' : undefined,
      );
      expect(env.get('AWS_SECRET_ACCESS_KEY')?.valueFrom?.secretKeyRef, service).toEqual(
        reads ? { name: 'chainr-s3', key: 'AWS_SECRET_ACCESS_KEY' } : undefined,
      );
      expect(env.get('CHAINR_KUBERNETES_ARTIFACTS_SECRET')?.value, service).toBe(
        service === 'work' ? 'chainr-s3' : undefined,
      );
      // By default: no bucket, no credentials.
      expect(envOf(container('defaults', service)).has('CHAINR_ARTIFACTS_S3_BUCKET')).toBe(false);
    }
  });
});

describe('archive', () => {
  const archiveEnv = (set: SetName, service: string) =>
    envOf(container(set, service)).get('CHAINR_ARCHIVE_URL');

  it('is off by default: no service is given an archive, and no Secret is made for one', () => {
    for (const service of SERVICES)
      expect(archiveEnv('defaults', service), service).toBeUndefined();
    expect(named('defaults', 'Secret', 'archive')).toBeUndefined();
  });

  it("gives sched and recycle a PostgreSQL URL from the chart's Secret or yours, and no one else", () => {
    const secret = named<Manifest & { stringData: Record<string, string> }>(
      'archive',
      'Secret',
      'archive',
    );
    expect(secret?.stringData).toEqual({
      url: 'postgres://chainr:secret@postgres.example:5432/chainr?sslmode=verify-full',
    });
    expect(named('archiveSecret', 'Secret', 'archive')).toBeUndefined();
    for (const service of SERVICES) {
      const reads = service === 'sched' || service === 'recycle';
      expect(archiveEnv('archive', service)?.valueFrom?.secretKeyRef, service).toEqual(
        reads ? { name: 'chainr-archive', key: 'url' } : undefined,
      );
      expect(archiveEnv('archiveSecret', service)?.valueFrom?.secretKeyRef, service).toEqual(
        reads ? { name: 'chainr-pg', key: 'dsn' } : undefined,
      );
    }
  });

  it("gives recycle the archive's window and retention when set, and leaves chainr's defaults otherwise", () => {
    const retention = ['CHAINR_ARCHIVE_WINDOW', 'CHAINR_ARCHIVE_MAX_AGE', 'CHAINR_ARCHIVE_KEEP'];
    const valuesOf = (set: SetName, service: string) => {
      const env = envOf(container(set, service));
      return retention.map((name) => env.get(name)?.value);
    };
    expect(valuesOf('archive', 'recycle')).toEqual(['0', 'FAILED=8760h,720h', '100000']);
    for (const service of SERVICES.filter((s) => s !== 'recycle'))
      expect(valuesOf('archive', service), service).toEqual([undefined, undefined, undefined]);
    for (const set of ['defaults', 'archiveSecret'] as const)
      expect(valuesOf(set, 'recycle'), set).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a SQLite file: replicas in pods cannot share it', async () => {
    for (const url of ['/data/archive.db', 'sqlite:/data/archive.db', 'mysql://db/chainr']) {
      const out = await template([
        '-f',
        valuesFile.defaults as string,
        '--set',
        `archive.url=${url}`,
      ]);
      expect(out.code, url).not.toBe(0);
      expect(out.stderr, url).toContain('archive.url: expected a postgres:// or postgresql:// URL');
    }
  });
});

describe('metrics', () => {
  it('annotates the pods for scraping and renders a PodMonitor that sends a viewer token', () => {
    for (const service of SERVICES) {
      const http = service === 'sched' || service === 'gate';
      expect(deployment('metrics', service).spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': http ? '8080' : '9090',
        'prometheus.io/path': '/metrics',
      });
      expect(deployment('defaults', service).spec.template.metadata.annotations).toBeUndefined();
    }
    const monitors = docs('metrics').filter((d) => `${d.apiVersion}/${d.kind}` === POD_MONITOR);
    expect(monitors).toHaveLength(1);
    const monitor = monitors[0] as Manifest & { spec: unknown };
    expect(monitor.metadata.labels).toMatchObject({ team: 'ops' });
    const auth = {
      type: 'Bearer',
      credentials: { name: 'prometheus-token', key: 'token' },
    };
    expect(monitor.spec).toEqual({
      selector: {
        matchLabels: { 'app.kubernetes.io/name': 'chainr', 'app.kubernetes.io/instance': RELEASE },
      },
      podMetricsEndpoints: [
        { port: 'http', path: '/metrics', interval: '30s', authorization: auth },
        { port: 'ops', path: '/metrics', interval: '30s', authorization: auth },
      ],
    });
  });
});

describe('container image and make targets', () => {
  const dockerfile = read('deploy/Dockerfile');

  it('is multi-stage on node:20-slim, runs as a non-root user, one image for every service', () => {
    expect(dockerfile.match(/^FROM node:20-slim/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/chainr.js"]');
    expect(dockerfile).toContain('npm run build:ui');
    // The compiled JavaScript, not the sources: nothing is compiled when a service starts.
    expect(dockerfile).toMatch(/^RUN npm run build /m);
    expect(dockerfile).toContain('COPY --from=build --chown=root:root /app/dist ./dist');
    expect(dockerfile).not.toMatch(/^COPY .*\/app\/src /m);
  });

  it('builds chainr-exec with the script the tests use, and puts it where job pods copy it from', () => {
    expect(dockerfile).toMatch(/^RUN \/src\/scripts\/build-chainr-exec\.sh \/chainr-exec$/m);
    expect(dockerfile).toContain(
      `COPY --from=helper --chown=root:root /chainr-exec ${HELPER_IN_IMAGE}`,
    );
  });

  it("has the chainr command where jobs' pods run their artifact steps from", () => {
    expect(dockerfile).toContain(`RUN ln -s /app/bin/chainr.js ${CHAINR_IN_IMAGE}`);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['.git', 'node_modules', '.chainr', '.env', 'tokens*.yaml'])
      expect(ignore).toContain(entry);
  });

  it('has make targets deploy, chaos, build and test', async () => {
    const makefile = read('Makefile');
    for (const target of ['deploy', 'chaos', 'build', 'test', 'lint-chart', 'template'])
      expect(makefile).toMatch(new RegExp(`^${target}:`, 'm'));
    const planned = await run('make', ['-n', 'deploy', 'chaos', 'HELM=helm', 'NAMESPACE=ns']);
    expect(planned.code, planned.stderr).toBe(0);
    const [deploy, chaos] = planned.stdout
      .split('helm upgrade')
      .slice(1)
      .map((c) => c.replace(/\s*\\\n\s*/g, ' ').trim());
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    expect(deploy).toBe(
      `--install chainr deploy/helm/chainr --namespace ns --set image.repository=chainr --set image.tag=${version}`,
    );
    expect(chaos).toBe(
      '--install chainr deploy/helm/chainr --namespace ns --reset-then-reuse-values --set chaos.enabled=true',
    );
  });
});

describe('the helm binary of the devDependency', () => {
  it('is extracted the same by the built-in zip reader as by the default one, and runs', async () => {
    const fresh = helmBinary({ dir: join(dir, 'node-reader'), reader: 'node' });
    expect(statSync(fresh).size).toBe(statSync(bin).size);
    const [a, b] = await Promise.all([helm(fresh, ['version']), helm(bin, ['version'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/Version:"v\d+\.\d+\.\d+"/);
    expect(a.stdout).toBe(b.stdout);
  });

  it('serves `make lint-chart` where no helm is on PATH', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    };
    delete env.HELM;
    const out = await run('make', ['-s', 'lint-chart'], env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });
});
