/**
 * The API's wire contract, written once: every object the API sends or takes, as a JSON Schema
 * (TypeBox) from which the server's response schemas, the OpenAPI document and the TypeScript
 * types of the CLI and the UI all come. A field added here is serialized by the server, shown in
 * the document and known to both clients; nowhere else declares these shapes.
 *
 * Objects are open (`additionalProperties`): a newer server may add fields, as the original
 * chainr's clients expect.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  DELIVERY_STATUSES,
  JOB_STATUSES,
  RUN_STATUSES,
  type DeliveryStatus,
  type JobStatus,
  type Pipeline,
  type RunStatus,
} from '../core/types.ts';

/** A string of one of `values`, written as `enum` (the form OpenAPI tools read best). */
const StringEnum = <T extends string>(
  values: readonly T[],
  options: Record<string, unknown> = {},
) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** An object of string keys, each holding `value` (`additionalProperties`, not a pattern). */
const StringMap = <V extends TSchema>(value: V, options: Record<string, unknown> = {}) =>
  Type.Unsafe<Record<string, Static<V>>>({
    type: 'object',
    additionalProperties: value,
    ...options,
  });

const Timestamp = (description?: string) =>
  Type.String({ format: 'date-time', ...(description && { description }) });

const open = { additionalProperties: true } as const;

/** The pipeline JSON Schema (src/core/pipeline.schema.json), registered by the server as `Pipeline`. */
export const PIPELINE_SCHEMA_ID = 'Pipeline';
const PipelineRef = Type.Unsafe<Pipeline>({ $ref: PIPELINE_SCHEMA_ID });

/** The services that report instances, in the order requests flow through them. */
export const SERVICES = ['sched', 'work', 'notif', 'recycle'] as const;
export type Service = (typeof SERVICES)[number];
export const MEDIUM_TYPES = ['log', 'webhook', 'slack', 'email', 'unknown'] as const;
export type MediumType = (typeof MEDIUM_TYPES)[number];

// ---- runs and jobs ----

export const JobAttemptSchema = Type.Object(
  {
    attempt: Type.Integer(),
    status: StringEnum<JobStatus>(JOB_STATUSES),
    startedAt: Type.Optional(Timestamp()),
    finishedAt: Type.Optional(Timestamp()),
    exitCode: Type.Optional(Type.Integer()),
    reason: Type.Optional(Type.String()),
  },
  { $id: 'JobAttempt', ...open },
);
export type JobAttempt = Static<typeof JobAttemptSchema>;

export const ArtifactSchema = Type.Object(
  {
    name: Type.String(),
    kind: StringEnum<'file' | 'directory'>(['file', 'directory'], {
      description: 'A file is downloaded as its bytes; a directory as a tar archive of its content',
    }),
    size: Type.Integer({ description: "Bytes stored (the tar archive's, for a directory)" }),
    sha256: Type.String({ description: 'Hex SHA-256 of the bytes stored' }),
    attempt: Type.Integer({ description: 'The attempt that stored it' }),
  },
  { $id: 'Artifact', ...open },
);
export type Artifact = Static<typeof ArtifactSchema>;

export const ArtifactListSchema = Type.Object(
  { items: Type.Array(Type.Ref(ArtifactSchema)) },
  { $id: 'ArtifactList', ...open },
);
export type ArtifactList = Static<typeof ArtifactListSchema>;

export const JobSchema = Type.Object(
  {
    name: Type.String(),
    status: StringEnum<JobStatus>(JOB_STATUSES),
    executor: Type.Optional(
      Type.String({
        description:
          "What runs the job: local (a process on a worker's host; image not used), container, kubernetes or noop",
      }),
    ),
    attempt: Type.Optional(Type.Integer()),
    startedAt: Type.Optional(Timestamp()),
    finishedAt: Type.Optional(Timestamp()),
    exitCode: Type.Optional(Type.Integer()),
    reason: Type.Optional(
      Type.String({ description: 'Why the job failed, was skipped or canceled' }),
    ),
    tolerated: Type.Optional(
      Type.Boolean({
        description: 'Present (true) when the job FAILED and was allowed to (allowFailure)',
      }),
    ),
    logTruncated: Type.Optional(
      Type.Boolean({
        description:
          "Present (true) when an attempt's log reached the byte limit (CHAINR_LOG_JOB_BYTES) and the rest of its output was dropped",
      }),
    ),
    outputs: Type.Optional(
      StringMap(Type.String(), { description: 'key=value pairs the job wrote to $CHAINR_OUTPUTS' }),
    ),
    artifacts: Type.Optional(
      Type.Array(Type.Ref(ArtifactSchema), {
        description: 'The artifacts its successful attempt stored (GET .../artifacts/{name})',
      }),
    ),
    attempts: Type.Optional(
      Type.Array(Type.Ref(JobAttemptSchema), {
        description: 'Every attempt of the job, oldest first; the last is the current one',
      }),
    ),
  },
  { $id: 'Job', ...open },
);
export type Job = Static<typeof JobSchema>;

export const RunSchema = Type.Object(
  {
    kind: Type.Literal('Run'),
    metadata: Type.Object(
      {
        uid: Type.String(),
        selfLink: Type.String(),
        creationTimestamp: Type.Optional(Timestamp()),
        name: Type.Optional(Type.String({ description: "The pipeline's metadata.name" })),
        labels: Type.Optional(StringMap(Type.String())),
      },
      open,
    ),
    params: Type.Optional(
      StringMap(Type.String(), { description: 'The value of every parameter of the run' }),
    ),
    status: StringEnum<RunStatus>(RUN_STATUSES),
    reason: Type.Optional(Type.String({ description: 'Why the run failed or was canceled' })),
    createdAt: Type.Optional(Timestamp()),
    startedAt: Type.Optional(Timestamp()),
    finishedAt: Type.Optional(Timestamp()),
    jobs: Type.Array(Type.Ref(JobSchema)),
    warnings: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'In the answer to a submission only: what may keep the run from going on as things are (a job for an executor no live worker serves). The run is created all the same',
      }),
    ),
    pipeline: Type.Optional(
      // Serialized as the object it is; its format is components.schemas.Pipeline.
      Type.Unsafe<Pipeline>({
        type: 'object',
        additionalProperties: true,
        description:
          "The pipeline as submitted (the Pipeline schema), matrix jobs expanded; on GET /api/runs/{uid} and the first event of the run's event stream",
      }),
    ),
  },
  { $id: 'Run', ...open },
);
export type Run = Static<typeof RunSchema>;

const ListMetadata = Type.Object(
  {
    selfLink: Type.String(),
    continue: Type.Optional(
      Type.String({
        description: 'Pass as ?continue= to get the next page; absent on the last page',
      }),
    ),
  },
  open,
);

/** A page of a list: `kind` (`RunList`, ...) names it, `items` are `item`s. */
const ListOf = <Kind extends string, Item extends TSchema>(kind: Kind, item: Item) =>
  Type.Object(
    { kind: Type.Literal(kind), metadata: ListMetadata, items: Type.Array(Type.Ref(item)) },
    { $id: kind, ...open },
  );

export const RunListSchema = ListOf('RunList', RunSchema);
export type RunList = Static<typeof RunListSchema>;

export const RunCountsSchema = Type.Object(
  {
    kind: Type.Literal('RunCounts'),
    counts: Type.Object(
      Object.fromEntries(RUN_STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })])) as Record<
        RunStatus,
        ReturnType<typeof Type.Integer>
      >,
      { description: 'How many runs are in each status' },
    ),
  },
  { $id: 'RunCounts', ...open },
);
export type RunCounts = Static<typeof RunCountsSchema>;

// ---- trends of a pipeline ----

/** The longest window trends look back over, in days. */
export const MAX_TREND_DAYS = 366;

export const PipelineTrendsSchema = Type.Object(
  {
    kind: Type.Literal('PipelineTrends'),
    metadata: Type.Object(
      {
        selfLink: Type.String(),
        name: Type.String({ description: "The pipeline's metadata.name" }),
      },
      open,
    ),
    days: Type.Integer({ minimum: 1, description: 'The window: the last this many UTC days' }),
    archived: Type.Boolean({
      description:
        'Whether archived runs are counted; false: no archive is configured, only the ended runs still in Redis are',
    }),
    runs: Type.Array(
      Type.Object(
        {
          uid: Type.String(),
          status: StringEnum<RunStatus>(RUN_STATUSES),
          createdAt: Timestamp(),
          finishedAt: Timestamp(),
          durationMs: Type.Integer({
            minimum: 0,
            description: 'From its start (its creation if it never started) to its end',
          }),
        },
        open,
      ),
      { description: 'The newest ended runs of the window, oldest first' },
    ),
    daily: Type.Array(
      Type.Object(
        {
          day: Type.String({ format: 'date', description: 'A UTC day' }),
          successful: Type.Integer({ minimum: 0 }),
          failed: Type.Integer({ minimum: 0 }),
          canceled: Type.Integer({ minimum: 0 }),
        },
        open,
      ),
      { description: 'How the runs that ended each day of the window ended, oldest day first' },
    ),
    slowestJobs: Type.Array(
      Type.Object(
        {
          job: Type.String(),
          attempts: Type.Integer({ minimum: 1, description: 'Finished attempts in the window' }),
          avgMs: Type.Integer({ minimum: 0 }),
          p95Ms: Type.Integer({ minimum: 0, description: 'Nearest-rank 95th percentile' }),
          maxMs: Type.Integer({ minimum: 0 }),
        },
        open,
      ),
      { description: 'Jobs by their 95th percentile duration, longest first' },
    ),
  },
  { $id: 'PipelineTrends', ...open },
);
export type PipelineTrends = Static<typeof PipelineTrendsSchema>;

// ---- events (Server-Sent Events) ----

export const TransitionEventSchema = Type.Object(
  {
    id: Type.Optional(
      Type.String({ description: 'The stream entry id; send it as Last-Event-ID to resume' }),
    ),
    uid: Type.String({ description: 'The run uid' }),
    job: Type.Optional(Type.String({ description: "Absent for a run's own transitions" })),
    status: StringEnum<RunStatus | JobStatus>(JOB_STATUSES),
    reason: Type.Optional(Type.String()),
    time: Type.Integer({ description: "ms since the epoch, by the server's clock" }),
  },
  { $id: 'TransitionEvent', ...open },
);
export type TransitionEvent = Static<typeof TransitionEventSchema>;

export const RunEndEventSchema = Type.Object(
  { uid: Type.String(), status: StringEnum<RunStatus>(RUN_STATUSES) },
  { $id: 'RunEndEvent', ...open },
);
export type RunEndEvent = Static<typeof RunEndEventSchema>;

export const EventGapSchema = Type.Object(
  {
    after: Type.String({ description: 'The Last-Event-ID the client sent' }),
    message: Type.String({ description: 'What was lost and what to do: list the runs again' }),
  },
  { $id: 'EventGap', ...open },
);
export type EventGap = Static<typeof EventGapSchema>;

// ---- errors ----

export const ErrorDetailSchema = Type.Object(
  {
    path: Type.String({
      description: 'e.g. jobs.error.dependsOn[0].job; empty for the whole document',
    }),
    message: Type.String(),
    line: Type.Optional(Type.Integer({ description: '1-based line in the request body' })),
    column: Type.Optional(Type.Integer({ description: '1-based column in the request body' })),
  },
  { $id: 'ErrorDetail', ...open },
);
export type ErrorDetail = Static<typeof ErrorDetailSchema>;

export const ErrorSchema = Type.Object(
  {
    kind: Type.Literal('Error'),
    error: Type.String(),
    details: Type.Optional(
      Type.Array(Type.Ref(ErrorDetailSchema), {
        description: 'Each problem of an invalid pipeline, with its path and position in the body',
      }),
    ),
  },
  { $id: 'Error', ...open },
);
export type ErrorBody = Static<typeof ErrorSchema>;

/** The body of POST /api/runs: a pipeline, or a pipeline with the values of its parameters. */
export const SubmissionSchema = Type.Union(
  [
    PipelineRef,
    Type.Object(
      {
        pipeline: PipelineRef,
        params: Type.Optional(
          StringMap(Type.String(), { description: 'A value for each parameter of the pipeline' }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { $id: 'Submission' },
);
export type Submission = Static<typeof SubmissionSchema>;

// ---- schedules ----

export const ScheduleSchema = Type.Object(
  {
    kind: Type.Literal('Schedule'),
    metadata: Type.Object(
      {
        uid: Type.String(),
        selfLink: Type.String(),
        name: Type.Optional(Type.String()),
        creationTimestamp: Type.Optional(Timestamp()),
      },
      open,
    ),
    cron: Type.String(),
    timezone: Type.Optional(Type.String({ description: 'An IANA time zone; UTC by default' })),
    paused: Type.Boolean(),
    nextRunAt: Type.Optional(Timestamp('When it next creates a run; absent while paused')),
    nextRunsAt: Type.Optional(
      Type.Array(Timestamp(), {
        description: 'When it creates its next three runs, as its cron reads; absent while paused',
      }),
    ),
    lastRun: Type.Optional(
      Type.Object(
        {
          uid: Type.String(),
          status: StringEnum<RunStatus>(RUN_STATUSES),
          creationTimestamp: Timestamp(),
        },
        { ...open, description: 'The newest run it created, when there is one' },
      ),
    ),
    runs: Type.Optional(
      Type.String({ description: 'The runs it created: an /api/runs path with a label selector' }),
    ),
    params: Type.Optional(StringMap(Type.String())),
    pipeline: Type.Unsafe<Pipeline>({
      type: 'object',
      additionalProperties: true,
      description: 'The pipeline it runs (the Pipeline schema)',
    }),
  },
  { $id: 'Schedule', ...open },
);
export type Schedule = Static<typeof ScheduleSchema>;

export const ScheduleListSchema = ListOf('ScheduleList', ScheduleSchema);
export type ScheduleList = Static<typeof ScheduleListSchema>;

/** The body of POST /api/schedules. */
export const NewScheduleSchema = Type.Object(
  {
    cron: Type.String({
      description: '5 fields (minute hour day month weekday), or 6 with seconds',
    }),
    timezone: Type.Optional(Type.String({ description: 'An IANA time zone; UTC by default' })),
    name: Type.Optional(Type.String()),
    pipeline: PipelineRef,
    params: Type.Optional(StringMap(Type.String())),
  },
  { $id: 'NewSchedule', additionalProperties: false },
);
export type NewSchedule = Static<typeof NewScheduleSchema>;

// ---- notifications ----

export const NotificationSchema = Type.Object(
  {
    kind: Type.Literal('Notification'),
    metadata: Type.Object(
      {
        uid: Type.String({ description: 'The idempotency key: <event id>/<rule>/<medium>' }),
        creationTimestamp: Type.Optional(Timestamp()),
      },
      open,
    ),
    event: Type.String({ description: 'failure, success, start, job-failure, ...' }),
    eventId: Type.String({ description: 'The event stream entry' }),
    run: Type.Object(
      {
        uid: Type.String(),
        name: Type.Optional(Type.String({ description: "The pipeline's metadata.name" })),
        selfLink: Type.String(),
      },
      open,
    ),
    job: Type.Optional(Type.String()),
    rule: Type.String({
      description: "0, 1, ... the pipeline's rules; d0, ... the deployment's",
    }),
    medium: Type.String({ description: 'The medium name (webhook / email when inline)' }),
    mediumType: StringEnum(MEDIUM_TYPES),
    inline: Type.Boolean({ description: 'Defined in the pipeline rather than the deployment' }),
    status: StringEnum<DeliveryStatus>(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    lastError: Type.Optional(Type.String({ description: 'Why the last attempt failed' })),
    createdAt: Type.Optional(Timestamp()),
    updatedAt: Type.Optional(Timestamp()),
    nextAttemptAt: Type.Optional(Timestamp('When the next attempt is due, while retrying')),
  },
  { $id: 'Notification', ...open },
);
export type Notification = Static<typeof NotificationSchema>;

export const NotificationListSchema = ListOf('NotificationList', NotificationSchema);
export type NotificationList = Static<typeof NotificationListSchema>;

// ---- operations ----

const ServiceCounts = StringMap(Type.Integer({ minimum: 0 }), {
  description: 'Live instances per service',
});

export const InstanceSchema = Type.Object(
  {
    id: Type.String({ description: 'host, pid and a random suffix' }),
    service: StringEnum(SERVICES),
    host: Type.String(),
    pid: Type.Integer(),
    version: Type.String({ description: 'chainr version' }),
    startedAt: Timestamp(),
    lastSeen: Timestamp('Its last heartbeat'),
    executors: Type.Optional(
      Type.Array(Type.String(), {
        description: 'work: the executors whose queues it takes jobs from',
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({ description: 'work: jobs it runs at once per executor' }),
    ),
  },
  { $id: 'Instance', ...open },
);
export type Instance = Static<typeof InstanceSchema>;

export const InstanceListSchema = Type.Object(
  {
    kind: Type.Literal('InstanceList'),
    counts: ServiceCounts,
    items: Type.Array(Type.Ref(InstanceSchema), {
      description: 'Grouped by service (sched, work, notif, recycle), oldest first in each',
    }),
  },
  { $id: 'InstanceList', ...open },
);
export type InstanceList = Static<typeof InstanceListSchema>;

export const HealthSchema = Type.Object(
  {
    kind: Type.Literal('Health'),
    status: Type.Literal('ok'),
    redis: Type.Object({ latencyMs: Type.Number({ description: 'Of one PING' }) }, open),
    instances: ServiceCounts,
  },
  { $id: 'Health', ...open },
);
export type Health = Static<typeof HealthSchema>;

// ---- discovery ----

export const APIResourceListSchema = Type.Object(
  {
    kind: Type.Literal('APIResourceList'),
    metadata: Type.Object({ selfLink: Type.String() }, open),
    groupVersion: Type.String(),
    resources: StringMap(
      Type.Object(
        {
          url: Type.String(),
          description: Type.String(),
          kind: Type.String(),
          verbs: Type.Array(Type.String()),
        },
        open,
      ),
      { description: 'Keyed by name, as the original chainr did' },
    ),
  },
  { $id: 'APIResourceList', ...open },
);
export type APIResourceList = Static<typeof APIResourceListSchema>;

/** Every named schema, in the order the document lists them. */
export const WIRE_SCHEMAS = [
  ArtifactSchema,
  ArtifactListSchema,
  JobAttemptSchema,
  JobSchema,
  RunSchema,
  RunListSchema,
  RunCountsSchema,
  PipelineTrendsSchema,
  TransitionEventSchema,
  RunEndEventSchema,
  EventGapSchema,
  ErrorDetailSchema,
  ErrorSchema,
  SubmissionSchema,
  ScheduleSchema,
  ScheduleListSchema,
  NewScheduleSchema,
  NotificationSchema,
  NotificationListSchema,
  InstanceSchema,
  InstanceListSchema,
  HealthSchema,
  APIResourceListSchema,
] as const;
