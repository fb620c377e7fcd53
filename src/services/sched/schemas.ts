/** Pieces of sched's route schemas; the objects themselves are the wire contract's (src/api). */
import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorSchema } from '../../api/wire.ts';

/** What each error status of a route means, as the document says it. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid: the error says what and where (path, line, column)',
  404: 'No such run, job or schedule',
  409: "The run's state does not allow it: the error says why",
  413: 'The body is larger than the limit (CHAINR_BODY_LIMIT)',
  415: 'The body is of a content type that is not JSON, YAML or a form',
  503: 'The store (Redis) is unavailable, or the server is shutting down: try again shortly',
};

/** The route's error answers, each an Error object. */
export const errorResponses = (...codes: (keyof typeof ERROR_DESCRIPTIONS)[]) =>
  Object.fromEntries(
    codes.map((c) => [c, Type.Ref(ErrorSchema, { description: ERROR_DESCRIPTIONS[c] })]),
  );

/** A 2xx answer with a body of `schema`. */
export const answer = (schema: TSchema, description: string) => Type.Ref(schema, { description });

/** A 201 or 202 answer: the object, and a `Location` header naming it. */
export const created = (schema: TSchema, description: string, location: string) => ({
  ...Type.Ref(schema, { description }),
  headers: { location: { type: 'string', description: location, required: true } },
});

/**
 * A 200 answer streamed as text (`text/plain`, `text/event-stream`) rather than JSON; `events`
 * names the schema of each event's data (under `$defs`, where the document links them).
 */
export const streamed = (
  contentType: string,
  description: string,
  body: string,
  events?: Record<string, TSchema>,
) => ({
  description,
  content: {
    [contentType]: {
      schema: {
        type: 'string',
        description: body,
        ...(events && {
          $defs: Object.fromEntries(Object.entries(events).map(([n, s]) => [n, Type.Ref(s)])),
        }),
      },
    },
  },
});

export const uidParams = Type.Object(
  { uid: Type.String({ description: 'The run uid' }) },
  { additionalProperties: false },
);
