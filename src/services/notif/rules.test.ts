import { describe, expect, it } from 'vitest';
import type { NotificationRule } from '../../core/types.ts';
import { idempotencyKey, planDeliveries, rulesOf, triggers, type DeploymentRule } from './rules.ts';

describe('triggers', () => {
  it('matches listed events, and every end of a run for `end`', () => {
    expect(triggers(['failure'], 'failure')).toBe(true);
    expect(triggers(['failure'], 'success')).toBe(false);
    for (const e of ['success', 'failure', 'canceled'] as const)
      expect(triggers(['end'], e)).toBe(true);
    expect(triggers(['end'], 'start')).toBe(false);
    expect(triggers(['end'], 'job-failure')).toBe(false);
  });
});

describe('planDeliveries', () => {
  const run = { name: 'etl', labels: { team: 'data' } };

  it('keys each delivery <event id>/<rule>/<medium>, pipeline rules first', () => {
    const rules: NotificationRule[] = [
      { on: ['failure'], to: 'ops' },
      { on: ['success'], to: 'ops' },
      { on: ['end'], to: { webhook: { url: 'https://hooks.example.com/x' } } },
      { on: ['failure', 'job-failure'], to: { email: { to: ['a@example.com'] } } },
    ];
    const deployment: DeploymentRule[] = [{ on: ['failure'], to: 'slack' }];
    expect(planDeliveries('5-0', 'failure', run, rules, deployment)).toEqual([
      { key: '5-0/0/ops', rule: '0', medium: 'ops', target: { medium: 'ops' } },
      {
        key: '5-0/2/webhook',
        rule: '2',
        medium: 'webhook',
        target: { webhook: { url: 'https://hooks.example.com/x' } },
      },
      {
        key: '5-0/3/email',
        rule: '3',
        medium: 'email',
        target: { email: { to: ['a@example.com'] } },
      },
      { key: '5-0/d0/slack', rule: 'd0', medium: 'slack', target: { medium: 'slack' } },
    ]);
    expect(idempotencyKey('5-0', 'd0', 'slack')).toBe('5-0/d0/slack');
  });

  it('sends an event to a named medium once, whichever rules name it', () => {
    const rules: NotificationRule[] = [
      { on: ['failure'], to: 'ops' },
      { on: ['end'], to: 'ops' },
    ];
    const planned = planDeliveries('1-0', 'failure', run, rules, [{ on: ['end'], to: 'ops' }]);
    expect(planned.map((p) => p.key)).toEqual(['1-0/0/ops']);
  });

  it('applies a deployment rule only to the pipelines and labels it names', () => {
    const deployment: DeploymentRule[] = [
      { on: ['failure'], to: 'a', pipelines: ['etl'] },
      { on: ['failure'], to: 'b', pipelines: ['other'] },
      { on: ['failure'], to: 'c', selector: [{ key: 'team', op: '=', value: 'data' }] },
      { on: ['failure'], to: 'd', selector: [{ key: 'team', op: '=', value: 'web' }] },
    ];
    expect(planDeliveries('1-0', 'failure', run, [], deployment).map((p) => p.medium)).toEqual([
      'a',
      'c',
    ]);
    // An unnamed pipeline matches no `pipelines` list.
    expect(planDeliveries('1-0', 'failure', { labels: {} }, [], deployment)).toEqual([]);
  });

  it('plans nothing for an event no rule wants', () => {
    expect(planDeliveries('1-0', 'job-start', run, [{ on: ['failure'], to: 'x' }], [])).toEqual([]);
  });
});

describe('rulesOf', () => {
  it('reads the notifications of a stored pipeline, ignoring anything malformed', () => {
    expect(
      rulesOf({
        kind: 'Pipeline',
        jobs: {},
        notifications: [{ on: ['start'], to: 'log' }, 5, { on: 'x' }],
      }),
    ).toEqual([{ on: ['start'], to: 'log' }]);
    expect(rulesOf(undefined)).toEqual([]);
    expect(rulesOf({ notifications: 'x' })).toEqual([]);
  });
});
