/**
 * Which deliveries an event calls for: the pipeline's own rules first, then the deployment's.
 * A named medium gets an event once even when several rules send it there. Pure.
 */
import { matches, type Requirement } from '../../core/selector.ts';
import type {
  InlineEmail,
  InlineWebhook,
  NotificationEvent,
  NotificationRule,
  NotificationTarget,
} from '../../core/types.ts';

/** A rule of the deployment's configuration: to a named medium, for some or all pipelines. */
export interface DeploymentRule {
  on: NotificationEvent[];
  to: string;
  /** Only runs of the pipelines with these names. */
  pipelines?: string[];
  /** Only runs whose labels match this selector. */
  selector?: Requirement[];
}

export type Target = { medium: string } | { webhook: InlineWebhook } | { email: InlineEmail };

export interface PlannedDelivery {
  /** `<event id>/<rule>/<medium>`: the same at every re-delivery of the event. */
  key: string;
  /** `0`, `1`, ... for the pipeline's rules; `d0`, `d1`, ... for the deployment's. */
  rule: string;
  /** The medium's name, or `webhook` / `email` for one defined inline. */
  medium: string;
  target: Target;
}

const RUN_ENDS: readonly NotificationEvent[] = ['success', 'failure', 'canceled'];

/** Whether a rule's `on` list covers the event (`end` covers every end of a run). */
export function triggers(on: readonly NotificationEvent[], event: NotificationEvent): boolean {
  return on.includes(event) || (on.includes('end') && RUN_ENDS.includes(event));
}

export function idempotencyKey(eventId: string, rule: string, medium: string): string {
  return `${eventId}/${rule}/${medium}`;
}

function resolve(to: NotificationTarget): { medium: string; target: Target } {
  if (typeof to === 'string') return { medium: to, target: { medium: to } };
  if ('webhook' in to) return { medium: 'webhook', target: { webhook: to.webhook } };
  return { medium: 'email', target: { email: to.email } };
}

function applies(rule: DeploymentRule, run: { name?: string; labels: Record<string, string> }) {
  if (rule.pipelines && (run.name === undefined || !rule.pipelines.includes(run.name)))
    return false;
  return rule.selector === undefined || matches(rule.selector, run.labels);
}

export function planDeliveries(
  eventId: string,
  event: NotificationEvent,
  run: { name?: string; labels: Record<string, string> },
  pipelineRules: readonly NotificationRule[],
  deploymentRules: readonly DeploymentRule[],
): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  const named = new Set<string>();
  const add = (rule: string, to: NotificationTarget) => {
    const { medium, target } = resolve(to);
    if ('medium' in target) {
      if (named.has(medium)) return;
      named.add(medium);
    }
    planned.push({ key: idempotencyKey(eventId, rule, medium), rule, medium, target });
  };
  pipelineRules.forEach((rule, i) => {
    if (triggers(rule.on, event)) add(String(i), rule.to);
  });
  deploymentRules.forEach((rule, i) => {
    if (triggers(rule.on, event) && applies(rule, run)) add(`d${i}`, rule.to);
  });
  return planned;
}

/** The rules of a stored pipeline, tolerating anything malformed (it was validated at submit). */
export function rulesOf(pipeline: unknown): NotificationRule[] {
  if (typeof pipeline !== 'object' || pipeline === null) return [];
  const rules = (pipeline as { notifications?: unknown }).notifications;
  if (!Array.isArray(rules)) return [];
  return rules.filter(
    (r): r is NotificationRule =>
      typeof r === 'object' &&
      r !== null &&
      Array.isArray((r as NotificationRule).on) &&
      (r as NotificationRule).to !== undefined,
  );
}
