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
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseTokens } from '../src/services/gate/tokens.ts';
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

const DIGEST = 'ab'.repeat(32);
const TOKENS = { auth: { tokens: [{ name: 'ci', role: 'operator', sha256: DIGEST }] } };

/** The value sets rendered and linted, each as a user would write a values file. */
const VALUE_SETS = {
  defaults: TOKENS,
  nodePort: {
    ...TOKENS,
    ingress: { enabled: false },
    service: { type: 'NodePort', nodePort: 30080 },
  },
  externalRedis: {
    ...TOKENS,
    redis: { enabled: false, external: { url: 'redis://redis.example:6379/2' } },
  },
  sentinel: {
    ...TOKENS,
    redis: {
      enabled: false,
      external: {
        sentinels: ['sentinel-0:26379', 'sentinel-1:26379'],
        master: 'chainr',
        passwordSecret: 'redis-password',
      },
    },
  },
  chaos: { ...TOKENS, chaos: { enabled: true, intervalSeconds: 45 } },
  existingSecret: { auth: { existingSecret: 'my-tokens' } },
  metrics: {
    ...TOKENS,
    metrics: {
      podAnnotations: true,
      podMonitor: { enabled: true, tokenSecret: 'prometheus-token', labels: { team: 'ops' } },
    },
  },
  unauthenticated: { auth: { allowUnauthenticated: true }, work: { shutdownGraceSeconds: 60 } },
} as const;
type SetName = keyof typeof VALUE_SETS;
const SET_NAMES = Object.keys(VALUE_SETS) as SetName[];

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

  it('lets the worker only create/get/list/watch/delete jobs and get/list/watch pods and logs', () => {
    for (const set of SET_NAMES) {
      expect(rules(set, 'work'), set).toEqual([
        {
          apiGroups: ['batch'],
          resources: ['jobs'],
          verbs: ['create', 'get', 'list', 'watch', 'delete'],
        },
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      ]);
    }
  });

  it('lets recycle only list and delete jobs: what orphan collection calls', () => {
    // collectOrphans lists chainr's Jobs and deletes them with background propagation: the
    // garbage collector, not recycle, deletes their pods.
    const orphans = read('src/executors/kubernetes/orphans.ts');
    expect(apiCalls(orphans)).toEqual(['deleteNamespacedJob', 'listNamespacedJob']);
    expect(orphans).toContain("propagationPolicy: 'Background'");
    for (const set of SET_NAMES) {
      expect(rules(set, 'recycle'), set).toEqual([
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'delete'] },
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

  it('uses an external Redis by URL, or by Sentinel with a password Secret', () => {
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
