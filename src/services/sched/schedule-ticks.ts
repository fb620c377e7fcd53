/** Schedule ticks: each creates a run of the schedule's pipeline, labelled with the schedule. */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { SCHEDULE_QUEUE, type Keys } from '../../store/keys.ts';
import type { ScheduleStore, TickData } from '../../store/schedules.ts';
import type { Submitter } from './submit.ts';

export const SCHEDULE_LABEL = 'chainr.io/schedule';

export function startScheduleTicks(options: {
  connection: Redis;
  keys: Keys;
  schedules: ScheduleStore;
  submitter: Submitter;
  logger: FastifyBaseLogger;
}): Worker<TickData> {
  const { schedules, submitter, logger } = options;
  const worker = new Worker<TickData>(
    SCHEDULE_QUEUE,
    async (tick) => {
      const schedule = await schedules.get(tick.data.scheduleId);
      if (!schedule || schedule.paused) return 'inactive';
      if (!(await schedules.claimTick(tick.id ?? `${tick.data.scheduleId}:${tick.timestamp}`)))
        return 'duplicate';
      const submitted = await submitter.submit(schedule.pipeline, schedule.params, {
        [SCHEDULE_LABEL]: schedule.id,
      });
      if (!submitted.ok) {
        logger.error(
          { schedule: schedule.id, errors: submitted.errors },
          'schedule tick could not create a run',
        );
        return 'invalid';
      }
      logger.info({ schedule: schedule.id, run: submitted.uid }, 'schedule tick created a run');
      return submitted.uid;
    },
    { connection: options.connection, prefix: options.keys.bullPrefix, concurrency: 4 },
  );
  worker.on('error', (err) => logger.error({ err }, 'schedule worker error'));
  return worker;
}
