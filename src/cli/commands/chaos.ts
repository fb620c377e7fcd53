/**
 * `chainr chaos local | kubernetes`: the chaos monkey. Locally it supervises N processes of each
 * service and SIGKILLs one at random; in a cluster it deletes a random chainr pod.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../../core/durations.ts';
import { removedOnExit } from '../../process/exit-cleanup.ts';
import type { CliContext } from '../context.ts';
import { action, CliError, EXIT } from '../context.ts';

function duration(value: string): number {
  if (!/^([0-9]+(ms|s|m|h))+$/.test(value))
    throw new InvalidArgumentError('expected a duration such as "1s", "60s" or "10m"');
  return parseDuration(value);
}

/** --interval, shown with its default as written. */
function intervalOption(description: string, fallback: string): Option {
  return new Option('--interval <duration>', description)
    .argParser(duration)
    .default(parseDuration(fallback), fallback);
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}

/** Resolves on Ctrl-C or SIGTERM (how Kubernetes stops a pod). */
function stopRequested(ctx: CliContext): Promise<void> {
  process.once('SIGTERM', () => ctx.interrupt.abort());
  return new Promise((done) => ctx.interrupt.signal.addEventListener('abort', () => done()));
}

interface LocalFlags {
  sched: number;
  work: number;
  notif: number;
  recycle: number;
  interval: number;
  fast?: boolean;
  duration?: number;
  report?: string;
  port: number;
  sentinel?: boolean;
  redisInterval: number;
}

/** A Sentinel topology in a temporary directory, removed when this process exits. */
async function startSentinelTopology(say: (line: string) => void) {
  const { SentinelTopology } = await import('../../chaos/sentinel.ts');
  const dir = await mkdtemp(join(tmpdir(), 'chainr-chaos-sentinel-'));
  removedOnExit(dir);
  const topology = await SentinelTopology.start(dir);
  say(
    `chaos: Sentinel topology, sentinels on ${topology.addrs.join(', ')}, master "${topology.masterName}"`,
  );
  return topology;
}

interface KubernetesFlags {
  interval: number;
  namespace?: string;
  selector: string;
}

export function registerChaos(program: Command, ctx: CliContext): void {
  const chaos = program
    .command('chaos')
    .description('Kill chainr processes or pods at random, to prove it keeps going');

  chaos
    .command('local')
    .description(
      'Run N processes of each service on one Redis, restart those that die, and SIGKILL a random one at random intervals',
    )
    .option('--sched <n>', 'sched processes', count, 2)
    .option('--work <n>', 'work processes', count, 3)
    .option('--notif <n>', 'notif processes', count, 1)
    .option('--recycle <n>', 'recycle processes', count, 2)
    .addOption(intervalOption('average time between kills', '10s'))
    .option('--fast', 'kill ten times as often')
    .option('--duration <duration>', 'stop after this long (default: until Ctrl-C)', duration)
    .option('--report <file>', 'write a JSON report of the kills and restarts there')
    .option('--port <port>', 'port of the first sched; the others follow', count, 8080)
    .option(
      '--sentinel',
      'run the processes on a private Sentinel topology (a master, a replica, three sentinels) and SIGKILL its master too',
    )
    .addOption(
      new Option(
        '--redis-interval <duration>',
        'with --sentinel: average time between master kills',
      )
        .argParser(duration)
        .default(parseDuration('30s'), '30s'),
    )
    .addHelpText(
      'after',
      `
Uses the Redis in REDIS_URL (or REDIS_ADDR...), else starts a private redis-server as \`chainr up\`
does. With --sentinel it starts its own Sentinel topology instead (redis-server from PATH, free
loopback ports): the Redis master is SIGKILLed every ~--redis-interval, and started again as the
replica of the one promoted.
The processes inherit the environment (CHAINR_*); their log lines are printed prefixed
with their name. Ctrl-C stops them all.

Example:
  chainr chaos local --sched 2 --work 3 --notif 1 --recycle 2 --interval 1s --duration 10m`,
    )
    .action(
      action(ctx, async (flags: LocalFlags) => {
        const { loadConfig, ConfigError } = await import('../../config.ts');
        const { startPrivateRedis } = await import('../../process/private-redis.ts');
        const { runLocalChaos } = await import('../../chaos/local.ts');
        let config;
        try {
          config = loadConfig();
        } catch (err) {
          if (err instanceof ConfigError) throw new CliError(err.message);
          throw err;
        }
        const say = (line: string) => ctx.stderr.write(`${line}\n`);
        const topology = flags.sentinel ? await startSentinelTopology(say) : undefined;
        const own =
          topology || config.redisConfigured ? undefined : await startPrivateRedis(config.dataDir);
        if (own) say(`chaos: private redis-server on ${own.addr}`);
        try {
          await runLocalChaos({
            counts: {
              sched: flags.sched,
              work: flags.work,
              notif: flags.notif,
              recycle: flags.recycle,
            },
            redis: topology
              ? { sentinel: topology, masterKillIntervalMs: flags.redisInterval }
              : own
                ? { addr: own.addr, password: own.password }
                : config.redis,
            port: flags.port,
            intervalMs: flags.fast ? Math.max(100, flags.interval / 10) : flags.interval,
            ...(flags.duration !== undefined && { durationMs: flags.duration }),
            ...(flags.report !== undefined && { reportPath: flags.report }),
            print: say,
            interrupted: stopRequested(ctx),
          });
        } finally {
          await own?.stop();
          await topology?.stop();
        }
        return EXIT.ok;
      }),
    );

  chaos
    .command('kubernetes')
    .description('Delete a random pod matching a label selector at random intervals, never its own')
    .addOption(intervalOption('average time between deletions', '60s'))
    .option(
      '--namespace <ns>',
      'namespace of the pods (default: $POD_NAMESPACE, else the current one)',
    )
    .option('--selector <labels>', 'label selector of the pods', 'app.kubernetes.io/part-of=chainr')
    .addHelpText(
      'after',
      `
Connects as the kubernetes executor does: KUBECONFIG, else the pod's service account, else
~/.kube/config. Its own pod ($POD_NAME) is never deleted.

Example:
  chainr chaos kubernetes --interval 60s --selector app.kubernetes.io/part-of=chainr,app.kubernetes.io/instance=chainr`,
    )
    .action(
      action(ctx, async (flags: KubernetesFlags) => {
        const { connectKubernetes } = await import('../../executors/kubernetes/client.ts');
        const { deleteRandomPod } = await import('../../chaos/kubernetes.ts');
        const { everyAround } = await import('../../chaos/supervisor.ts');
        const env = process.env;
        let client;
        try {
          client = connectKubernetes({
            kubeconfigPaths: (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean),
            inCluster: Boolean(env.KUBERNETES_SERVICE_HOST),
            namespace: flags.namespace ?? (env.POD_NAMESPACE || undefined),
          });
        } catch (err) {
          throw new CliError(`kubernetes: ${(err as Error).message}`);
        }
        const say = (line: string) => ctx.stderr.write(`${line}\n`);
        const spare = env.POD_NAME || undefined;
        say(
          `chaos: deleting a pod matching ${flags.selector} in ${client.namespace} every ~${flags.interval} ms`,
        );
        const monkey = everyAround(
          flags.interval,
          async () => {
            const victim = await deleteRandomPod(client.core, {
              namespace: client.namespace,
              selector: flags.selector,
              ...(spare !== undefined && { spare }),
            });
            say(victim ? `chaos: deleted pod ${victim}` : 'chaos: no pod to delete');
          },
          (err) => say(`chaos: could not delete a pod: ${(err as Error).message}`),
        );
        await stopRequested(ctx);
        monkey.stop();
        return EXIT.ok;
      }),
    );
}
