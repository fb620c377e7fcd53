import { describe, expect, it } from 'vitest';
import { requiredRole } from './roles.ts';

describe('requiredRole', () => {
  it('asks an operator to submit and act on runs, with or without a trailing slash', () => {
    for (const path of ['/api/runs', '/api/runs/', '/api/runs/u/cancel', '/api/runs/u/retry/'])
      expect(requiredRole('POST', path), path).toBe('operator');
  });

  it('asks an admin for schedules and anything unknown', () => {
    for (const path of ['/api/schedules', '/api/schedules/', '/api/runs/u/other'])
      expect(requiredRole('POST', path), path).toBe('admin');
  });
});
