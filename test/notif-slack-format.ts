/** Slack's documented incoming-webhook payload rules, as a checker for the notif tests. */

export type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A text object: plain_text or mrkdwn, 1..max characters. */
function checkText(t: unknown, max: number, where: string, problems: string[], plainOnly = false) {
  if (!isObject(t)) return problems.push(`${where}: not a text object`);
  const types = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (!types.includes(t.type as string)) problems.push(`${where}.type: ${String(t.type)}`);
  if (typeof t.text !== 'string' || t.text.length < 1 || t.text.length > max)
    problems.push(`${where}.text: must be 1..${max} characters`);
  // In mrkdwn, & < > are control characters: only entities and <link|text>, <!date^...> are allowed.
  if (t.type === 'mrkdwn' && typeof t.text === 'string') {
    if (/&(?!amp;|lt;|gt;)/.test(t.text)) problems.push(`${where}.text: unescaped &`);
    if (/<(?!https?:\/\/[^|>\s]+\|[^>]*>|!date\^)/.test(t.text))
      problems.push(`${where}.text: unescaped <`);
  }
  return problems.length;
}

/**
 * The incoming-webhook payload rules Slack documents (api.slack.com/messaging/webhooks, Block Kit
 * reference, secondary attachments reference): `text` (required unless blocks; the notification
 * fallback), `blocks` (≤ 50), `attachments` with `color` (good, warning, danger or a hex code),
 * `fallback` and `blocks`; section text ≤ 3000, ≤ 10 fields of ≤ 2000; context ≤ 10 elements;
 * actions ≤ 25 elements; buttons with plain_text ≤ 75 and a url ≤ 3000.
 */
export function slackProblems(payload: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(payload)) return ['payload: not an object'];
  const known = [
    'text',
    'blocks',
    'attachments',
    'thread_ts',
    'mrkdwn',
    'unfurl_links',
    'unfurl_media',
  ];
  for (const k of Object.keys(payload))
    if (!known.includes(k)) problems.push(`payload: unknown field ${k}`);
  if (typeof payload.text !== 'string' || payload.text === '') problems.push('text: required');
  const checkBlocks = (blocks: unknown, where: string) => {
    if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 50)
      return problems.push(`${where}: must be 1..50 blocks`);
    blocks.forEach((b: unknown, i) => {
      const at = `${where}[${i}]`;
      if (!isObject(b)) return problems.push(`${at}: not an object`);
      if (b.type === 'section') {
        if (b.text === undefined && b.fields === undefined)
          problems.push(`${at}: text or fields required`);
        if (b.text !== undefined) checkText(b.text, 3000, `${at}.text`, problems);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) problems.push(`${at}.fields: ≤ 10`);
          else
            b.fields.forEach((f: unknown, j) => checkText(f, 2000, `${at}.fields[${j}]`, problems));
        }
      } else if (b.type === 'context') {
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 10)
          problems.push(`${at}.elements: 1..10`);
        else
          b.elements.forEach((e: unknown, j) =>
            checkText(e, 3000, `${at}.elements[${j}]`, problems),
          );
      } else if (b.type === 'actions') {
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 25)
          return problems.push(`${at}.elements: 1..25`);
        b.elements.forEach((e: unknown, j) => {
          if (!isObject(e) || e.type !== 'button')
            return problems.push(`${at}.elements[${j}]: not a button`);
          checkText(e.text, 75, `${at}.elements[${j}].text`, problems, true);
          if (typeof e.url !== 'string' || e.url.length > 3000 || !/^https?:\/\//.test(e.url))
            problems.push(`${at}.elements[${j}].url: an absolute URL ≤ 3000`);
        });
      } else if (b.type !== 'divider' && b.type !== 'header')
        problems.push(`${at}.type: ${String(b.type)}`);
    });
  };
  if (payload.blocks !== undefined) checkBlocks(payload.blocks, 'blocks');
  if (payload.attachments !== undefined) {
    if (!Array.isArray(payload.attachments)) problems.push('attachments: not an array');
    else
      payload.attachments.forEach((a: unknown, i) => {
        if (!isObject(a)) return problems.push(`attachments[${i}]: not an object`);
        if (typeof a.color !== 'string' || !/^(good|warning|danger|#[0-9a-fA-F]{6})$/.test(a.color))
          problems.push(`attachments[${i}].color: ${String(a.color)}`);
        if (typeof a.fallback !== 'string') problems.push(`attachments[${i}].fallback: required`);
        if (a.blocks !== undefined) checkBlocks(a.blocks, `attachments[${i}].blocks`);
      });
  }
  return problems;
}
