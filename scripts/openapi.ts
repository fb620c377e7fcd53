/**
 * Writes docs/openapi.json from the API's own route schemas (the same document the API serves at
 * /api/openapi.json). Run with `npm run docs:openapi` after changing a route.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startPrivateRedis } from '../src/process/private-redis.ts';
import { buildSched } from '../src/services/sched/service.ts';
import { connect } from '../src/store/connection.ts';
import { makeKeys } from '../src/store/keys.ts';

const dir = await mkdtemp(join(tmpdir(), 'chainr-openapi-'));
const own = await startPrivateRedis(dir);
const redis = { addr: own.addr, password: own.password };
const commands = connect(redis);
const app = await buildSched({
  redis: commands,
  connectBlocking: () => connect(redis),
  keys: makeKeys('openapi:'),
  maxEvents: 100,
  maxLogLines: 100,
  maxJobsPerPipeline: 1000,
  bodyLimitBytes: 1024 * 1024,
  defaultExecutor: 'local',
  logger: pino({ level: 'silent' }),
});
await app.ready();
await writeFile(
  new URL('../docs/openapi.json', import.meta.url),
  `${JSON.stringify(app.swagger(), null, 2)}\n`,
);
await app.close();
commands.disconnect();
await own.stop();
await rm(dir, { recursive: true, force: true });
console.log('wrote docs/openapi.json');
