/**
 * The `docker create` / `podman create` command line of one attempt. Pure.
 *
 * The container is named from the attempt's identity (the same name as its Kubernetes Job would
 * have), so that a worker taking over the attempt finds it instead of starting another. Job
 * variables are passed as `-e NAME` — the value comes from the CLI's own environment — so that
 * values never appear in the host's process list and may hold newlines. No network unless asked.
 */
import { ARTIFACTS_ENV } from '../../core/artifacts.ts';
import type { ExecutionRequest } from '../executor.ts';
import { jobEnvironment, programOf } from '../executor.ts';
import { attemptLabels, kubernetesJobName } from '../kubernetes/naming.ts';

export const OUTPUTS_MOUNT = '/chainr';
/** The inputs' directory, in the directory mounted at OUTPUTS_MOUNT. */
export const INPUTS_DIR = 'artifacts';

/** The container's name: deterministic, valid for docker and podman. */
export function containerName(request: ExecutionRequest): string {
  return kubernetesJobName(request);
}

/** `500m` → `0.5`, `2` → `2`: a Kubernetes CPU quantity as `--cpus`. */
export function cpus(quantity: string): string {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(quantity);
  if (!m) throw new Error(`not a CPU quantity: "${quantity}"`);
  const value = Number(m[1]) / (m[2] ? 1000 : 1);
  return String(Math.round(value * 1000) / 1000);
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** `64Mi` → `67108864`: a Kubernetes memory quantity as `--memory` bytes. */
export function memoryBytes(quantity: string): string {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: "${quantity}"`);
  return String(Math.ceil(Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1)));
}

export interface RunOptions {
  /** Host directory mounted at /chainr, holding the outputs file. */
  outputsDir: string;
  network?: boolean;
  /**
   * The run's workspace on the host, bind-mounted at the same path (so $CHAINR_WORKSPACE names
   * the same directory for every executor of the host), read-only when the job says so.
   */
  workspace?: { path: string; readOnly: boolean };
  /** Whether the job receives artifacts: placed in `outputsDir`/artifacts, $CHAINR_ARTIFACTS. */
  inputs?: boolean;
}

/** Variables the engine's CLI needs for itself: these are passed by value instead. */
const CLI_OWN = /^(PATH|HOME|TMPDIR|USER|XDG_.*|CONTAINERS?_.*|DOCKER_.*|REGISTRY_AUTH_FILE)$/;

/**
 * `create` arguments (the container is then started attached, so that its output streams as it
 * comes), and the variables the CLI must have for `-e NAME`. Creating claims the name atomically:
 * a second worker's create fails, and that worker follows the existing container.
 */
export function createArgs(
  request: ExecutionRequest,
  options: RunOptions,
): { args: string[]; env: Record<string, string> } {
  const workspace = options.workspace;
  const all = {
    ...jobEnvironment(request),
    CHAINR_OUTPUTS: `${OUTPUTS_MOUNT}/outputs`,
    ...(workspace && { CHAINR_WORKSPACE: workspace.path }),
    ...(options.inputs && { [ARTIFACTS_ENV]: `${OUTPUTS_MOUNT}/${INPUTS_DIR}` }),
  };
  const env = Object.fromEntries(Object.entries(all).filter(([k]) => !CLI_OWN.test(k)));
  const byValue = Object.entries(all).filter(([k]) => CLI_OWN.test(k));
  const labels = Object.entries(attemptLabels(request)).flatMap(([k, v]) => [
    '--label',
    `${k}=${v}`,
  ]);
  const limits = request.resources?.limits;
  // The program replaces the image's entrypoint, and its arguments its command.
  const program = programOf(request);
  const args = [
    'create',
    '--name',
    containerName(request),
    ...labels,
    ...(options.network ? [] : ['--network', 'none']),
    ...(limits?.cpu ? ['--cpus', cpus(limits.cpu)] : []),
    ...(limits?.memory ? ['--memory', memoryBytes(limits.memory)] : []),
    '--volume',
    `${options.outputsDir}:${OUTPUTS_MOUNT}`,
    ...(workspace
      ? ['--volume', `${workspace.path}:${workspace.path}${workspace.readOnly ? ':ro' : ''}`]
      : []),
    ...Object.keys(env).flatMap((name) => ['--env', name]),
    ...byValue.flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    '--entrypoint',
    program.file,
    request.image,
    ...program.args,
  ];
  return { args, env };
}
