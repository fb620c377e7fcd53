/**
 * TLS for the simulator, and the kubeconfig that trusts it.
 *
 * A self-signed serving certificate for 127.0.0.1, made once per test process with the openssl
 * CLI, so that clients talk TLS with a CA from their kubeconfig as with a real cluster.
 * Undefined when openssl is not installed: the simulator then serves plain HTTP.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServingCert {
  key: string;
  cert: string;
}

let cached: ServingCert | null | undefined;

export function servingCert(): ServingCert | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=kube-sim',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    cached = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch {
    cached = null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cached ?? undefined;
}

/** A kubeconfig (JSON is YAML) for a server: its CA when it serves TLS, a bearer token. */
export function kubeconfig(
  server: string,
  ca: string | undefined,
  token: string,
  namespace = 'default',
) {
  const cluster = ca
    ? { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') }
    : { server, 'insecure-skip-tls-verify': true };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-sim', cluster }],
    users: [{ name: 'chainr-worker', user: { token } }],
    contexts: [
      { name: 'kube-sim', context: { cluster: 'kube-sim', user: 'chainr-worker', namespace } },
    ],
    'current-context': 'kube-sim',
  };
}
