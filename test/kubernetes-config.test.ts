/** The kubernetes executor's configuration: when it is enabled, and how it finds its cluster. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { connectKubernetes } from '../src/executors/kubernetes/client.ts';
import { kubeconfig } from './kube-sim/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainr-k8s-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CHAINR_KUBERNETES and detection', () => {
  it('is off by default, on when asked, detected from KUBECONFIG or a pod, off when told', () => {
    expect(loadConfig({}).kubernetes).toBeUndefined();
    expect(loadConfig({ CHAINR_KUBERNETES: '1' }).kubernetes).toMatchObject({
      explicit: true,
      kubeconfigPaths: [],
    });
    expect(loadConfig({ CHAINR_EXECUTOR: 'kubernetes' }).kubernetes?.explicit).toBe(true);
    expect(loadConfig({ KUBECONFIG: '/a:/b' }).kubernetes).toMatchObject({
      explicit: false,
      kubeconfigPaths: ['/a', '/b'],
    });
    expect(loadConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }).kubernetes).toMatchObject({
      explicit: false,
      inCluster: true,
    });
    expect(loadConfig({ KUBECONFIG: '/a', CHAINR_KUBERNETES: '0' }).kubernetes).toBeUndefined();
  });

  it('reads its settings, with defaults', () => {
    expect(loadConfig({ CHAINR_KUBERNETES: '1' }).kubernetes).toEqual({
      explicit: true,
      kubeconfigPaths: [],
      inCluster: false,
      imagePullGraceMs: 120_000,
      unschedulableGraceMs: 300_000,
      ttlSecondsAfterFinished: 3600,
      context: undefined,
      namespace: undefined,
      instance: undefined,
      rateLimits: { qps: 20, burst: 30 },
    });
    const k = loadConfig({
      CHAINR_KUBERNETES: '1',
      CHAINR_KUBERNETES_CONTEXT: 'prod',
      CHAINR_KUBERNETES_NAMESPACE: 'jobs',
      CHAINR_KUBERNETES_IMAGE_PULL_GRACE: '45s',
      CHAINR_KUBERNETES_UNSCHEDULABLE_GRACE: '1m30s',
      CHAINR_KUBERNETES_JOB_TTL: '2h',
      CHAINR_KUBERNETES_INSTANCE: 'eu',
      CHAINR_KUBERNETES_QPS: '50',
      CHAINR_KUBERNETES_BURST: '100',
    }).kubernetes;
    expect(k).toMatchObject({
      context: 'prod',
      namespace: 'jobs',
      imagePullGraceMs: 45_000,
      unschedulableGraceMs: 90_000,
      ttlSecondsAfterFinished: 7200,
      instance: 'eu',
      rateLimits: { qps: 50, burst: 100 },
    });
  });

  it('refuses values it cannot read, naming the variable', () => {
    expect(() => loadConfig({ CHAINR_KUBERNETES: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ CHAINR_KUBERNETES: '1', CHAINR_KUBERNETES_JOB_TTL: 'soon' })).toThrow(
      /CHAINR_KUBERNETES_JOB_TTL/,
    );
    expect(() => loadConfig({ CHAINR_KUBERNETES: '1', CHAINR_KUBERNETES_QPS: '0' })).toThrow(
      /CHAINR_KUBERNETES_QPS: expected an integer >= 1, got "0"/,
    );
  });
});

describe('connectKubernetes', () => {
  const file = join(dir, 'config.json');
  const config = kubeconfig('https://127.0.0.1:6443', undefined, 'token', 'team-a');
  writeFileSync(
    file,
    JSON.stringify({
      ...config,
      contexts: [
        ...config.contexts,
        { name: 'other', context: { cluster: 'kube-sim', user: 'chainr-worker' } },
      ],
    }),
  );

  it("takes the namespace from the context, an override, or else 'default'", () => {
    expect(connectKubernetes({ kubeconfigPaths: [file] }).namespace).toBe('team-a');
    expect(connectKubernetes({ kubeconfigPaths: [file], namespace: 'jobs' }).namespace).toBe(
      'jobs',
    );
    expect(connectKubernetes({ kubeconfigPaths: [file], context: 'other' }).namespace).toBe(
      'default',
    );
  });

  it('says which context is missing, and which file is', () => {
    expect(() => connectKubernetes({ kubeconfigPaths: [file], context: 'nope' })).toThrow(
      `Kubernetes context "nope" is not in kubeconfig ${file}`,
    );
    expect(() => connectKubernetes({ kubeconfigPaths: [join(dir, 'missing')] })).toThrow(/ENOENT/);
  });
});
