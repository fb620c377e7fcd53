/**
 * chainr-exec, the wrapper of Kubernetes job containers (src/executors/kubernetes/chainr-exec.c),
 * built as the image builds it and run where a shell-less image would run it: in a root directory
 * holding nothing but chainr-exec itself, a static busybox named busybox (no `sh`), and the pod's
 * volume, entered with chroot in a user namespace of its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HELPER_IN_POD,
  OUTPUTS_FILE,
  OUTPUTS_TOO_LARGE,
} from '../src/executors/kubernetes/manifest.ts';
import { buildChainrExec, type BuiltHelper } from './fixtures/chainr-exec.ts';

const installed = (...paths: string[]) => paths.find((p) => existsSync(p));
const BUSYBOX = installed('/usr/bin/busybox', '/bin/busybox');
// By path: the job's PATH (/bin, in the scratch root) is the one they run with.
const UNSHARE = installed('/usr/bin/unshare', '/bin/unshare') ?? 'unshare';
const CHROOT = installed('/usr/sbin/chroot', '/sbin/chroot', '/usr/bin/chroot') ?? 'chroot';
/** In the scratch root (no /dev there): where the kubelet's termination message would be. */
const TERMINATION = '/chainr/termination-log';

let helper: BuiltHelper;
let root: string;

beforeAll(() => {
  if (!BUSYBOX) throw new Error('busybox is needed (Debian: busybox-static)');
  helper = buildChainrExec();
  root = mkdtempSync(join(tmpdir(), 'chainr-scratch-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'chainr')); // the pod's emptyDir volume
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  // As the init container does: chainr-exec copies itself into the pod's volume.
  const installed = spawnSync(helper.binary, ['install', join(root, HELPER_IN_POD)]);
  if (installed.status !== 0) throw new Error(`install failed: ${String(installed.stderr)}`);
});

afterAll(() => {
  helper.remove();
  rmSync(root, { recursive: true, force: true });
});

/** `chroot <root> chainr-exec run <outputs> <termination> <argv...>` in its own user namespace. */
const command = (argv: string[]) => [
  '--user',
  '--map-root-user',
  CHROOT,
  root,
  HELPER_IN_POD,
  'run',
  OUTPUTS_FILE,
  TERMINATION,
  ...argv,
];
const env = { PATH: '/bin', CHAINR_OUTPUTS: OUTPUTS_FILE };

function run(argv: string[]) {
  const r = spawnSync(UNSHARE, command(argv), { env, encoding: 'utf8' });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    message: readFileSync(join(root, TERMINATION), 'utf8'),
  };
}

describe('chainr-exec', () => {
  it('installs itself, executable by any user, where the init container asks', () => {
    const copy = join(root, HELPER_IN_POD);
    expect(readFileSync(copy).equals(readFileSync(helper.binary))).toBe(true);
    expect(statSync(copy).mode & 0o777).toBe(0o755);
  });

  it('runs a program and its arguments in a root without a shell, as written', () => {
    expect(existsSync(join(root, 'bin', 'sh'))).toBe(false);
    const r = run(['busybox', 'echo', 'a $HOME', '$(CHAINR_OUTPUTS)', '*']);
    expect(r).toEqual({
      status: 0,
      stdout: 'a $HOME $(CHAINR_OUTPUTS) *\n',
      stderr: '',
      message: '',
    });
  });

  it("exits with the program's exit code", () => {
    expect(run(['busybox', 'false']).status).toBe(1);
  });

  it('copies the outputs the program wrote to $CHAINR_OUTPUTS into the termination message', () => {
    const r = run([
      'busybox',
      'awk',
      'BEGIN { print "image_tag=v1.2.3" > ENVIRON["CHAINR_OUTPUTS"]; print "done" }',
    ]);
    expect(r).toEqual({ status: 0, stdout: 'done\n', stderr: '', message: 'image_tag=v1.2.3\n' });
  });

  it('empties the outputs file of an earlier run, and writes a marker for outputs over 4 KiB', () => {
    const big = run([
      'busybox',
      'awk',
      'BEGIN { for (i = 0; i < 500; i++) printf "k%03d=12345\\n", i > ENVIRON["CHAINR_OUTPUTS"] }',
    ]);
    expect(big.message).toBe(`${OUTPUTS_TOO_LARGE}5500`); // 500 lines of 11 bytes
    expect(run(['busybox', 'true']).message).toBe('');
  });

  it('says which program could not be run, and exits 127 as shells do', () => {
    const r = run(['/bin/no-such-program', 'x']);
    expect(r.status).toBe(127);
    expect(r.stderr).toBe(
      'chainr-exec: cannot run "/bin/no-such-program": No such file or directory\n',
    );
  });

  it('passes SIGTERM on to the program and exits with its status', async () => {
    const child = spawn(UNSHARE, command(['busybox', 'sleep', '600']), {
      env,
      stdio: 'ignore',
    });
    const pid = child.pid ?? 0;
    // chainr-exec (unshare and chroot exec it, keeping the pid) has started the program.
    const children = `/proc/${pid}/task/${pid}/children`;
    while (!existsSync(children) || readFileSync(children, 'utf8').trim() === '')
      await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    process.kill(pid, 'SIGTERM'); // chainr-exec alone, not its process group
    expect(await exited).toBe(143);
  });
});
