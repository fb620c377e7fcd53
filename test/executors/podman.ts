/**
 * A container engine for the container executor's tests: podman (or docker) as installed, with an
 * image the tests build themselves — Debian's busybox-static as a root filesystem, imported as
 * `localhost/busybox` — so that no registry is needed. podman gets a configuration that works in
 * an unprivileged sandbox (runc, cgroupfs, file events, no network namespace, vfs storage in a
 * temporary directory), through CONTAINERS_CONF and CONTAINERS_STORAGE_CONF: the tests set it
 * up, the product does not require it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestEngine {
  engine: string;
  image: string;
  /** The worker's environment now, plus the engine's test configuration. */
  env(): NodeJS.ProcessEnv;
  /** The executor's workRoot, removed with the rest. */
  workRoot: string;
  stop(): void;
}

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find(
  (p) => spawnSync(p, ['true']).status === 0,
);

export function podmanAvailable(): boolean {
  return BUSYBOX !== undefined && spawnSync('podman', ['--version']).status === 0;
}

export function startPodman(): TestEngine {
  const root = mkdtempSync(join(tmpdir(), 'chainr-podman-'));
  writeFileSync(
    join(root, 'containers.conf'),
    [
      '[containers]',
      'netns = "none"',
      'default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]',
      '[engine]',
      // Its own state directory: podman instances of parallel test files must not share one.
      `tmp_dir = "${root}/libpod"`,
      `volume_path = "${root}/volumes"`,
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'storage.conf'),
    `[storage]\ndriver = "vfs"\nrunroot = "${root}/run"\ngraphroot = "${root}/graph"\n`,
  );
  const conf = {
    CONTAINERS_CONF: join(root, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(root, 'storage.conf'),
  };
  const env = () => ({ ...process.env, ...conf });
  const rootfs = join(root, 'rootfs');
  for (const d of ['bin', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX ?? '', join(rootfs, 'bin', 'busybox'));
  const applets = execFileSync(join(rootfs, 'bin', 'busybox'), ['--list'], { encoding: 'utf8' });
  for (const applet of applets.split('\n').filter((a) => a && a !== 'busybox'))
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
  execFileSync('podman', ['import', '-', 'localhost/busybox'], {
    input: tar.stdout,
    env: env(),
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return {
    engine: 'podman',
    image: 'localhost/busybox',
    env,
    workRoot: join(root, 'work'),
    stop() {
      spawnSync('podman', ['rm', '--all', '--force', '--time', '0'], {
        env: env(),
        stdio: 'ignore',
      });
      // Not `podman system reset`: it also clears state other podman instances use.
      rmSync(root, { recursive: true, force: true });
    },
  };
}
