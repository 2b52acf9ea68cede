// The Interfaces of a DTDL text: the top-level ones and those written inline (as a Component's schema or in
// `extends`), each with its version, its contents and its reusable schemas, indexed by @id.
import { error, type FieldPath, type SourceProblem } from '../problems.js';
import type { SchemaDefinitions } from './dtdl-schema.js';
import {
  contextVersion,
  isDtmi,
  isObject,
  type JsonObject,
  MAX_INTERFACE_DTMI_LENGTH,
  mainType,
  typesOf,
} from './dtdl-syntax.js';
import type { DtdlVersion } from './dtdl-types.js';

export interface InterfaceNode {
  id: string;
  version: DtdlVersion;
  node: JsonObject;
  path: FieldPath;
  /** DTMIs of the Interfaces it extends, with where each is named. */
  extends: { id: string; path: FieldPath }[];
  schemas: SchemaDefinitions;
}

export type InterfaceIndex = Map<string, InterfaceNode>;

/** Collects the Interfaces of a parsed DTDL document (an Interface or a list of them); the first is the model's. */
export function indexInterfaces(
  document: unknown,
  problems: SourceProblem[],
): { index: InterfaceIndex; rootId?: string } {
  const index: InterfaceIndex = new Map();
  const tops: { node: unknown; path: FieldPath }[] = Array.isArray(document)
    ? document.map((node, i) => ({ node, path: [i] }))
    : [{ node: document, path: [] }];
  if (tops.length === 0) {
    problems.push(error([], 'the model is an empty list; it must hold at least one Interface'));
    return { index };
  }
  let rootId: string | undefined;
  for (const { node, path } of tops) {
    const id = collectInterface(node, path, undefined, index, problems);
    rootId ??= id;
  }
  return { index, rootId };
}

/** Reads the Interface at `path` and the Interfaces written inside it; returns its @id when it reads. */
function collectInterface(
  node: unknown,
  path: FieldPath,
  inherited: DtdlVersion | undefined,
  index: InterfaceIndex,
  problems: SourceProblem[],
): string | undefined {
  if (!isObject(node)) {
    problems.push(error(path, 'an Interface must be a JSON object with "@type": "Interface"'));
    return undefined;
  }
  let version = inherited;
  if (node['@context'] !== undefined || inherited === undefined) {
    const read = contextVersion(node['@context']);
    if (typeof read === 'string') {
      problems.push(
        error(
          [...path, '@context'],
          node['@context'] === undefined
            ? 'the @context is missing: a DTDL model starts with "@context": "dtmi:dtdl:context;2" or "dtmi:dtdl:context;3"'
            : read,
        ),
      );
      return undefined;
    }
    version = read;
  }
  const v = version as DtdlVersion;
  const type = mainType(typesOf(node), ['Interface'] as const);
  if ('message' in type) {
    problems.push(error([...path, '@type'], type.message));
    return undefined;
  }
  const id = node['@id'];
  if (typeof id !== 'string' || !isDtmi(id, v) || id.length > MAX_INTERFACE_DTMI_LENGTH) {
    problems.push(
      error(
        [...path, '@id'],
        typeof id !== 'string'
          ? 'an Interface needs an @id, a DTMI such as "dtmi:com:example:Thermostat;1"'
          : `'${id}' is not a DTMI for an Interface in DTDL v${v}: dtmi:<segments separated by ':'>;<version>, at most ${MAX_INTERFACE_DTMI_LENGTH} characters`,
      ),
    );
    return undefined;
  }
  if (index.has(id)) {
    problems.push(error([...path, '@id'], `the Interface ${id} is defined twice`));
    return undefined;
  }
  const entry: InterfaceNode = { id, version: v, node, path, extends: [], schemas: new Map() };
  index.set(id, entry);
  collectExtends(entry, index, problems);
  collectSchemas(entry, problems);
  collectInlineComponents(entry, index, problems);
  return id;
}

/** A JSON-LD set may be written as one value or as a list. */
export function asList(value: unknown): unknown[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function listPath(value: unknown, path: FieldPath, i: number): FieldPath {
  return Array.isArray(value) ? [...path, i] : path;
}

function collectExtends(entry: InterfaceNode, index: InterfaceIndex, problems: SourceProblem[]): void {
  const value = entry.node.extends;
  const at = [...entry.path, 'extends'];
  asList(value).forEach((item, i) => {
    const path = listPath(value, at, i);
    if (typeof item === 'string') {
      if (isDtmi(item, entry.version)) entry.extends.push({ id: item, path });
      else problems.push(error(path, `'${item}' is not a DTMI`));
      return;
    }
    const id = collectInterface(item, path, entry.version, index, problems);
    if (id) entry.extends.push({ id, path });
  });
}

function collectSchemas(entry: InterfaceNode, problems: SourceProblem[]): void {
  const value = entry.node.schemas;
  asList(value).forEach((item, i) => {
    const path = listPath(value, [...entry.path, 'schemas'], i);
    const id = isObject(item) ? item['@id'] : undefined;
    if (typeof id !== 'string' || !isDtmi(id, entry.version)) {
      problems.push(
        error(path, "each of an Interface's schemas needs an @id, a DTMI by which Properties refer to it"),
      );
    } else if (entry.schemas.has(id)) {
      problems.push(error([...path, '@id'], `the schema ${id} is defined twice`));
    } else {
      entry.schemas.set(id, { node: item, path });
    }
  });
}

/** A Component's schema may be an Interface written in place: it is indexed with the others. */
function collectInlineComponents(
  entry: InterfaceNode,
  index: InterfaceIndex,
  problems: SourceProblem[],
): void {
  const value = entry.node.contents;
  asList(value).forEach((item, i) => {
    if (!isObject(item) || !isObject(item.schema)) return;
    const type = mainType(typesOf(item), ['Component'] as const);
    if ('type' in type) {
      const path = [...listPath(value, [...entry.path, 'contents'], i), 'schema'];
      collectInterface(item.schema, path, entry.version, index, problems);
    }
  });
}
