/** The e-mail of a notification: subject, plain-text and HTML bodies, a stable Message-ID. Pure. */
import { createHash } from 'node:crypto';
import type { Notification } from '../notification.ts';
import { SLACK_COLORS } from './slack-message.ts';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  /** The same for every attempt of one delivery, so that mail systems can drop repeats. */
  messageId: string;
  headers: Record<string, string>;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The facts of a notification as label/value rows, shared by both bodies. */
function rows(n: Notification): [string, string][] {
  const out: [string, string][] = [
    ['Pipeline', n.run.name ?? '(unnamed)'],
    ['Run', n.run.uid],
  ];
  if (n.job)
    out.push(['Job', `${n.job.name}${n.job.attempt ? ` (attempt ${n.job.attempt})` : ''}`]);
  out.push(['Status', n.status]);
  if (n.reason) out.push(['Reason', n.reason]);
  out.push(['Time', n.time]);
  return out;
}

export function emailMessage(n: Notification, key: string, subjectPrefix: string): EmailMessage {
  const subject = `${subjectPrefix} ${n.summary}`.replace(/[\r\n]+/g, ' ').slice(0, 250);
  const facts = rows(n);
  const width = Math.max(...facts.map(([label]) => label.length)) + 2;
  const failed = n.failedJobs ?? [];
  const text = [
    n.summary,
    '',
    ...facts.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`),
    ...(failed.length > 0
      ? [
          '',
          'Failed jobs:',
          ...failed.map((j) => `  - ${j.name}${j.reason ? `: ${j.reason}` : ''}`),
        ]
      : []),
    '',
    `View the run: ${n.job?.link ?? n.run.link}`,
    '',
    '-- ',
    `Sent by chainr. Notification ${key}`,
    '',
  ].join('\n');
  const color = SLACK_COLORS[n.event];
  const html = `<!doctype html>
<html><body style="font-family:sans-serif;color:#1f2328">
<div style="border-left:4px solid ${color};padding:4px 12px">
<h2 style="margin:4px 0 12px;font-size:16px">${escapeHtml(n.summary)}</h2>
<table style="border-collapse:collapse">
${facts.map(([label, value]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n')}
</table>
${failed.length > 0 ? `<p><strong>Failed jobs</strong></p><ul>${failed.map((j) => `<li><code>${escapeHtml(j.name)}</code>${j.reason ? `: ${escapeHtml(j.reason)}` : ''}</li>`).join('')}</ul>` : ''}
<p><a href="${escapeHtml(n.job?.link ?? n.run.link)}">View the run</a></p>
</div>
<p style="color:#656d76;font-size:12px">Sent by chainr. Notification ${escapeHtml(key)}</p>
</body></html>
`;
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 40);
  return {
    subject,
    text,
    html,
    messageId: `<${digest}@chainr.notif>`,
    headers: { 'X-Chainr-Idempotency-Key': key, 'X-Chainr-Event': n.event },
  };
}
