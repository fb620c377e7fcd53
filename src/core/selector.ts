/** Label selectors in the Kubernetes style: `app=etl,tier!=dev,critical,!legacy`. Pure. */

export type Requirement =
  { key: string; op: '=' | '!='; value: string } | { key: string; op: 'exists' | '!exists' };

const KEY = /^[A-Za-z0-9._/-]{1,63}$/;

export type SelectorResult =
  { ok: true; requirements: Requirement[] } | { ok: false; error: string };

export function parseSelector(text: string): SelectorResult {
  const requirements: Requirement[] = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const match = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    const key = match?.[2]?.trim() ?? '';
    if (!match || !KEY.test(key) || (match[1] === '!' && match[3] !== undefined)) {
      return {
        ok: false,
        error: `selector term ${JSON.stringify(term)} is not key=value, key!=value, key or !key`,
      };
    }
    if (match[3] === undefined)
      requirements.push({ key, op: match[1] === '!' ? '!exists' : 'exists' });
    else
      requirements.push({
        key,
        op: match[3] === '!=' ? '!=' : '=',
        value: (match[4] ?? '').trim(),
      });
  }
  return { ok: true, requirements };
}

export function matches(requirements: Requirement[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case '=':
        return has && labels[r.key] === r.value;
      case '!=':
        return !has || labels[r.key] !== r.value;
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}
