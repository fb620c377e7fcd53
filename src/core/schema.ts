/**
 * The pipeline JSON Schema, compiled once when it is first needed, and its errors translated
 * into issues worded for people (`jobs.first.image: is required`, `jobs.first: unknown field "imgae"`).
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from './pipeline.schema.json' with { type: 'json' };
import type { Issue, Segment } from './issues.ts';
import { isRecord, own } from './issues.ts';

/** The JSON Schema of the pipeline format (draft-07), as served to users and editors. */
export const pipelineSchema: Readonly<Record<string, unknown>> = schema;

/** ajv's options for the pipeline schema, shared with the UI's build-time copy of the validator. */
// Union types: an env value is a string or a secret reference.
export const SCHEMA_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true } as const;
let compiled: ValidateFunction | undefined;

/**
 * The schema's validator, compiled on first use: compiling takes a tenth of a second or more,
 * which a service that validates no pipeline (gate, work, recycle) does not spend starting.
 * A service that does compiles it with `prepareValidator` before it serves, not at the first
 * pipeline (on its event loop).
 */
function validator(): ValidateFunction {
  compiled ??= new Ajv(SCHEMA_OPTIONS).compile(schema);
  return compiled;
}

/** Compiles the validator now. */
export function prepareValidator(): void {
  validator();
}

/** The JSON pointer of an ajv error as segments, numbers where the value is an array. */
function pointerToPath(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const path: Segment[] = [];
  let current = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      path.push(index);
      current = current[index] as unknown;
    } else {
      path.push(key);
      current = isRecord(current) ? own(current, key) : undefined;
    }
  }
  return path;
}

function valueAt(root: unknown, path: Segment[]): unknown {
  let current = root;
  for (const segment of path)
    current =
      isRecord(current) || Array.isArray(current)
        ? own(current as Record<string, unknown>, String(segment))
        : undefined;
  return current;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  object: 'an object',
  array: 'an array',
  boolean: 'a boolean (true or false)',
  number: 'a number',
  integer: 'an integer',
  null: 'null',
  'string,object': 'a string or a secret reference ({secret: {name, key}})',
};

/** What a value failing each pattern of the schema should look like. */
const PATTERN_MESSAGES: Record<string, string> = {
  '^([0-9]+(ms|s|m|h))+$': 'must be a duration such as "90s", "15m" or "1h30m"',
  '^[0-9]+(\\.[0-9]+)?m?$': 'must be a CPU quantity such as "500m", "0.5" or "2"',
  '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$':
    'must be a memory quantity such as "64Mi" or "1Gi"',
  '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$': "must be a DNS name (lowercase letters, digits, '-' and '.')",
  '^https?://[^\\s/?#@\\\\]+([/?#][^\\s]*)?$':
    'must be an http:// or https:// URL without a user name or password (send credentials in a header)',
  '^[^\\r\\n\\u0000]*$': 'must not contain a line break (CR, LF) or a NUL character',
  '^(?!\\.\\.)(?!\\.$)[-._a-zA-Z0-9]+$':
    "must be a secret key (letters, digits, '-', '_' and '.', not '.' nor starting with '..')",
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function translate(error: ErrorObject, root: unknown): Issue | undefined {
  const path = pointerToPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  const limit = Number(params['limit']);
  // A job's `run` or `command` (the schema's only oneOf): one error says which is wrong.
  if (error.schemaPath.includes('/oneOf/')) return undefined;
  switch (error.keyword) {
    case 'oneOf':
      // A job that is not an object passes both branches: its type error says what is wrong.
      if (!isRecord(valueAt(root, path))) return undefined;
      return {
        path,
        message:
          params['passingSchemas'] === null
            ? 'needs "run" (a shell command) or "command" (a program and its arguments)'
            : 'has both "run" and "command": give one of them',
      };
    case 'if':
      // A job's args without command (its only if/then): the then's required error says which.
      return undefined;
    case 'minItems':
      return { path, message: `must have at least ${plural(limit, 'item')}` };
    case 'required':
      // A job's `if args then command`: the fault is the args, given without their program.
      if (error.schemaPath.endsWith('/then/required') && params['missingProperty'] === 'command')
        return {
          path: [...path, 'args'],
          message: 'needs "command" (the program the arguments are for)',
        };
      return { path: [...path, String(params['missingProperty'])], message: 'is required' };
    case 'additionalProperties': {
      const field = String(params['additionalProperty']);
      return {
        path,
        message: `unknown field ${JSON.stringify(field)}`,
        at: [...path, field],
        atKey: true,
      };
    }
    case 'type': {
      const type = String(params['type']);
      const expected = TYPE_NAMES[type] ?? type;
      return {
        path,
        message: path.length === 0 ? `the pipeline must be ${expected}` : `must be ${expected}`,
      };
    }
    case 'const':
      return { path, message: `must be ${JSON.stringify(params['allowedValue'])}` };
    case 'minLength':
      return {
        path,
        message:
          limit === 1 ? 'must not be empty' : `must be at least ${plural(limit, 'character')} long`,
      };
    case 'maxLength':
      return { path, message: `must be at most ${plural(limit, 'character')} long` };
    case 'minProperties':
      return {
        path,
        message:
          path.length === 1 && path[0] === 'jobs'
            ? 'must contain at least one job'
            : `must have at least ${plural(limit, 'entry')}`.replace('entrys', 'entries'),
      };
    case 'propertyNames':
      return undefined; // reported by the error about the name itself
    case 'pattern':
      if (error.propertyName !== undefined) break;
      return {
        path,
        message: PATTERN_MESSAGES[String(params['pattern'])] ?? 'has an invalid format',
      };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'minimum':
      return { path, message: `must be at least ${limit}` };
    case 'maximum':
      return { path, message: `must be at most ${limit}` };
    case 'maxProperties':
      return {
        path,
        message: `must have at most ${plural(limit, 'entry')}`.replace('entrys', 'entries'),
      };
    case 'maxItems':
      return { path, message: `must have at most ${plural(limit, 'item')}` };
    default:
      break;
  }
  if (error.propertyName !== undefined) {
    // A job name that is not a DNS-1123 label: the graph checks say so (graph.ts), in their words.
    if (error.schemaPath.startsWith('#/properties/jobs/propertyNames')) return undefined;
    const key = error.propertyName;
    const label = error.schemaPath.includes('/labels/');
    const identifier = error.schemaPath.includes('/params/') || error.schemaPath.includes('/env/');
    return {
      path: [...path, key],
      message: label
        ? `label key ${JSON.stringify(key)} must be 1 to 63 characters of letters, digits, '.', '_', '/' and '-'`
        : identifier
          ? `name ${JSON.stringify(key)} must be letters, digits and '_', not starting with a digit`
          : `key ${JSON.stringify(key)} ${error.message ?? 'is invalid'}`,
      atKey: true,
    };
  }
  return { path, message: error.message ?? 'is invalid' };
}

/** Checks a value against the pipeline schema; every violation is one issue. */
export function schemaIssues(value: unknown): Issue[] {
  const validate = validator();
  if (validate(value)) return [];
  const issues: Issue[] = [];
  for (const error of validate.errors ?? []) {
    const issue = translate(error, value);
    if (issue) issues.push(issue);
  }
  return issues;
}
