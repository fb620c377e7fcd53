/**
 * Where the issues of a JSON document point in its text, found in one scan of the text (the
 * syntax checker's, with a visitor) for all of them at once: linear in the text, whatever the
 * number of issues. Points as YAML errors do: at a scalar value, else at its key (or item).
 */
import type { Issue, Segment } from './issues.ts';
import { checkJsonSyntax } from './json-syntax.ts';

/** A node of the tree of the issues' paths, and where the scan found it. */
interface PathNode {
  children: Map<Segment, PathNode>;
  keyOffset?: number;
  valueOffset?: number;
  scalar?: boolean;
}

const pathNode = (): PathNode => ({ children: new Map() });

/** An open object or array during the scan, and the path node it stands for (if wanted). */
interface Open {
  node: PathNode | undefined;
  array: boolean;
  index: number;
  key?: string;
  keyOffset: number;
}

/** The path an issue points at. */
const target = (issue: Issue): Segment[] => issue.at ?? issue.path;

/**
 * Where a position inside a string value is in the source: each line of the value is found in
 * the value's source text in turn (a plain, quoted or block scalar holds them verbatim unless
 * escaped); undefined when one is not.
 */
export function offsetInScalar(source: string, value: string, offset: number): number | undefined {
  const before = value.slice(0, offset).split('\n');
  let cursor = 0;
  for (const [i, line] of value.split('\n').entries()) {
    const found = source.indexOf(line, cursor);
    if (found < 0) return undefined;
    if (i === before.length - 1) return found + (before[i]?.length ?? 0);
    cursor = found + line.length;
  }
  return undefined;
}

/** The end of the JSON string starting at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return text.length;
}

/** The offset of each issue, in order. The text must be valid JSON within `maxDepth`. */
export function locateJsonIssues(text: string, issues: Issue[], maxDepth: number): number[] {
  const root = pathNode();
  for (const issue of issues) {
    let node = root;
    for (const segment of target(issue)) {
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, (child = pathNode()));
      node = child;
    }
  }
  const open: Open[] = [];
  checkJsonSyntax(
    text,
    { maxDepth },
    {
      key(key, offset) {
        const top = open[open.length - 1];
        if (top) [top.key, top.keyOffset] = [key, offset];
      },
      value(offset, container) {
        const top = open[open.length - 1];
        let node: PathNode | undefined = root;
        if (top) {
          const segment: Segment = top.array ? top.index++ : (top.key ?? '');
          node = top.node?.children.get(segment);
          if (node) node.keyOffset = top.array ? offset : top.keyOffset;
        }
        if (node) [node.valueOffset, node.scalar] = [offset, !container];
        if (container)
          open.push({ node, array: text.charAt(offset) === '[', index: 0, keyOffset: 0 });
      },
      end() {
        open.pop();
      },
    },
  );
  return issues.map((issue) => {
    const path = target(issue);
    let node = root;
    let offset = root.valueOffset ?? 0;
    for (let i = 0; i < path.length; i++) {
      const child = node.children.get(path[i] as Segment);
      if (child?.valueOffset === undefined) break;
      const last = i === path.length - 1;
      const pointAtValue = typeof path[i] === 'number' || (child.scalar && !(last && issue.atKey));
      offset = (pointAtValue ? child.valueOffset : child.keyOffset) ?? offset;
      if (last && issue.offset !== undefined && text.charAt(child.valueOffset) === '"') {
        const end = stringEnd(text, child.valueOffset);
        const source = text.slice(child.valueOffset, end);
        const inside = offsetInScalar(source, JSON.parse(source) as string, issue.offset);
        if (inside !== undefined) offset = child.valueOffset + inside;
      }
      node = child;
    }
    return offset;
  });
}
