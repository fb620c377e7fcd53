/**
 * The Slack incoming-webhook message of a notification: `text` (the notification line and the
 * fallback) and one attachment with the status colour whose Block Kit blocks say what happened,
 * in which pipeline, which job failed and why, with a button to the run. Pure.
 */
import type { NotificationEvent } from '../../../core/types.ts';
import type { Notification } from '../notification.ts';

const GREEN = '#2eb67d';
const RED = '#e01e5a';
const GREY = '#868686';
const BLUE = '#36c5f0';
const YELLOW = '#ecb22e';

export const SLACK_COLORS: Record<NotificationEvent, string> = {
  start: BLUE,
  success: GREEN,
  failure: RED,
  canceled: GREY,
  end: GREY,
  'job-start': BLUE,
  'job-success': GREEN,
  'job-failure': RED,
  'job-skipped': GREY,
  'job-canceled': GREY,
  'job-retry': YELLOW,
};

const ICONS: Record<NotificationEvent, string> = {
  start: ':arrow_forward:',
  success: ':white_check_mark:',
  failure: ':x:',
  canceled: ':no_entry_sign:',
  end: ':checkered_flag:',
  'job-start': ':arrow_forward:',
  'job-success': ':white_check_mark:',
  'job-failure': ':x:',
  'job-skipped': ':fast_forward:',
  'job-canceled': ':no_entry_sign:',
  'job-retry': ':repeat:',
};

/** Slack's three control characters in text (`&`, `<`, `>`), escaped as it documents. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `max` characters (Slack refuses longer texts in blocks). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });

export function slackMessage(n: Notification) {
  const title = escapeSlack(n.run.name ?? n.run.uid);
  const fields = [
    mrkdwn(`*Pipeline*\n${title}`),
    mrkdwn(`*Status*\n${n.status}`),
    mrkdwn(`*Run*\n<${n.run.link}|${n.run.uid}>`),
  ];
  if (n.job) {
    const attempt = n.job.attempt ? ` (attempt ${n.job.attempt})` : '';
    fields.push(mrkdwn(`*Job*\n<${n.job.link}|${clip(escapeSlack(n.job.name), 200)}>${attempt}`));
  }
  if (n.reason) fields.push(mrkdwn(`*Reason*\n${clip(escapeSlack(n.reason), 1900)}`));
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: mrkdwn(`*${clip(escapeSlack(n.summary), 2900)}*`) },
    { type: 'section', fields },
  ];
  if (n.failedJobs?.length) {
    const lines = n.failedJobs.map(
      (j) => `• \`${escapeSlack(j.name)}\`${j.reason ? `: ${escapeSlack(j.reason)}` : ''}`,
    );
    blocks.push({
      type: 'section',
      text: mrkdwn(clip(`*Failed jobs*\n${lines.join('\n')}`, 3000)),
    });
  }
  const seconds = Math.floor(Date.parse(n.time) / 1000);
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(`chainr · ${n.event} · <!date^${seconds}^{date_short_pretty} {time_secs}|${n.time}>`),
    ],
  });
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', text: plain('View run'), url: n.job?.link ?? n.run.link }],
  });
  return {
    text: `${ICONS[n.event]} ${clip(escapeSlack(n.summary), 3000)}`,
    attachments: [{ color: SLACK_COLORS[n.event], fallback: clip(n.summary, 3000), blocks }],
  };
}
