/**
 * chainr on a real Kubernetes control plane (kube-apiserver and kube-controller-manager v1.20.2,
 * test/fixtures/kube-control-plane.ts) with the test tree's node agent as its only node
 * (test/kube-node/node-agent.ts): the executor conformance suite against the real API server and
 * Job controller; the chart's worker Role enforced by the real RBAC authorizer; the Job manifests
 * through real admission, compared with what the simulator stores; every manifest the chart
 * renders applied with a server-side dry run.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type {
  ExecutionRequest,
  ExecutionResult,
  ExecutionSettings,
} from '../src/executors/executor.ts';
import {
  clientFor,
  connectKubernetes,
  type KubernetesClient,
} from '../src/executors/kubernetes/client.ts';
import {
  KubernetesExecutor,
  WORKER_SHUTDOWN_REASON,
} from '../src/executors/kubernetes/executor.ts';
import { buildJobManifest } from '../src/executors/kubernetes/manifest.ts';
import {
  buildClaimManifest,
  DEFAULT_WORKSPACE_VOLUME,
  runClaimName,
} from '../src/executors/kubernetes/workspace-claim.ts';
import {
  attemptLabels,
  kubernetesJobName,
  selectorOf,
} from '../src/executors/kubernetes/naming.ts';
import { executorConformance, type ShellRequest } from './executors/conformance.ts';
import { buildChainrExec, HELPER_IMAGE, type BuiltHelper } from './fixtures/chainr-exec.ts';
import { SET_NAMES, VALUE_SETS } from './fixtures/chart-values.ts';
import { helm, helmBinary } from './fixtures/helm.ts';
import { startControlPlane, type ControlPlane } from './fixtures/kube-control-plane.ts';
import { NodeAgent } from './kube-node/node-agent.ts';
import { KubeSim } from './kube-sim/simulator.ts';

const CHART = fileURLToPath(new URL('../deploy/helm/chainr', import.meta.url));
const TIMING = {
  backoff: { initialMs: 50, maxMs: 1000 },
  logDrainMs: 3000,
  // Nothing is pulled here: a container that cannot be created (a missing secret) fails soon.
  imagePullGraceMs: 5000,
};

let cp: ControlPlane;
let node: NodeAgent;
let helper: BuiltHelper;
let admin: (namespace: string) => KubernetesClient;

type Answer = Awaited<ReturnType<NodeAgent['api']>>;
const api = (method: string, path: string, body?: unknown): Promise<Answer> =>
  node.api(method, path, body);

async function createNamespace(name: string): Promise<void> {
  const created = await api('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  if (created.status !== 201) throw new Error(`namespace ${name}: ${JSON.stringify(created.body)}`);
  // Pods are admitted only once the namespace's default ServiceAccount exists.
  await until(`the default ServiceAccount of ${name}`, async () => {
    const sa = await api('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`);
    return sa.status === 200;
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  helper = buildChainrExec();
  cp = await startControlPlane();
  node = await NodeAgent.start({
    server: cp.server,
    ca: cp.ca,
    token: cp.adminToken,
    killGraceMs: 1000,
    images: helper.images,
  });
  admin = (namespace) => clientFor(cp.kubeConfigFor(cp.adminToken, namespace), namespace);
  await createNamespace('conformance');
}, 300_000);

afterAll(async () => {
  await node?.stop();
  await cp?.stop();
  helper?.remove();
}, 60_000);

// As the chart deploys the worker: jobs under chainr-exec, delivered by an init container.
executorConformance({
  name: 'kubernetes (real kube-apiserver and Job controller v1.20, jobs under chainr-exec)',
  create: () =>
    new KubernetesExecutor({
      client: admin('conformance'),
      ttlSecondsAfterFinished: 600,
      helperImage: HELPER_IMAGE,
      timing: TIMING,
    }),
  image: 'busybox:1.36',
  separateStreams: false,
  supports: {
    timeout: true,
    outputs: true,
    exec: true,
    reattach: {
      detachReason: WORKER_SHUTDOWN_REASON,
      // The Job controller made one pod per Job (backoffLimit 0): two Jobs would be two pods.
      async starts(request) {
        const pods = await admin('conformance').core.listNamespacedPod({
          namespace: 'conformance',
          labelSelector: selectorOf(attemptLabels(request)),
        });
        return pods.items.length;
      },
    },
    secrets: {
      async put(name, data) {
        await admin('conformance').core.createNamespacedSecret({
          namespace: 'conformance',
          body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data },
        });
      },
    },
  },
  startupMs: 20_000,
});

const request = (run: string, extra: Partial<ExecutionSettings> = {}): ShellRequest => ({
  uid: randomUUID(),
  job: 'job',
  attempt: 1,
  image: 'busybox:1.36',
  run,
  env: {},
  ...extra,
});

async function execute(
  executor: KubernetesExecutor,
  req: ExecutionRequest,
  signal = new AbortController().signal,
): Promise<{ result: ExecutionResult; lines: string[] }> {
  const lines: string[] = [];
  const result = await executor.run(req, { onLog: (line) => lines.push(line), signal });
  return { result, lines };
}

describe("the chart's worker Role, enforced by the real RBAC authorizer", () => {
  const NS = 'rbac';
  let worker: KubernetesClient;

  beforeAll(async () => {
    await createNamespace(NS);
    const values = join(mkdtempSync(join(tmpdir(), 'chainr-rbac-')), 'values.yaml');
    writeFileSync(values, JSON.stringify(VALUE_SETS.defaults));
    const out = await helm(helmBinary(), ['template', 'chainr', CHART, '-n', NS, '-f', values]);
    rmSync(dirname(values), { recursive: true, force: true });
    if (out.code !== 0) throw new Error(`helm template failed: ${out.stderr}`);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest | null);
    const rbac = docs.filter(
      (d): d is Manifest =>
        d !== null &&
        ['ServiceAccount', 'Role', 'RoleBinding'].includes(d.kind) &&
        d.metadata.name === 'chainr-work',
    );
    expect(rbac.map((d) => d.kind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
    for (const doc of rbac) {
      const applied = await api('POST', collectionPath(doc, NS), doc);
      expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    }
    // v1.20's token controller puts the ServiceAccount's token in a Secret.
    let token = '';
    await until('the worker ServiceAccount token', async () => {
      const sa = await api('GET', `/api/v1/namespaces/${NS}/serviceaccounts/chainr-work`);
      const secret = (sa.body.secrets as { name: string }[] | undefined)?.[0]?.name;
      if (!secret) return false;
      const got = await api('GET', `/api/v1/namespaces/${NS}/secrets/${secret}`);
      token = Buffer.from((got.body.data as { token: string }).token, 'base64').toString();
      return token !== '';
    });
    worker = clientFor(cp.kubeConfigFor(token, NS), NS);
  }, 120_000);

  const executor = () => new KubernetesExecutor({ client: worker, timing: TIMING });

  it('runs a job, re-attaches to it and cancels one, every call allowed', async () => {
    const req = request('echo "k=v" >> "$CHAINR_OUTPUTS"; echo started; sleep 1; echo finished');
    // A worker that stops mid-job leaves its Job; the next one finds it (409, get) and follows it.
    const detach = new AbortController();
    const first = executor().run(req, {
      onLog: (line) => line === 'started' && detach.abort(WORKER_SHUTDOWN_REASON),
      signal: detach.signal,
    });
    expect((await first).status).toBe('FAILED');
    const second = await execute(executor(), req);
    expect(second.result).toEqual({
      status: 'SUCCESSFUL',
      exitCode: 0,
      reason: '',
      outputs: { k: 'v' },
    });
    expect(second.lines.filter((l) => !l.startsWith('chainr: '))).toEqual(['started', 'finished']);

    const cancel = new AbortController();
    const canceled = request('echo waiting; sleep 60');
    const stopped = executor().run(canceled, {
      onLog: (line) => line === 'waiting' && cancel.abort('canceled'),
      signal: cancel.signal,
    });
    expect(await stopped).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled' });
    const gone = await api(
      'GET',
      `/apis/batch/v1/namespaces/${NS}/jobs/${kubernetesJobName(canceled)}`,
    );
    expect(gone.status).toBe(404);
  });

  it("lets the worker create a run's workspace claim (through real admission), not delete it", async () => {
    const uid = randomUUID();
    const claim = buildClaimManifest(uid, { size: '16Mi' }, DEFAULT_WORKSPACE_VOLUME, {
      namespace: NS,
    });
    const created = await worker.core.createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: claim,
      fieldValidation: 'Strict',
    });
    expect(created.spec?.resources?.requests?.storage).toBe('16Mi');
    expect(created.metadata?.finalizers).toContain('kubernetes.io/pvc-protection');
    await expect(
      worker.core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: claim }),
    ).rejects.toMatchObject({ code: 409 });
    await expect(
      worker.core.deleteNamespacedPersistentVolumeClaim({ name: runClaimName(uid), namespace: NS }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('refuses what the Role does not grant: listing Secrets, creating pods', async () => {
    await expect(worker.core.listNamespacedSecret({ namespace: NS })).rejects.toMatchObject({
      code: 403,
    });
    await expect(
      worker.core.createNamespacedPod({
        namespace: NS,
        body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'busybox' }] } },
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(worker.core.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({
      code: 403,
    });
  });
});

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const PLURALS: Record<string, string> = { Ingress: 'ingresses', NetworkPolicy: 'networkpolicies' };
function collectionPath(doc: Manifest, namespace: string): string {
  const base = doc.apiVersion.includes('/') ? `/apis/${doc.apiVersion}` : `/api/${doc.apiVersion}`;
  const plural = PLURALS[doc.kind] ?? `${doc.kind.toLowerCase()}s`;
  return `${base}/namespaces/${namespace}/${plural}`;
}

describe('every manifest the chart renders, applied with a server-side dry run', () => {
  const NS = 'pipelines';
  let dir: string;

  beforeAll(async () => {
    await createNamespace(NS);
    dir = mkdtempSync(join(tmpdir(), 'chainr-chart-dry-run-'));
    // The PodMonitor of metrics.podMonitor is a Prometheus Operator resource: its CRD, reduced
    // to the kind (its schema is the operator's), so that the server accepts the kind at all.
    const crd = await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'podmonitors.monitoring.coreos.com' },
      spec: {
        group: 'monitoring.coreos.com',
        names: { kind: 'PodMonitor', plural: 'podmonitors', singular: 'podmonitor' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        ],
      },
    });
    expect(crd.status, JSON.stringify(crd.body)).toBe(201);
    await until('the PodMonitor CRD', async () => {
      const got = await api('GET', `/apis/monitoring.coreos.com/v1/namespaces/${NS}/podmonitors`);
      return got.status === 200;
    });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(SET_NAMES)('values %s: every manifest accepted', async (set) => {
    const values = join(dir, `${set}.yaml`);
    writeFileSync(values, JSON.stringify(VALUE_SETS[set]));
    const out = await helm(helmBinary(), [
      'template',
      'chainr',
      CHART,
      '--namespace',
      NS,
      '-f',
      values,
    ]);
    expect(out.code, out.stderr).toBe(0);
    const docs = parseAllDocuments(out.stdout)
      .map((d) => d.toJS() as Manifest | null)
      .filter((d): d is Manifest => d !== null);
    expect(docs.length).toBeGreaterThan(5);
    const refused: string[] = [];
    for (const doc of docs) {
      const answer = await api('POST', `${collectionPath(doc, NS)}?dryRun=All`, doc);
      if (answer.status !== 201)
        refused.push(`${doc.kind} ${doc.metadata.name}: ${String(answer.body.message)}`);
    }
    expect(refused.join('\n')).toBe('');
  });
});

/** Every leaf of a JSON value by its path (`.spec.template.spec.containers[0].image`). */
function leaves(value: unknown, path = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value))
      for (const [p, leaf] of leaves(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`))
        out.set(p, leaf);
  else out.set(path, value);
  return out;
}

describe('the Job manifest through real admission, compared with the simulator', () => {
  let sim: KubeSim;
  beforeAll(async () => {
    sim = await KubeSim.start({ namespaces: ['conformance'] });
  });
  afterAll(() => sim?.stop());

  /**
   * What v1.20 has not got, and the simulator (a current cluster) adds: fields of later versions
   * (completionMode and suspend 1.21, podReplacementPolicy 1.28), the batch.kubernetes.io/ labels
   * (1.27, which also moved the selector to batch.kubernetes.io/controller-uid); and what a dry
   * run does not assign (resourceVersion, generation). Identity values (uid) differ by nature.
   */
  const VERSION_ONLY =
    /^\.spec\.(completionMode|podReplacementPolicy|suspend)$|batch\.kubernetes\.io\/|controller-uid$|^\.metadata\.(uid|resourceVersion|generation|creationTimestamp|managedFields|selfLink)/;

  it('is accepted, and defaulted as the simulator defaults it', async () => {
    const req = request('echo', {
      env: { A: 'b' },
      timeoutMs: 5000,
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      kubernetes: {
        nodeSelector: { disk: 'ssd' },
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
        imagePullSecrets: ['registry'],
      },
    });
    // As the chart deploys the worker: with chainr-exec's init container.
    const manifest = buildJobManifest(req, {
      namespace: 'conformance',
      ttlSecondsAfterFinished: 60,
      helperImage: HELPER_IMAGE,
    });
    const real = await admin('conformance').batch.createNamespacedJob({
      namespace: 'conformance',
      body: manifest,
      dryRun: 'All',
    });
    const simulated = await connectKubernetes({
      kubeconfigPaths: [sim.writeKubeconfig({ namespace: 'conformance' })],
    }).batch.createNamespacedJob({ namespace: 'conformance', body: manifest });
    const differences = (a: unknown, b: unknown) => {
      const [x, y] = [leaves(a), leaves(b)];
      return [...new Set([...x.keys(), ...y.keys()])]
        .filter((p) => !VERSION_ONLY.test(p) && x.get(p) !== y.get(p))
        .map(
          (p) => `${p}: real ${JSON.stringify(x.get(p))}, simulator ${JSON.stringify(y.get(p))}`,
        );
    };
    expect(differences(real, simulated)).toEqual([]);
  });
});
