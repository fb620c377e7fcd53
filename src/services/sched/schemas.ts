/** JSON Schemas of the API's objects, for the OpenAPI document and response serialization. */

const timestamp = { type: 'string', format: 'date-time' } as const;

export const JobSchema = {
  $id: 'Job',
  type: 'object',
  additionalProperties: true,
  required: ['name', 'status'],
  properties: {
    name: { type: 'string' },
    status: {
      type: 'string',
      enum: ['PENDING', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'SKIPPED', 'CANCELED'],
    },
    attempt: { type: 'integer' },
    startedAt: timestamp,
    finishedAt: timestamp,
    exitCode: { type: 'integer' },
    reason: { type: 'string', description: 'Why the job failed, was skipped or canceled' },
    outputs: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'key=value pairs the job wrote to $CHAINR_OUTPUTS',
    },
    attempts: {
      type: 'array',
      description: 'Every attempt of the job, oldest first; the last is the current one',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          attempt: { type: 'integer' },
          status: { type: 'string' },
          startedAt: timestamp,
          finishedAt: timestamp,
          exitCode: { type: 'integer' },
          reason: { type: 'string' },
        },
      },
    },
  },
} as const;

export const RunSchema = {
  $id: 'Run',
  type: 'object',
  additionalProperties: true,
  required: ['kind', 'metadata', 'status', 'jobs'],
  properties: {
    kind: { type: 'string', enum: ['Run'] },
    metadata: {
      type: 'object',
      additionalProperties: true,
      properties: {
        uid: { type: 'string' },
        selfLink: { type: 'string' },
        creationTimestamp: timestamp,
        name: { type: 'string', description: "The pipeline's metadata.name" },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    params: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'The value of every parameter of the run',
    },
    status: { type: 'string', enum: ['PENDING', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELED'] },
    reason: { type: 'string', description: 'Why the run failed or was canceled' },
    createdAt: timestamp,
    startedAt: timestamp,
    finishedAt: timestamp,
    jobs: { type: 'array', items: { $ref: 'Job#' } },
    pipeline: {
      type: 'object',
      additionalProperties: true,
      description: 'The pipeline as submitted',
    },
  },
} as const;

export const RunListSchema = {
  $id: 'RunList',
  type: 'object',
  additionalProperties: true,
  properties: {
    kind: { type: 'string', enum: ['RunList'] },
    metadata: {
      type: 'object',
      properties: {
        selfLink: { type: 'string' },
        continue: {
          type: 'string',
          description: 'Pass as ?continue= to get the next page; absent on the last page',
        },
      },
    },
    items: { type: 'array', items: { $ref: 'Run#' } },
  },
} as const;

export const ErrorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['kind', 'error'],
  properties: {
    kind: { type: 'string', enum: ['Error'] },
    error: { type: 'string' },
    // Declared so that response serialization keeps it (undeclared properties are dropped).
    details: {
      type: 'array',
      description: 'Each problem of an invalid pipeline, with its path and position in the body',
      items: {
        type: 'object',
        additionalProperties: true,
        required: ['path', 'message'],
        properties: {
          path: {
            type: 'string',
            description: 'e.g. jobs.error.dependsOn[0].job; empty for the whole document',
          },
          message: { type: 'string' },
          line: { type: 'integer', description: '1-based line in the request body' },
          column: { type: 'integer', description: '1-based column in the request body' },
        },
      },
    },
  },
} as const;

export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, { $ref: 'Error#' }]));

export const uidParams = {
  type: 'object',
  properties: { uid: { type: 'string', description: 'The run uid' } },
  required: ['uid'],
} as const;
