/**
 * Label and field selectors with the API server's syntax and semantics
 * (k8s.io/apimachinery/pkg/labels and pkg/fields): `a=b,c!=d,e in (f,g),h notin (i),j,!k`.
 */

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type Matcher = (values: Record<string, string>) => boolean;

export class SelectorError extends Error {}

/** Splits at commas that are not inside parentheses. */
function clauses(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((c) => c.trim()).filter((c) => c !== '');
}

function requirement(clause: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(clause);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => v.trim());
    return { key, op: op === 'in' ? 'in' : 'notin', values };
  }
  const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(clause);
  if (cmp) {
    const [, key = '', op, value = ''] = cmp;
    return { key, op: op === '!=' ? 'neq' : 'eq', value };
  }
  if (/^![^!=\s(),]+$/.test(clause)) return { key: clause.slice(1), op: 'notexists' };
  if (/^[^!=\s(),]+$/.test(clause)) return { key: clause, op: 'exists' };
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(clause)}`);
}

function holds(r: Requirement, values: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, r.key);
  const value = values[r.key];
  switch (r.op) {
    case 'eq':
      return has && value === r.value;
    case 'neq':
      return !has || value !== r.value;
    case 'in':
      return has && r.values.includes(value ?? '');
    case 'notin':
      return !has || !r.values.includes(value ?? '');
    case 'exists':
      return has;
    case 'notexists':
      return !has;
  }
}

export function labelSelector(text: string | null): Matcher {
  const requirements = clauses(text ?? '').map(requirement);
  return (labels) => requirements.every((r) => holds(r, labels));
}

/**
 * A field selector: only `=`, `==` and `!=` on the fields the resource supports; the server
 * answers 400 for any other field, as the real one does.
 */
export function fieldSelector(text: string | null, supported: readonly string[]): Matcher {
  const requirements = clauses(text ?? '').map(requirement);
  for (const r of requirements) {
    if (r.op !== 'eq' && r.op !== 'neq')
      throw new SelectorError(`invalid field selector operator in ${JSON.stringify(text)}`);
    if (!supported.includes(r.key)) throw new SelectorError(`field label not supported: ${r.key}`);
  }
  return (fields) => requirements.every((r) => holds(r, fields));
}
