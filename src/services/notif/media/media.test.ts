import { describe, expect, it } from 'vitest';
import { buildNotification, parseStreamEntry } from '../notification.ts';
import { emailMessage, escapeHtml } from './email-message.ts';
import { clip, escapeSlack, SLACK_COLORS, slackMessage } from './slack-message.ts';
import { signature, webhookBody } from './webhook.ts';

const failure = buildNotification(
  'failure',
  parseStreamEntry('1700000000000-0', [
    'uid',
    'u1',
    'status',
    'FAILED',
    'time',
    '1700000000000',
    'reason',
    'job "load" failed',
  ]),
  {
    name: 'etl <prod>',
    labels: {},
    failedJobs: [{ name: 'load', reason: 'exit code 1 & <oops>' }],
  },
  'https://chainr.example.com',
);
const retry = buildNotification(
  'job-retry',
  parseStreamEntry('1700000000000-1', [
    'uid',
    'u1',
    'status',
    'PENDING',
    'time',
    '1700000000000',
    'job',
    'load',
    'attempt',
    '2',
    'reason',
    'attempt 1 failed (exit code 1); retrying',
  ]),
  { labels: {} },
  'https://chainr.example.com',
);

describe('signature', () => {
  it('is sha256= and the hex HMAC-SHA256 of the body', () => {
    expect(signature('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('signs a body that carries the idempotency key as its id', () => {
    const body = JSON.parse(webhookBody({ key: 'k/0/ops', notification: failure })) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({
      kind: 'Notification',
      id: 'k/0/ops',
      event: 'failure',
      status: 'FAILED',
    });
  });
});

describe('slackMessage', () => {
  it('is text plus one coloured attachment of blocks, with the pipeline, reason, failed jobs and a link', () => {
    const m = slackMessage(failure);
    expect(m.text).toBe(':x: Run of etl &lt;prod&gt; failed: job "load" failed');
    expect(m.attachments).toHaveLength(1);
    const [a] = m.attachments;
    expect(a?.color).toBe(SLACK_COLORS.failure);
    expect(a?.fallback).toBe('Run of etl <prod> failed: job "load" failed');
    const json = JSON.stringify(a?.blocks);
    expect(json).toContain('*Pipeline*\\netl &lt;prod&gt;');
    expect(json).toContain('<https://chainr.example.com/runs/u1|u1>');
    expect(json).toContain('`load`: exit code 1 &amp; &lt;oops&gt;');
    expect(json).toContain('"url":"https://chainr.example.com/runs/u1"');
  });

  it('colours each kind of event', () => {
    expect(slackMessage(retry).attachments[0]?.color).toBe('#ecb22e');
    expect(JSON.stringify(slackMessage(retry))).toContain('(attempt 2)');
  });

  it('escapes and clips as Slack requires', () => {
    expect(escapeSlack('a & <b>')).toBe('a &amp; &lt;b&gt;');
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc', 4)).toBe('abc');
  });
});

describe('emailMessage', () => {
  it('has a subject, a plain-text and an HTML body, and a Message-ID stable per delivery', () => {
    const m = emailMessage(failure, '1700000000000-0/0/email', '[chainr]');
    expect(m.subject).toBe('[chainr] Run of etl <prod> failed: job "load" failed');
    expect(m.text).toContain('Pipeline: etl <prod>\nRun:      u1\nStatus:   FAILED\n');
    expect(m.text).toContain('Failed jobs:\n  - load: exit code 1 & <oops>');
    expect(m.text).toContain('View the run: https://chainr.example.com/runs/u1');
    expect(m.html).toContain(
      '<h2 style="margin:4px 0 12px;font-size:16px">Run of etl &lt;prod&gt; failed: job &quot;load&quot; failed</h2>',
    );
    expect(m.html).toContain('<code>load</code>: exit code 1 &amp; &lt;oops&gt;');
    expect(m.html).not.toContain('<oops>');
    expect(m.messageId).toMatch(/^<[0-9a-f]{40}@chainr\.notif>$/);
    expect(emailMessage(failure, '1700000000000-0/0/email', 'x').messageId).toBe(m.messageId);
    expect(emailMessage(failure, '1700000000000-0/1/email', 'x').messageId).not.toBe(m.messageId);
    expect(m.headers).toEqual({
      'X-Chainr-Idempotency-Key': '1700000000000-0/0/email',
      'X-Chainr-Event': 'failure',
    });
  });

  it('keeps the subject on one line', () => {
    const n = { ...retry, summary: 'a\r\nb' };
    expect(emailMessage(n, 'k', '[x]').subject).toBe('[x] a b');
    expect(escapeHtml(`<a href="x">'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&lt;/a&gt;');
  });
});
