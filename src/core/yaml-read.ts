/**
 * YAML text read into a value in one linear pass (js-yaml, several times faster than a
 * document model: a 1 MiB body in tens of milliseconds), with the counting limits applied
 * while it is read, and where each node starts kept aside so that the issues of the value can
 * be located afterwards without reading the text again.
 */
import { FAILSAFE_SCHEMA, Type, YAMLException, loadAll } from 'js-yaml';
import type { State } from 'js-yaml';
import type { Issue } from './issues.ts';
import { offsetInScalar } from './json-locate.ts';

export interface YamlLimits {
  /** Collections nested deeper are refused. */
  maxDepth: number;
  /** Entries of one map or list. */
  maxEntries: number;
  /** Entries of all maps and lists, aliases expanded. */
  maxNodes: number;
}

/** A problem of the text, and where it is (an offset). */
export interface YamlProblem {
  message: string;
  offset: number;
}

const scalar = (tag: string, pattern: RegExp, construct: (source: string) => unknown) =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (source: string | null) => source !== null && pattern.test(source),
    construct,
  });

const float = (source: string): number => {
  if (/^\.nan$/i.test(source)) return NaN;
  if (/^[-+]?\.inf$/i.test(source)) return source.startsWith('-') ? -Infinity : Infinity;
  return parseFloat(source);
};

/**
 * YAML 1.2's core schema exactly as the spec writes it, and merge keys: `yes`, `on`, `0b101`
 * and `1_000` stay strings (js-yaml's own core schema reads the last two as numbers).
 */
const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar('null', /^(?:~|null|Null|NULL)?$/, () => null),
    scalar('bool', /^(?:true|True|TRUE|false|False|FALSE)$/, (s) => /^t/i.test(s)),
    scalar('int', /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (s) =>
      s.startsWith('0o') ? parseInt(s.slice(2), 8) : s.startsWith('0x') ? parseInt(s, 16) : +s,
    ),
    scalar(
      'float',
      /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
      float,
    ),
    // `<<` (plain: a quoted one is an ordinary key) merges the map or maps it is given
    new Type('tag:yaml.org,2002:merge', {
      kind: 'scalar',
      resolve: (source: string | null) => source === '<<',
    }),
  ],
});

/** Thrown from the reader's listener to stop reading at a limit. */
class OverLimit extends Error {
  constructor(
    message: string,
    readonly node: number,
  ) {
    super(message);
  }
}

/** The nodes js-yaml composed, in the order they were opened; an index is a node. */
interface Nodes {
  /** Where each node was opened: its start, or the blank and comments before it. */
  opened: number[];
  /** Where each node ended. */
  ends: number[];
  /** Each node's parent, -1 for a document's root. */
  parents: number[];
  kinds: (string | null)[];
  values: unknown[];
  /** The root node of each document. */
  roots: number[];
  /**
   * Nodes that only wrap their one child (js-yaml reads a flow collection or a scalar in a
   * block as a possible key first, one level deeper): transparent.
   */
  wrappers: Set<number>;
}

/** The first node (of a map or a list, or the text) that is neither blank nor a comment. */
function contentStart(text: string, from: number): number {
  const blank = /(?:[ \t\r\n\uFEFF]|#[^\n]*)*/y;
  blank.lastIndex = from;
  blank.exec(text);
  return Math.min(blank.lastIndex, Math.max(text.length - 1, 0));
}

/** An alias leaves the node it stands for as its value, and no kind of its own. */
const isAlias = (nodes: Nodes, node: number): boolean =>
  nodes.kinds[node] === null && nodes.values[node] !== null && nodes.values[node] !== undefined;

/** The entries of a value as aliases expand it, counted up to `limit` (a walk of at most that many). */
function expandedEntries(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    const children: unknown[] = Array.isArray(item) ? item : Object.values(item);
    count += children.length;
    for (const child of children)
      if (child !== null && typeof child === 'object') stack.push(child);
  }
  return count;
}

/** A YAML text read: its single document's value, or the first problem of the text. */
export type YamlRead =
  { ok: true; value: unknown; nodes: Nodes; text: string } | { ok: false; problem: YamlProblem };

/** Reads one YAML document, refusing it at the first limit it passes (depth, entries, values). */
export function readYaml(text: string, limits: YamlLimits): YamlRead {
  const nodes: Nodes = {
    opened: [],
    ends: [],
    parents: [],
    kinds: [],
    values: [],
    roots: [],
    wrappers: new Set(),
  };
  const open: number[] = [];
  const childCount: number[] = [];
  const lastChild: number[] = [];
  let entries = 0;
  let aliases = false;
  // js-yaml drops a leading byte order mark: its offsets are then one short of the text's
  const shift = text.startsWith('\uFEFF') ? 1 : 0;
  const tooDeep = `the document is nested deeper than ${limits.maxDepth} levels`;
  const listener = (
    event: 'open' | 'close',
    state: State & { depth: number; kind: string | null },
  ) => {
    if (event === 'open') {
      const node = nodes.opened.length;
      const parent = open.at(-1) ?? -1;
      nodes.opened.push(state.position + shift);
      nodes.parents.push(parent);
      childCount.push(0);
      if (parent >= 0) {
        childCount[parent] = (childCount[parent] ?? 0) + 1;
        lastChild[parent] = node;
      } else nodes.roots.push(node);
      open.push(node);
      // Stops js-yaml's recursion: with a wrapper at most for each level, a node this deep is
      // inside more collections than allowed.
      if (state.depth > 2 * limits.maxDepth + 2)
        throw new OverLimit(tooDeep, firstTooDeep(text, nodes, open, limits.maxDepth));
      // an entry is at most four nodes (key, value, a wrapper for each)
      if (node > 4 * limits.maxNodes + nodes.roots.length)
        throw new OverLimit(`the document has more than ${limits.maxNodes} values`, node);
      return;
    }
    const node = open.pop() ?? -1;
    const kind = state.kind;
    const result: unknown = state.result;
    nodes.ends[node] = state.position + shift;
    nodes.kinds[node] = kind;
    nodes.values[node] = result;
    if (childCount[node] === 1 && nodes.values[lastChild[node] ?? -1] === result) {
      nodes.wrappers.add(node);
    } else if (kind === 'mapping' || kind === 'sequence') {
      const size = Array.isArray(result) ? result.length : Object.keys(result as object).length;
      if (size > limits.maxEntries)
        throw new OverLimit(`a map or list has more than ${limits.maxEntries} entries`, node);
      entries += size;
      if (entries > limits.maxNodes)
        throw new OverLimit(`the document has more than ${limits.maxNodes} values`, node);
    } else if (isAlias(nodes, node)) aliases = true;
  };
  let documents: unknown[];
  try {
    documents = loadAll(text, null, {
      schema: CORE_SCHEMA,
      listener,
      // js-yaml's own guard against deep recursion, behind the listener's
      maxDepth: 2 * limits.maxDepth + 4,
    } as Parameters<typeof loadAll>[2]);
  } catch (error) {
    if (error instanceof OverLimit)
      return {
        ok: false,
        problem: { message: error.message, offset: start(text, nodes, error.node) },
      };
    if (error instanceof YAMLException)
      return {
        ok: false,
        problem: {
          message: `invalid YAML: ${error.reason}`,
          offset: errorOffset(text, error.reason, (error.mark?.position ?? 0) + shift),
        },
      };
    throw error;
  }
  const [first, second] = nodes.roots;
  if (second !== undefined) {
    // the second document starts at its `---`, if it has one after the first document's end
    const marker = text.lastIndexOf('---', nodes.opened[second]);
    const offset =
      marker >= (nodes.ends[first ?? 0] ?? 0) - 1 ? marker : start(text, nodes, second);
    const message = 'a pipeline must be a single YAML document, but a second one starts here';
    return { ok: false, problem: { message, offset } };
  }
  if (first === undefined || (nodes.kinds[first] === null && documents[0] === null))
    return { ok: false, problem: { message: 'the document is empty', offset: 0 } };
  const deep = deepCollection(nodes, limits.maxDepth);
  if (deep !== undefined)
    return { ok: false, problem: { message: tooDeep, offset: start(text, nodes, deep) } };
  const value = documents[0];
  if (aliases && expandedEntries(value, limits.maxNodes) > limits.maxNodes) {
    const alias = nodes.kinds.findIndex((_, node) => isAlias(nodes, node));
    const message = `aliases expand the document to more than ${limits.maxNodes} values`;
    return { ok: false, problem: { message, offset: start(text, nodes, alias) } };
  }
  return { ok: true, value, nodes, text };
}

const isCollection = (nodes: Nodes, node: number): boolean =>
  (nodes.kinds[node] === 'mapping' || nodes.kinds[node] === 'sequence') &&
  !nodes.wrappers.has(node);

/** The first collection nested deeper than `maxDepth` (parents are opened before their children). */
function deepCollection(nodes: Nodes, maxDepth: number): number | undefined {
  const depths: number[] = [];
  for (let node = 0; node < nodes.parents.length; node++) {
    const depth = (depths[nodes.parents[node] ?? -1] ?? 0) + (isCollection(nodes, node) ? 1 : 0);
    if (depth > maxDepth) return node;
    depths.push(depth);
  }
  return undefined;
}

/**
 * Among nodes still open (not known yet to be wrappers), the first collection deeper than
 * `maxDepth`: a wrapper starts where its one child does.
 */
function firstTooDeep(text: string, nodes: Nodes, open: number[], maxDepth: number): number {
  let depth = 0;
  for (let i = 0; i < open.length - 1; i++) {
    const node = open[i] ?? 0;
    if (start(text, nodes, node) === start(text, nodes, open[i + 1] ?? 0)) continue;
    if (++depth > maxDepth) return node;
  }
  return open.at(-1) ?? 0;
}

/**
 * Where an error is: js-yaml marks an unknown alias or tag after the node it is on, the
 * offset is moved back to the alias or tag itself.
 */
function errorOffset(text: string, reason: string, offset: number): number {
  const name = /^unidentified alias "(.*)"$/.exec(reason)?.[1];
  const tag = /^unknown tag !<(.*)>$/.exec(reason)?.[1];
  const token = name !== undefined ? `*${name}` : tag;
  const found = token === undefined ? -1 : text.lastIndexOf(token, offset);
  return found === -1 ? offset : found;
}

/** Where a node's content starts in the text. */
function start(text: string, nodes: Nodes, node: number): number {
  return contentStart(text, nodes.opened[node] ?? 0);
}

/**
 * Where each issue's path points in a document read by `readYaml`: at a scalar value, else at
 * its key or item, else at the closest existing parent. The children of each map visited are
 * indexed once: linear in the document, whatever the number of issues.
 */
export function locateYamlIssues(read: { nodes: Nodes; text: string }, issues: Issue[]): number[] {
  const { nodes, text } = read;
  const children: number[][] = nodes.parents.map(() => []);
  nodes.parents.forEach((parent, node) => parent >= 0 && children[parent]?.push(node));
  /** The key and value nodes of each map visited, by key. */
  const pairsOf = new Map<number, Map<string, [number, number]>>();
  const pairs = (map: number): Map<string, [number, number]> => {
    let found = pairsOf.get(map);
    if (!found) {
      found = new Map();
      const kids = children[map] ?? [];
      for (let i = 0; i + 1 < kids.length; i += 2) {
        const key = kids[i] ?? -1;
        found.set(String(nodes.values[key]), [key, kids[i + 1] ?? -1]);
      }
      pairsOf.set(map, found);
    }
    return found;
  };
  const root = nodes.roots[0] ?? 0;
  const unwrap = (node: number): number => {
    let inner = node;
    while (nodes.wrappers.has(inner)) inner = children[inner]?.[0] ?? -1;
    return inner;
  };
  return issues.map((issue) => {
    const path = issue.at ?? issue.path;
    let node = unwrap(root);
    let offset = start(text, nodes, root);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      const kids = children[node] ?? [];
      const kind = nodes.kinds[node];
      const value = nodes.values[node];
      if (kind === 'mapping' && typeof segment === 'string' && kids.length % 2 === 0) {
        const pair = pairs(node).get(segment);
        if (pair === undefined) break;
        const key = pair[0];
        const item = unwrap(pair[1]);
        const scalarValue = nodes.kinds[item] === 'scalar';
        const pointAtValue = (scalarValue || isAlias(nodes, item)) && !(last && issue.atKey);
        offset = start(text, nodes, pointAtValue ? item : key);
        if (last && issue.offset !== undefined && scalarValue) {
          const source = text.slice(offset, nodes.ends[item]);
          const inside = offsetInScalar(source, String(nodes.values[item]), issue.offset);
          if (inside !== undefined) offset += inside;
        }
        node = item;
      } else if (
        kind === 'sequence' &&
        typeof segment === 'number' &&
        Array.isArray(value) &&
        kids.length === value.length &&
        kids[segment] !== undefined
      ) {
        node = unwrap(kids[segment] ?? -1);
        offset = start(text, nodes, node);
      } else break;
    }
    return offset;
  });
}
