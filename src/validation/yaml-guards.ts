// Checks of a YAML document made before it is turned into values: what would make that step, or the
// validation after it, take unbounded time, memory or stack. Each finds the first offending place.
import { type CST, type Document, isAlias, isCollection, isPair, isScalar, type Node } from 'yaml';
import { formatBytes, MAX_ALIAS_EXPANSIONS, MAX_DOCUMENT_BYTES, MAX_NESTING_DEPTH } from './input-limits.js';

export interface GuardProblem {
  /** Offset in the file's text. */
  offset: number;
  message: string;
  /** `(document)` when the problem is its size rather than its YAML. */
  field?: string;
}

export const nestedTooDeep = `nested more than ${MAX_NESTING_DEPTH} levels deep, the limit (a resource needs fewer than 10)`;

class Refusal {
  constructor(readonly problem: GuardProblem) {}
}

/**
 * Aliases that the document's values would not survive: one that expands the document past
 * MAX_ALIAS_EXPANSIONS alias resolutions (an alias bomb: nine levels of nine aliases make 9^9 values), one
 * inside its own anchor (an endless value), one that names no anchor before it.
 */
export function aliasProblem(document: Document): GuardProblem | undefined {
  /** The node each anchor name stands for at this point of the document (a later anchor may reuse a name). */
  const anchors = new Map<string, Node>();
  /** For each anchored node once read: the alias resolutions its own expansion makes. */
  const expansions = new Map<Node, number>();
  const open = new Set<Node>();
  let total = 0;

  const walk = (node: unknown): number => {
    if (isAlias(node)) {
      const offset = node.range?.[0] ?? 0;
      const target = anchors.get(node.source);
      if (!target)
        throw new Refusal({ offset, message: `the alias *${node.source} refers to no anchor before it` });
      if (open.has(target)) {
        throw new Refusal({
          offset,
          message: `the alias *${node.source} is inside its own anchor &${node.source}: an endless value`,
        });
      }
      const count = 1 + (expansions.get(target) ?? 0);
      total += count;
      if (total > MAX_ALIAS_EXPANSIONS) {
        throw new Refusal({
          offset,
          message: `too many aliases: *${node.source} here brings this document to ${total} alias expansions, more than the limit of ${MAX_ALIAS_EXPANSIONS} (a guard against alias bombs)`,
        });
      }
      return count;
    }
    if (isPair(node)) return walk(node.key) + walk(node.value);
    if (!isScalar(node) && !isCollection(node)) return 0;
    if (node.anchor) {
      anchors.set(node.anchor, node);
      open.add(node);
    }
    let count = 0;
    if (isCollection(node)) for (const item of node.items) count += walk(item);
    if (node.anchor) {
      open.delete(node);
      expansions.set(node, count);
    }
    return count;
  };

  try {
    walk(document.contents);
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return error.problem;
    throw error;
  }
}

/**
 * The first mapping or sequence nested deeper than MAX_NESTING_DEPTH, found on the parser's tokens without
 * recursion (the composer that comes next recurses once per level, and ten thousand '[' overflow its stack).
 */
export function nestingProblem(document: CST.Document): GuardProblem | undefined {
  const stack: { token: CST.Token | null | undefined; depth: number }[] = [
    { token: document.value, depth: 1 },
  ];
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (!token) continue;
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection')
      continue;
    if (depth > MAX_NESTING_DEPTH) {
      return { offset: token.offset, message: nestedTooDeep };
    }
    // Pushed last to first, so that the first deep place in the file is found first.
    for (let i = token.items.length - 1; i >= 0; i--) {
      const item = token.items[i];
      stack.push({ token: item.value, depth: depth + 1 });
      stack.push({ token: item.key, depth: depth + 1 });
    }
  }
  return undefined;
}

/** A document over MAX_DOCUMENT_BYTES (in UTF-8) between `start` and `end` of the file's text. */
export function documentSizeProblem(text: string, start: number, end: number): GuardProblem | undefined {
  // A character is at most 3 bytes (4 for a pair of 2 UTF-16 units): only a long document needs counting.
  if ((end - start) * 3 <= MAX_DOCUMENT_BYTES) return undefined;
  const bytes = Buffer.byteLength(text.slice(start, end), 'utf8');
  if (bytes <= MAX_DOCUMENT_BYTES) return undefined;
  return {
    offset: start,
    field: '(document)',
    message: `the document is ${formatBytes(bytes)}, more than the limit of ${formatBytes(MAX_DOCUMENT_BYTES)} (etcd's request limit, which bounds every Kubernetes object); it is not read`,
  };
}
