// What a JSON Schema holds that needs deciding before Ajv compiles it: its draft, references (only inside the
// document: nothing is ever loaded), patterns (compiled by the linear-time matcher), formats, extension keywords
// and asynchronous parts. Only schema positions are visited: a property named "pattern" is not a keyword.
import { MAX_PATTERN_INSTRUCTIONS, MAX_SCHEMA_PATTERN_INSTRUCTIONS } from '../limits.js';
import { error, type FieldPath, type SourceProblem } from '../problems.js';
import { compileSafePattern, type SafePattern } from '../safe-pattern/pattern-machine.js';

export type Draft = 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

const SINGLE = [
  'additionalProperties',
  'additionalItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
  'items',
];
const MAPS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies'];
const LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const REFERENCES = ['$ref', '$dynamicRef', '$recursiveRef'];
/** Keywords that apply a schema to the same value: a cycle of them never reaches a deeper value. */
const IN_PLACE_SINGLE = ['not', 'if', 'then', 'else'];
const IN_PLACE_LISTS = ['allOf', 'anyOf', 'oneOf'];

export interface SchemaScan {
  draft: Draft;
  problems: SourceProblem[];
  patterns: Map<string, SafePattern>;
  /** Each format named, with where. */
  formats: { name: string; path: FieldPath }[];
  extensionKeywords: Set<string>;
  /** Every schema object, with its path: to find a keyword Ajv names without saying where. */
  schemaNodes: { node: Record<string, unknown>; path: FieldPath }[];
  references: { ref: string; path: FieldPath }[];
}

const DRAFTS: [RegExp, Draft][] = [
  [/^https?:\/\/json-schema\.org\/draft-07\/schema#?$/, 'draft-07'],
  [/^https?:\/\/json-schema\.org\/draft-06\/schema#?$/, 'draft-06'],
  [/^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/, '2019-09'],
  [/^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/, '2020-12'],
];

function draftOf(root: unknown, problems: SourceProblem[]): Draft {
  const declared =
    root !== null && typeof root === 'object' ? (root as Record<string, unknown>).$schema : undefined;
  if (declared === undefined) return 'draft-07';
  const found = typeof declared === 'string' ? DRAFTS.find(([re]) => re.test(declared)) : undefined;
  if (found) return found[1];
  const what =
    typeof declared === 'string' && declared.includes('draft-04')
      ? 'JSON Schema draft-04 is not supported'
      : `'${String(declared)}' is not a JSON Schema draft this operator reads`;
  problems.push(error(['$schema'], `${what}; declare draft-07 (the default), 2019-09 or 2020-12`));
  return 'draft-07';
}

class Scanner {
  readonly result: SchemaScan;
  private patternInstructions = 0;

  constructor(draft: Draft, problems: SourceProblem[]) {
    this.result = {
      draft,
      problems,
      patterns: new Map(),
      formats: [],
      extensionKeywords: new Set(),
      schemaNodes: [],
      references: [],
    };
  }

  private pattern(text: string, path: FieldPath): void {
    if (this.result.patterns.has(text)) return;
    try {
      const compiled = compileSafePattern(text, MAX_PATTERN_INSTRUCTIONS);
      this.patternInstructions += compiled.instructions;
      if (this.patternInstructions > MAX_SCHEMA_PATTERN_INSTRUCTIONS) {
        this.result.problems.push(
          error(
            path,
            `the schema's patterns compile to more than ${MAX_SCHEMA_PATTERN_INSTRUCTIONS} steps per character in all`,
          ),
        );
      }
      this.result.patterns.set(text, compiled);
    } catch (e) {
      this.result.problems.push(
        error(path, `the pattern ${JSON.stringify(text)} is refused: ${(e as Error).message}`),
      );
    }
  }

  visit(schema: unknown, path: FieldPath): void {
    if (typeof schema === 'boolean') return;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      this.result.problems.push(error(path, 'a schema must be an object (or true, or false)'));
      return;
    }
    const node = schema as Record<string, unknown>;
    this.result.schemaNodes.push({ node, path });
    for (const [key, value] of Object.entries(node)) {
      const at = [...path, key];
      if (REFERENCES.includes(key)) {
        if (typeof value === 'string' && value.startsWith('#'))
          this.result.references.push({ ref: value, path: at });
        else
          this.result.problems.push(
            error(
              at,
              `only references inside this schema ('#/...') are followed; ${JSON.stringify(value)} would be loaded from elsewhere, which the operator never does`,
            ),
          );
      } else if (key === '$async' && value !== false) {
        this.result.problems.push(
          error(at, 'asynchronous schemas ($async) are not supported: values are judged at once'),
        );
      } else if (key === 'pattern' && typeof value === 'string') {
        this.pattern(value, at);
      } else if (key === 'format' && typeof value === 'string') {
        this.result.formats.push({ name: value, path: at });
      } else if (key.startsWith('x-')) {
        this.result.extensionKeywords.add(key);
      }
      if (key === 'patternProperties' && value !== null && typeof value === 'object') {
        for (const pattern of Object.keys(value)) this.pattern(pattern, [...at, pattern]);
      }
      if (MAPS.includes(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [name, item] of Object.entries(value)) {
          // dependencies maps a property to a list of required names or to a schema.
          if (!(key === 'dependencies' && Array.isArray(item))) this.visit(item, [...at, name]);
        }
      } else if (LISTS.includes(key) && Array.isArray(value)) {
        value.forEach((item, i) => {
          this.visit(item, [...at, i]);
        });
      } else if (SINGLE.includes(key)) {
        this.visit(value, at);
      }
    }
  }
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node = root;
  for (const raw of ref.slice(2).split('/')) {
    let key: string;
    try {
      key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * A cycle of references and in-place keywords (allOf, not...) applies the same schemas to the same value
 * forever: Ajv would overflow the stack at the first value judged. Found here with the path that closes it.
 */
function findInPlaceCycle(root: unknown, scan: SchemaScan): SourceProblem | undefined {
  const pathOf = new Map<object, FieldPath>(scan.schemaNodes.map(({ node, path }) => [node, path]));
  const edges = (node: Record<string, unknown>): { target: object; via: FieldPath }[] => {
    const path = pathOf.get(node) ?? [];
    const out: { target: object; via: FieldPath }[] = [];
    const push = (target: unknown, via: FieldPath) => {
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) out.push({ target, via });
    };
    for (const key of REFERENCES) {
      if (typeof node[key] === 'string') push(resolvePointer(root, node[key] as string), [...path, key]);
    }
    for (const key of IN_PLACE_SINGLE) push(node[key], [...path, key]);
    for (const key of IN_PLACE_LISTS) {
      const list = node[key];
      if (Array.isArray(list)) {
        list.forEach((item, i) => {
          push(item, [...path, key, i]);
        });
      }
    }
    return out;
  };
  const state = new Map<object, 'open' | 'done'>();
  for (const { node: start } of scan.schemaNodes) {
    if (state.has(start)) continue;
    const stack: {
      node: Record<string, unknown>;
      next: { target: object; via: FieldPath }[];
      trail: string[];
    }[] = [{ node: start, next: edges(start), trail: [] }];
    state.set(start, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const edge = top.next.pop();
      if (!edge) {
        state.set(top.node, 'done');
        stack.pop();
        continue;
      }
      const seen = state.get(edge.target);
      if (seen === 'open') {
        return error(
          edge.via,
          `the schema applies itself to the same value without end (${[...top.trail, pointer(edge.via)].join(' -> ')}): a reference must reach a deeper value (under properties, items...) before it comes back`,
        );
      }
      if (seen === undefined) {
        state.set(edge.target, 'open');
        const target = edge.target as Record<string, unknown>;
        stack.push({ node: target, next: edges(target), trail: [...top.trail, pointer(edge.via)] });
      }
    }
  }
  return undefined;
}

function pointer(path: FieldPath): string {
  return `#/${path.map(String).join('/')}`;
}

export function scanSchema(root: unknown): SchemaScan {
  const problems: SourceProblem[] = [];
  const scanner = new Scanner(draftOf(root, problems), problems);
  scanner.visit(root, []);
  const scan = scanner.result;
  if (problems.length === 0) {
    for (const { ref, path } of scan.references) {
      if (ref.startsWith('#/') || ref === '#') {
        const target = resolvePointer(root, ref);
        if (target === undefined)
          problems.push(error(path, `'${ref}' does not point to anything in this schema`));
      }
    }
  }
  if (problems.length === 0) {
    const cycle = findInPlaceCycle(root, scan);
    if (cycle) problems.push(cycle);
  }
  return scan;
}
