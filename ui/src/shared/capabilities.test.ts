// @vitest-environment node
import { describe, expect, it } from 'vitest';
import committed from '../../../docs/openapi.json';
import { BASELINE, capabilitiesFromOpenApi } from './capabilities.ts';

const op = (extra: Record<string, unknown> = {}) => ({ summary: '', ...extra });

describe('capabilitiesFromOpenApi', () => {
  it('offers nothing beyond the baseline for a document it cannot read', () => {
    expect(capabilitiesFromOpenApi(undefined)).toEqual(BASELINE);
    expect(capabilitiesFromOpenApi({ openapi: '3.0.3' })).toEqual(BASELINE);
  });

  it('reads filters, counts, actions and pages from the paths', () => {
    const doc = {
      paths: {
        '/api/runs': {
          get: op({
            parameters: [
              { in: 'query', name: 'limit' },
              { in: 'query', name: 'status' },
              { in: 'query', name: 'selector' },
            ],
          }),
          post: op({
            summary: 'Schedule a run: a pipeline, or {"pipeline": ..., "params": {...}}',
          }),
        },
        '/api/runs/counts': { get: op() },
        '/api/runs/{uid}/retry': { post: op() },
        '/api/schedules': { get: op(), post: op() },
        '/api/schedules/{id}': { delete: op() },
        '/api/schedules/{id}/pause': { post: op() },
        '/api/schedules/{id}/resume': { post: op() },
      },
    };
    expect(capabilitiesFromOpenApi(doc)).toEqual({
      runFilters: { status: true, name: false, selector: true },
      runCounts: true,
      retry: true,
      resubmit: false,
      submitParams: true,
      schedules: true,
      createSchedule: true,
      pauseSchedule: true,
      deleteSchedule: true,
      instances: false,
    });
  });

  it('recognises a {pipeline, params} body declared as a schema alternative', () => {
    const doc = {
      paths: {
        '/api/runs': {
          post: op({
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    oneOf: [
                      { $ref: '#/components/schemas/Pipeline' },
                      { $ref: '#/components/schemas/Submission' },
                    ],
                  },
                },
              },
            },
          }),
        },
      },
      components: {
        schemas: { Pipeline: {}, Submission: { properties: { pipeline: {}, params: {} } } },
      },
    };
    expect(capabilitiesFromOpenApi(doc).submitParams).toBe(true);
  });

  it('does not offer what the document lists only as refused (405)', () => {
    const refused = op({ responses: { '405': {}, '401': {} } });
    const doc = {
      paths: {
        '/api/runs/counts': { get: op({ responses: { '200': {} } }), put: refused },
        '/api/runs/{uid}/retry': { post: refused },
        '/api/schedules/{id}': { get: op({ responses: { '200': {} } }), delete: refused },
      },
    };
    const capabilities = capabilitiesFromOpenApi(doc);
    expect(capabilities.runCounts).toBe(true);
    expect(capabilities.retry).toBe(false);
    expect(capabilities.deleteSchedule).toBe(false);
  });

  it('reads the committed API document without trouble', () => {
    const capabilities = capabilitiesFromOpenApi(committed);
    expect(capabilities.runFilters).toBeDefined();
    // This server serves all of it, beside the 405s the document lists.
    expect(Object.values(capabilities).every((c) => c !== false)).toBe(true);
  });
});
