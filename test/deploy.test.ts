/**
 * The deployment files. helm is not installed here, so the chart is not rendered by helm: the
 * RBAC template's rules are plain YAML by design, read from the template with its template
 * actions stripped, asserted exactly and validated against the Kubernetes schemas.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = new URL('../', import.meta.url).pathname;
const CHART = join(ROOT, 'deploy/helm/chainr');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The template's YAML with comments and actions removed and `{{ expr }}` values replaced. */
function stripTemplate(text: string): unknown[] {
  const plain = text
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
    .split('\n')
    .filter((line) => !/^\s*\{\{-?[^}]*-?\}\}\s*$/.test(line))
    // A boolean expression stands for `true`, any other for the name-like "x".
    .map((line) =>
      line.replace(/\{\{-?\s*([^}]*?)\s*-?\}\}/g, (_m, expr: string) =>
        /^(has|eq|ne|and|or|not)\b/.test(expr) ? 'true' : 'x',
      ),
    )
    .join('\n');
  return parseAllDocuments(plain)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null);
}

interface Doc {
  kind: string;
  metadata: { name: string };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

const rbac = stripTemplate(read('deploy/helm/chainr/templates/rbac.yaml')) as Doc[];
const role = (suffix: string) =>
  rbac.find((d) => d.kind === 'Role' && d.metadata.name.endsWith(`-${suffix}`));

describe('Helm chart RBAC (least privilege)', () => {
  it('lets the worker only create/get/list/watch/delete jobs and get/list/watch pods and logs', () => {
    expect(role('work')?.rules).toEqual([
      {
        apiGroups: ['batch'],
        resources: ['jobs'],
        verbs: ['create', 'get', 'list', 'watch', 'delete'],
      },
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('lets recycle only list and delete jobs (orphan collection)', () => {
    expect(role('recycle')?.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'delete'] },
    ]);
  });

  it('lets the chaos monkey only list and delete pods', () => {
    expect(role('chaos')?.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] },
    ]);
  });

  it('has no other roles, no cluster-wide roles and no wildcards anywhere in the chart', () => {
    expect(rbac.filter((d) => d.kind === 'Role')).toHaveLength(3);
    for (const file of readdirSync(join(CHART, 'templates'))) {
      const text = readFileSync(join(CHART, 'templates', file), 'utf8');
      expect(text, file).not.toMatch(/kind:\s*ClusterRole/);
      expect(text, file).not.toMatch(/verbs:.*["']\*["']|resources:.*["']\*["']/);
    }
  });

  it('binds each role to its own service account, and the manifests are valid Kubernetes objects', () => {
    const bindings = rbac.filter((d) => d.kind === 'RoleBinding');
    expect(bindings).toHaveLength(1); // one document in a range over work, recycle, chaos
    for (const doc of rbac) {
      const model =
        doc.kind === 'Role'
          ? new Role(doc)
          : doc.kind === 'RoleBinding'
            ? new RoleBinding(doc as never)
            : new ServiceAccount(doc);
      expect(() => model.validate(), JSON.stringify(doc)).not.toThrow();
    }
    const template = read('deploy/helm/chainr/templates/rbac.yaml');
    expect(template).toContain('range $name := list "work" "recycle" "chaos"');
    expect(template).toMatch(/roleRef:[\s\S]*name: \{\{ \$fullname \}\}-\{\{ \$name \}\}/);
  });
});

describe('Helm chart values and services', () => {
  const values = parse(read('deploy/helm/chainr/values.yaml')) as Record<
    string,
    Record<string, unknown>
  >;

  it('serves chainr.io by an Ingress by default, or a NodePort service', () => {
    expect(values.ingress).toMatchObject({ enabled: true, host: 'chainr.io' });
    expect(values.service).toMatchObject({ type: 'ClusterIP' });
    expect(read('deploy/helm/chainr/templates/services.yaml')).toContain('nodePort:');
  });

  it('deploys sched, work, notif, recycle and gate with replicas, resources and auth', () => {
    const deployments = read('deploy/helm/chainr/templates/deployments.yaml');
    expect(deployments).toContain('list "sched" "work" "notif" "recycle" "gate"');
    for (const name of ['sched', 'work', 'notif', 'recycle', 'gate']) {
      expect(values[name], name).toMatchObject({ replicas: expect.any(Number) as number });
      expect(values[name]?.resources, name).toBeDefined();
    }
    expect(deployments).toContain('readinessProbe');
    expect(deployments).toContain('runAsNonRoot: true');
    expect(deployments).toContain('fail "set auth.tokens or auth.existingSecret');
    expect(values.auth).toMatchObject({ allowUnauthenticated: false, tokens: [] });
  });

  it('supports a bundled Redis StatefulSet or an external one with Sentinel', () => {
    expect(values.redis).toMatchObject({ enabled: true });
    expect(values.redis?.external).toMatchObject({ sentinels: [], master: '' });
    expect(read('deploy/helm/chainr/templates/redis.yaml')).toContain('kind: StatefulSet');
    expect(read('deploy/helm/chainr/templates/_helpers.tpl')).toContain('REDIS_ADDRS');
  });
});

describe('container image', () => {
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

  it('has make targets deploy, chaos, build and test', () => {
    const makefile = read('Makefile');
    for (const target of ['deploy', 'chaos', 'build', 'test'])
      expect(makefile).toMatch(new RegExp(`^${target}:`, 'm'));
    expect(makefile).toContain('upgrade --install');
  });
});
