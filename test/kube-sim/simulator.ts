/**
 * A Kubernetes API server simulator for tests: the REST and watch wire protocol of the endpoints
 * chainr uses, over TLS with a bearer token, backed by an in-memory store, a Job controller and a
 * kubelet that runs each pod's command as a local process. Faults are injected through `faults`
 * and the methods below. See docs/KUBERNETES.md for what it does and does not model.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJob, deleteJob, getJob, listJobs, type ApiState } from './api-jobs.ts';
import { deletePod, getPod, listPods, podLog } from './api-pods.ts';
import { ClaimController, createClaim, deleteClaim, getClaim, listClaims } from './api-claims.ts';
import { createSecret, deleteSecret, getSecret } from './api-secrets.ts';
import { Faults, type RequestInfo } from './faults.ts';
import { sendJson, sendStatus, type Ctx } from './http-util.ts';
import { JobController } from './job-controller.ts';
import type { ImageFiles } from './container-process.ts';
import { Kubelet } from './kubelet.ts';
import { statuses } from './status.ts';
import { Store } from './store.ts';
import { kubeconfig, servingCert } from './tls.ts';
import type { OpenWatch } from './watch-stream.ts';
import { route, VERSION } from './routes.ts';

export interface KubeSimOptions {
  /** Namespaces that exist besides `default`. */
  namespaces?: string[];
  /** The user RBAC messages name. */
  user?: string;
  /** Pace of scheduling and image-pull retries (ms). */
  stepMs?: number;
  /** Replaces pods' termination grace period (ms), to keep tests short. */
  killGraceMs?: number;
  /** Interval of watch bookmarks when clients ask for them (ms). */
  bookmarkMs?: number;
  /**
   * How long after a change its watch event is sent, as a real API server's watch cache lags
   * behind etcd (ms): a client's own create is then answered before its watch shows it.
   */
  watchLagMs?: number;
  /** Added to every request before it is served, as a distant or busy API server (ms). */
  latencyMs?: number;
  /** Images whose files a directory stands for: absolute commands are looked up there. */
  images?: ImageFiles;
}

export interface RequestRecord extends RequestInfo {
  path: string;
  query: string;
  status: number | undefined;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KubeSim {
  readonly faults = new Faults();
  readonly store = new Store();
  readonly requests: RequestRecord[] = [];
  readonly token = `sim-${crypto.randomUUID()}`;
  private readonly root = mkdtempSync(join(tmpdir(), 'kube-sim-'));
  private readonly kubelet: Kubelet;
  private readonly controller: JobController;
  private readonly claims: ClaimController;
  private readonly api: ApiState;
  private readonly namespaces: Set<string>;
  private readonly sockets = new Set<Socket>();
  private readonly cert = servingCert();
  private server: Server | undefined;
  private port = 0;
  private accepted = 0;

  private constructor(private readonly options: KubeSimOptions) {
    this.kubelet = new Kubelet(this.store, this.faults, {
      root: this.root,
      stepMs: options.stepMs ?? 100,
      killGraceMs: options.killGraceMs,
      ...(options.images && { images: options.images }),
    });
    this.controller = new JobController(this.store, this.kubelet, this.faults);
    this.claims = new ClaimController(this.store);
    this.api = {
      store: this.store,
      controller: this.controller,
      watches: new Set<OpenWatch>(),
      bookmarkMs: options.bookmarkMs ?? 60_000,
      watchLagMs: options.watchLagMs ?? 0,
      created: new Map(),
    };
    this.namespaces = new Set(['default', ...(options.namespaces ?? [])]);
  }

  static async start(options: KubeSimOptions = {}): Promise<KubeSim> {
    const sim = new KubeSim(options);
    await sim.listen(0);
    return sim;
  }

  /** Connections accepted since the start. */
  get connections(): number {
    return this.accepted;
  }

  /** Watches open now. */
  get openWatches(): number {
    return this.api.watches.size;
  }

  get url(): string {
    return `${this.cert ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The CA of the serving certificate (undefined when serving plain HTTP). */
  get caCert(): string | undefined {
    return this.cert?.cert;
  }

  /** Successful Job creations: all of them, or those of one Job name. */
  jobsCreated(name?: string): number {
    if (name !== undefined) return this.api.created.get(name) ?? 0;
    return [...this.api.created.values()].reduce((a, b) => a + b, 0);
  }

  /** Writes a kubeconfig for this simulator and returns its path. */
  writeKubeconfig(options: { namespace?: string; token?: string; file?: string } = {}): string {
    const file = options.file ?? join(this.root, `kubeconfig-${crypto.randomUUID()}.json`);
    const config = kubeconfig(
      this.url,
      this.cert?.cert,
      options.token ?? this.token,
      options.namespace,
    );
    writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  }

  /** Ends every open watch with an ERROR 410 Expired event after compacting the history. */
  expireWatches(): void {
    this.store.compact();
    const oldest = Number(this.store.currentRv());
    for (const w of [...this.api.watches]) w.expire(oldest);
  }

  /** Ends every open watch cleanly, as the API server does at its watch timeout. */
  closeWatches(): void {
    for (const w of [...this.api.watches]) w.close();
  }

  /**
   * Restarts the API server: every connection is cut, connections are refused for `downMs`, then
   * it serves again on the same port. The store, the controller and running pods carry on, as
   * etcd, the controller manager and the kubelets do; `compact` also forgets the watch history.
   */
  async restart(options: { downMs?: number; compact?: boolean } = {}): Promise<void> {
    await this.close();
    if (options.compact) this.store.compact();
    await sleep(options.downMs ?? 300);
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    this.controller.stop();
    this.claims.close();
    this.kubelet.stopAll();
    await this.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  private async listen(port: number): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent)
          res.writeHead(500).end(JSON.stringify(statuses.internal(String(err))));
        else res.destroy();
      });
    };
    const server = this.cert ? createHttpsServer(this.cert, handler) : createHttpServer(handler);
    server.on('connection', (socket: Socket) => {
      this.accepted += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const found = route(req.method ?? 'GET', url);
    const info: RequestInfo = found?.info ?? {
      verb: 'get',
      method: req.method ?? 'GET',
      resource: '',
    };
    const ctx: Ctx = { req, res, url, info, dropResponse: false };
    const record: RequestRecord = {
      ...info,
      path: url.pathname,
      query: url.search,
      status: undefined,
      at: Date.now(),
    };
    this.requests.push(record);
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    try {
      await this.serve(ctx, found);
    } finally {
      record.status = ctx.answered;
    }
  }

  private async serve(ctx: Ctx, found: ReturnType<typeof route>): Promise<void> {
    const { url, info } = ctx;
    if (url.pathname === '/version') return sendJson(ctx, 200, VERSION);
    if (ctx.req.headers.authorization !== `Bearer ${this.token}`)
      return sendStatus(ctx, statuses.unauthorized());
    if (!found) return sendStatus(ctx, statuses.pathNotFound());
    const ref = { group: info.resource === 'jobs' ? 'batch' : '', resource: info.resource };
    if (this.faults.isForbidden(info))
      return sendStatus(
        ctx,
        statuses.forbidden(
          ref,
          info.verb,
          this.options.user ?? 'system:serviceaccount:chainr:chainr-worker',
          info.namespace ?? '',
          info.name,
          info.subresource,
        ),
      );
    const injected = this.faults.take(info);
    if (injected && 'status' in injected)
      return sendJson(ctx, injected.status.code, injected.status, injected.headers);
    if (injected && 'drop' in injected) return void ctx.req.socket.destroy();
    if (injected && 'dropAfterApply' in injected) ctx.dropResponse = true;
    const ns = info.namespace;
    if (ns !== undefined && !this.namespaces.has(ns))
      return sendStatus(ctx, statuses.namespaceNotFound(ns));
    return this.dispatch(ctx, ns);
  }

  private async dispatch(ctx: Ctx, ns: string | undefined): Promise<void> {
    const { verb, resource, subresource, name } = ctx.info;
    const api = this.api;
    if (resource === 'jobs') {
      if (verb === 'create' && ns) return createJob(ctx, api, ns);
      if ((verb === 'list' || verb === 'watch') && !name) return listJobs(ctx, api, ns);
      if (verb === 'get' && ns && name) return getJob(ctx, api, ns, name);
      if (verb === 'delete' && ns && name) return deleteJob(ctx, api, ns, name);
    }
    if (resource === 'pods' && ns) {
      if (subresource === 'log' && name && verb === 'get')
        return podLog(ctx, api, this.kubelet, ns, name);
      if (subresource) return sendStatus(ctx, statuses.methodNotAllowed());
      if ((verb === 'list' || verb === 'watch') && !name) return listPods(ctx, api, ns);
      if (verb === 'get' && name) return getPod(ctx, api, ns, name);
      if (verb === 'delete' && name) return deletePod(ctx, api, this.kubelet, ns, name);
    }
    if (resource === 'persistentvolumeclaims' && ns) {
      if (verb === 'create') return createClaim(ctx, api, ns);
      if ((verb === 'list' || verb === 'watch') && !name) return listClaims(ctx, api, ns);
      if (verb === 'get' && name) return getClaim(ctx, api, ns, name);
      if (verb === 'delete' && name) return deleteClaim(ctx, api, this.claims, ns, name);
    }
    if (resource === 'secrets' && ns) {
      if (verb === 'create') return createSecret(ctx, api, ns);
      if (verb === 'get' && name) return getSecret(ctx, api, ns, name);
      if (verb === 'delete' && name) return deleteSecret(ctx, api, ns, name);
    }
    sendStatus(ctx, statuses.methodNotAllowed());
  }
}
