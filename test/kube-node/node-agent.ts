/**
 * The node of a real control plane that has no kubelet (test/fixtures/kube-control-plane.ts): what
 * a kubelet does, through the real API. It registers a Node, binds each pending pod to it, runs
 * the pod's first container as a local process (the simulator's container-process.ts), reports
 * each step with PATCH pods/{name}/status, serves the logs on the node's port over HTTPS (the
 * kubelet's /containerLogs, which the API server's pods/log proxies to), and ends pods the API
 * marks for deletion: SIGTERM, SIGKILL after the grace period, then delete with grace 0.
 */
import type { ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { killGroup, runContainer, type ImageFiles } from '../kube-sim/container-process.ts';
import { runInitContainers } from '../kube-sim/init-containers.ts';
import { resolveSecretRefs, type ReadSecret } from '../kube-sim/api-secrets.ts';
import { PodLog, serveLog } from '../kube-sim/pod-log.ts';
import * as status from '../kube-sim/pod-status.ts';
import { apiTime } from '../kube-sim/store.ts';
import { servingCert } from '../kube-sim/tls.ts';

export interface NodeAgentOptions {
  server: string;
  ca: string;
  token: string;
  nodeName?: string;
  /** Replaces pods' termination grace period (ms), to keep tests short. */
  killGraceMs?: number;
  /** Images whose files a directory stands for: absolute commands are looked up there. */
  images?: ImageFiles;
}

type Pod = IPod & { metadata: { name: string; namespace: string; uid: string } };

interface PodRuntime {
  pod: Pod;
  log: PodLog;
  sandbox: string;
  child?: ChildProcess;
  exited: Promise<void>;
  deleting: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const podKey = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

export class NodeAgent {
  readonly nodeName: string;
  private readonly pods = new Map<string, PodRuntime>();
  /** Pods whose processes ended and that were deleted, by uid: a late event does not rerun them. */
  private readonly done = new Set<string>();
  private readonly root = mkdtempSync(join(tmpdir(), 'chainr-node-'));
  private readonly stopping = new AbortController();
  private logServer: Server | undefined;
  private watching: Promise<void> = Promise.resolve();
  private watchRequest: ReturnType<typeof request> | undefined;

  private constructor(private readonly options: NodeAgentOptions) {
    this.nodeName = options.nodeName ?? 'chainr-test-node';
  }

  static async start(options: NodeAgentOptions): Promise<NodeAgent> {
    const agent = new NodeAgent(options);
    await agent.serveLogs();
    await agent.register();
    agent.watching = agent.watchPods();
    return agent;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.watchRequest?.destroy();
    await this.watching;
    for (const rt of this.pods.values()) killGroup(rt.child, 'SIGKILL');
    await Promise.all([...this.pods.values()].map((rt) => rt.exited));
    await new Promise<void>((done) =>
      this.logServer ? this.logServer.close(() => done()) : done(),
    );
    rmSync(this.root, { recursive: true, force: true });
  }

  /** One call to the API server, as the node's credentials; the answer's status and JSON body. */
  async api(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await this.send(method, path, body, contentType);
    let text = '';
    for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString();
    const json = res.headers['content-type']?.startsWith('application/json') && text !== '';
    return {
      status: res.statusCode ?? 0,
      body: json
        ? (JSON.parse(text) as Record<string, unknown>)
        : { message: `${text} (${JSON.stringify(res.headers)})` },
    };
  }

  private send(method: string, path: string, body: unknown, contentType: string) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        new URL(path, this.options.server),
        {
          method,
          ca: this.options.ca,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            ...(text !== undefined && {
              'content-type': contentType,
              'content-length': String(Buffer.byteLength(text)),
            }),
          },
        },
        resolve,
      );
      req.on('error', reject);
      if (path.includes('watch=')) this.watchRequest = req;
      req.end(text);
    });
  }

  private async serveLogs(): Promise<void> {
    const cert = servingCert();
    if (!cert) throw new Error("openssl is needed for the node agent's HTTPS log server");
    this.logServer = createServer(cert, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://node');
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const rt = m && this.pods.get(`${m[1]}/${m[2]}`);
      if (!rt) {
        res.writeHead(404).end('no such container');
        return;
      }
      serveLog(res, rt.log, url.searchParams);
    });
    await new Promise<void>((done) => this.logServer?.listen(0, '127.0.0.1', done));
  }

  private async register(): Promise<void> {
    const port = (this.logServer?.address() as AddressInfo).port;
    const created = await this.api('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.nodeName, labels: { 'kubernetes.io/hostname': this.nodeName } },
    });
    if (created.status !== 201 && created.status !== 409)
      throw new Error(`creating the Node failed: ${JSON.stringify(created.body)}`);
    const patched = await this.api(
      'PATCH',
      `/api/v1/nodes/${this.nodeName}/status`,
      {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'the test node agent is ready',
              lastHeartbeatTime: apiTime(),
              lastTransitionTime: apiTime(),
            },
          ],
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: this.nodeName },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
          capacity: { cpu: '2', memory: '4Gi', pods: '110' },
          allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        },
      },
      'application/merge-patch+json',
    );
    if (patched.status !== 200)
      throw new Error(`reporting the Node's status failed: ${JSON.stringify(patched.body)}`);
  }

  /** List, then watch every pod of the cluster; a watch that ends is resumed (or relisted). */
  private async watchPods(): Promise<void> {
    let rv: string | undefined;
    while (!this.stopping.signal.aborted) {
      try {
        if (rv === undefined) {
          const listed = await this.api('GET', '/api/v1/pods');
          for (const pod of (listed.body.items ?? []) as Pod[]) this.observe(pod);
          rv = (listed.body.metadata as { resourceVersion: string }).resourceVersion;
        }
        const res = await this.send(
          'GET',
          `/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
          undefined,
          '',
        );
        if (res.statusCode !== 200) {
          res.resume();
          rv = undefined; // e.g. 410 Gone for a resourceVersion too old: relist
          continue;
        }
        for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: Pod & { code?: number } };
          if (event.type === 'ERROR') {
            rv = undefined; // 410 Gone: relist
            break;
          }
          rv = event.object.metadata.resourceVersion ?? rv;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') this.observe(event.object);
        }
      } catch {
        if (!this.stopping.signal.aborted) await sleep(200);
      }
    }
  }

  private observe(pod: Pod): void {
    const rt = this.pods.get(podKey(pod));
    if (pod.metadata.deletionTimestamp) return void this.terminate(pod, rt);
    if (this.done.has(pod.metadata.uid) || rt) return;
    if (!pod.spec?.nodeName) return void this.bind(pod);
    if (pod.spec.nodeName !== this.nodeName) return;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    this.run(pod);
  }

  private async bind(pod: Pod): Promise<void> {
    const { namespace, name } = pod.metadata;
    // 409: bound already (an earlier event of the same pod); 404: deleted meanwhile.
    await this.call(
      `binding ${namespace}/${name}`,
      'POST',
      `/api/v1/namespaces/${namespace}/pods/${name}/binding`,
      {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name },
        target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
      },
      [201, 409, 404],
    );
  }

  private async setStatus(pod: Pod, next: IPod['status']): Promise<void> {
    const { namespace, name } = pod.metadata;
    await this.call(
      `status of ${namespace}/${name}`,
      'PATCH',
      `/api/v1/namespaces/${namespace}/pods/${name}/status`,
      { status: next },
      [200, 404],
      'application/merge-patch+json',
    );
  }

  /**
   * A call a kubelet retries until the API server takes it (a scheduler's bind, a status report):
   * retried while unreachable or answering other than `expected`, for at most 30 s.
   */
  private async call(
    what: string,
    method: string,
    path: string,
    body: unknown,
    expected: number[],
    contentType?: string,
  ): Promise<void> {
    let last = '';
    for (let tries = 0; tries < 150 && !this.stopping.signal.aborted; tries += 1) {
      try {
        const answer = await this.api(method, path, body, contentType);
        if (expected.includes(answer.status)) return;
        last = `HTTP ${answer.status} ${String(answer.body.message)}`;
      } catch (err) {
        last = String(err);
      }
      await sleep(200);
    }
    if (!this.stopping.signal.aborted) console.error(`node agent: ${what} failed: ${last}`);
  }

  /**
   * The container's variables, those from Secrets read through the API server as a kubelet
   * reads them; while one is missing, the container waits (CreateContainerConfigError).
   * Undefined when the pod was deleted meanwhile.
   */
  private async containerEnv(
    pod: Pod,
    container: IContainer,
    startTime: string,
    rt: PodRuntime,
  ): Promise<IEnvVar[] | undefined> {
    const { namespace } = pod.metadata;
    const read: ReadSecret = async (name) => {
      const path = `/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(name)}`;
      const res = await this.api('GET', path);
      if (res.status === 404) return undefined;
      if (res.status !== 200)
        throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body.data ?? {}) as Record<string, string>;
    };
    let shown = '';
    for (;;) {
      const resolved = await resolveSecretRefs(namespace, container.env ?? [], read);
      if ('env' in resolved) return resolved.env;
      if (rt.deleting || this.stopping.signal.aborted) return undefined;
      if (resolved.problem !== shown)
        await this.setStatus(
          pod,
          status.waiting(
            [container],
            startTime,
            'CreateContainerConfigError',
            (shown = resolved.problem),
          ),
        );
      await sleep(500);
    }
  }

  private run(pod: Pod): void {
    const container = pod.spec?.containers[0];
    let exited: () => void = () => undefined;
    const rt: PodRuntime = {
      pod,
      log: new PodLog(),
      sandbox: join(this.root, pod.metadata.uid),
      exited: new Promise<void>((done) => (exited = done)),
      deleting: false,
    };
    this.pods.set(podKey(pod), rt);
    const startTime = apiTime();
    const lifecycle = async () => {
      if (!container) return;
      await this.setStatus(pod, status.waiting([container], startTime, 'ContainerCreating'));
      const env = await this.containerEnv(pod, container, startTime, rt);
      if (!env || rt.deleting) return;
      const images = this.options.images ?? {};
      const init = await runInitContainers({
        podName: pod.metadata.name,
        pod,
        sandbox: rt.sandbox,
        startTime,
        images,
        report: (next) => this.setStatus(pod, next),
        started: (child) => {
          rt.child = child;
          if (rt.deleting) killGroup(child, 'SIGTERM');
        },
        deleting: () => rt.deleting,
      });
      if (!init.ok || rt.deleting) return;
      const withInits = (next: IPod['status']) =>
        init.statuses.length > 0 ? { ...next, initContainerStatuses: init.statuses } : next;
      const result = await runContainer(
        pod.metadata.name,
        { ...container, env },
        rt.sandbox,
        rt.log,
        {
          started: (child, startedAt) => {
            rt.child = child;
            if (rt.deleting) killGroup(child, 'SIGTERM');
            void this.setStatus(
              pod,
              withInits(
                status.podStatus(
                  [container],
                  startTime,
                  new Map([[container.name, { kind: 'running', pid: child.pid, startedAt }]]),
                ),
              ),
            );
          },
          oomKilled: () => false,
        },
        images,
      );
      await this.setStatus(
        pod,
        withInits(
          status.podStatus(
            [container],
            startTime,
            new Map([[container.name, { kind: 'terminated', pid: rt.child?.pid, result }]]),
          ),
        ),
      );
    };
    lifecycle()
      .catch((err: unknown) => rt.log.append(`node agent: ${String(err)}`))
      .finally(() => {
        rt.log.end();
        exited();
      });
  }

  /** As a kubelet ends a pod's grace period: SIGTERM, SIGKILL when it is over, then delete. */
  private async terminate(pod: Pod, rt: PodRuntime | undefined): Promise<void> {
    if (rt?.deleting) return;
    if (rt) {
      rt.deleting = true;
      killGroup(rt.child, 'SIGTERM');
      const graceMs =
        this.options.killGraceMs ?? (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
      const timer = setTimeout(() => killGroup(rt.child, 'SIGKILL'), graceMs);
      await rt.exited;
      clearTimeout(timer);
    }
    const { namespace, name, uid } = pod.metadata;
    this.done.add(uid);
    await this.call(
      `deleting ${namespace}/${name}`,
      'DELETE',
      `/api/v1/namespaces/${namespace}/pods/${name}`,
      { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
      [200, 404, 409],
    );
    if (rt) {
      this.pods.delete(podKey(pod));
      rmSync(rt.sandbox, { recursive: true, force: true });
    }
  }
}
