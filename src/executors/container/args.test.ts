import { describe, expect, it } from 'vitest';
import type { ExecutionRequest } from '../executor.ts';
import { containerName, cpus, memoryBytes, createArgs } from './args.ts';

const request: ExecutionRequest = {
  uid: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  job: 'build',
  attempt: 1,
  image: 'localhost/busybox',
  run: 'make "all"',
  env: { TOKEN: 'se cret\nline' },
};

describe('createArgs', () => {
  it('creates a container named after the attempt that runs sh -c, without network', () => {
    const { args } = createArgs(request, { outputsDir: '/var/tmp/out' });
    expect(args.slice(0, 3)).toEqual(['create', '--name', containerName(request)]);
    expect(args.slice(-4)).toEqual(['sh', 'localhost/busybox', '-c', 'make "all"']);
    expect(args.join(' ')).toContain('--network none');
    expect(args.join(' ')).toContain('--volume /var/tmp/out:/chainr');
    expect(args.join(' ')).toContain('--label chainr.io/attempt=1');
    expect(createArgs(request, { outputsDir: '/o', network: true }).args).not.toContain(
      '--network',
    );
  });

  it("bind-mounts the run's workspace at its own path, read-only when asked, and names it", () => {
    const workspace = { path: '/data/workspaces/run-1', readOnly: false };
    const rw = createArgs(request, { outputsDir: '/o', workspace });
    expect(rw.args.join(' ')).toContain('--volume /data/workspaces/run-1:/data/workspaces/run-1 ');
    expect(rw.env.CHAINR_WORKSPACE).toBe('/data/workspaces/run-1');
    const ro = createArgs(request, {
      outputsDir: '/o',
      workspace: { ...workspace, readOnly: true },
    });
    expect(ro.args.join(' ')).toContain(
      '--volume /data/workspaces/run-1:/data/workspaces/run-1:ro',
    );
    expect(createArgs(request, { outputsDir: '/o' }).env).not.toHaveProperty('CHAINR_WORKSPACE');
  });

  it('names the inputs directory, in the mounted directory, only for a job that receives some', () => {
    expect(createArgs(request, { outputsDir: '/o', inputs: true }).env.CHAINR_ARTIFACTS).toBe(
      '/chainr/artifacts',
    );
    expect(createArgs(request, { outputsDir: '/o' }).env).not.toHaveProperty('CHAINR_ARTIFACTS');
  });

  it('passes variables by name only: values stay out of the command line', () => {
    const { args, env } = createArgs(request, { outputsDir: '/o' });
    expect(env).toMatchObject({
      TOKEN: 'se cret\nline',
      CHAINR_ATTEMPT: '1',
      CHAINR_OUTPUTS: '/chainr/outputs',
    });
    expect(args.join(' ')).not.toContain('se cret');
    expect(args).toEqual(expect.arrayContaining(['--env', 'TOKEN']));
  });

  it("passes by value the variables the engine's CLI needs for itself", () => {
    const { args, env } = createArgs(
      { ...request, env: { PATH: '/opt/bin:/bin' } },
      { outputsDir: '/o' },
    );
    expect(env.PATH).toBeUndefined();
    expect(args).toEqual(expect.arrayContaining(['--env', 'PATH=/opt/bin:/bin']));
  });

  it('maps resource limits to --cpus and --memory', () => {
    const { args } = createArgs(
      {
        ...request,
        resources: { requests: { cpu: '1' }, limits: { cpu: '500m', memory: '64Mi' } },
      },
      { outputsDir: '/o' },
    );
    expect(args.join(' ')).toContain('--cpus 0.5 --memory 67108864');
  });
});

describe('quantities', () => {
  it('converts Kubernetes quantities', () => {
    expect(['2', '0.25', '250m', '1500m'].map(cpus)).toEqual(['2', '0.25', '0.25', '1.5']);
    expect(['1Gi', '500M', '1.5Ki', '100'].map(memoryBytes)).toEqual([
      '1073741824',
      '500000000',
      '1536',
      '100',
    ]);
    expect(() => cpus('lots')).toThrow(/CPU quantity/);
  });
});
