// From the text of a DTDL model to the Properties that apply to a twin or to one of its components: the
// Interface's contents with those it extends, the Components and their Interfaces, each Property's schema.
import { didYouMean, listNames } from '../did-you-mean.js';
import { parseBoundedJson } from '../json-text.js';
import { MAX_MODEL_BYTES } from '../limits.js';
import { error, type FieldPath, type SourceProblem } from '../problems.js';
import {
  asList,
  type InterfaceIndex,
  type InterfaceNode,
  indexInterfaces,
  listPath,
} from './dtdl-interfaces.js';
import { SchemaReader } from './dtdl-schema.js';
import { isObject, mainType, nameProblem, typesOf } from './dtdl-syntax.js';
import type { DtdlComponent, DtdlModel, DtdlProperty } from './dtdl-types.js';

const CONTENT_TYPES = ['Property', 'Telemetry', 'Command', 'Relationship', 'Component'] as const;
type ContentType = (typeof CONTENT_TYPES)[number];

/** "max depth of 10 levels" of `extends`, in v2 and v3. */
const MAX_EXTENDS_DEPTH = 10;
const V2_MAX_EXTENDS = 2;
const V2_MAX_CONTENTS = 300;

interface Content {
  type: ContentType;
  name: string;
  path: FieldPath;
  declaredIn: string;
  property?: DtdlProperty;
  component?: DtdlComponent;
}

/** A problem about the component the caller named rather than about the model (placed at that field). */
export interface ComponentProblem extends SourceProblem {
  about: 'component';
}

export type ReadModel =
  | { ok: true; model: DtdlModel }
  | { ok: false; problems: (SourceProblem | ComponentProblem)[] };

/**
 * Reads a DTDL v2 or v3 model: one Interface, or a list of Interfaces whose first is the model's (the others
 * being those it uses as Components or extends, as the models repository's expanded form lists them).
 * With `component`, the Properties that apply are those of that Component's Interface.
 */
export function readDtdlModel(text: string, component?: string): ReadModel {
  const parsed = parseBoundedJson(text, MAX_MODEL_BYTES, 'the model');
  if (!parsed.ok) return { ok: false, problems: [{ ...error([], parsed.message), offset: parsed.offset }] };
  const problems: SourceProblem[] = [];
  const { index, rootId } = indexInterfaces(parsed.value, problems);
  if (problems.length > 0 || rootId === undefined) return { ok: false, problems };
  const reader = new ContentsReader(index, problems);
  const rootContents = reader.contents(rootId, []);
  const components = rootContents.flatMap((c) => (c.component ? [c.component] : []));
  for (const c of rootContents) if (c.component) reader.checkComponent(c);
  if (problems.length > 0) return { ok: false, problems };

  const root = index.get(rootId)!;
  if (component === undefined) {
    return {
      ok: true,
      model: {
        dtdlVersion: root.version,
        interfaceId: rootId,
        appliesInterfaceId: rootId,
        properties: propertiesOf(rootContents),
        components,
      },
    };
  }
  const chosen = components.find((c) => c.name === component);
  if (!chosen) {
    const names = components.map((c) => c.name);
    const message =
      names.length === 0
        ? `${rootId} has no components; leave the component out to manage the twin's own properties`
        : `${rootId} has no component '${component}'${didYouMean(component, names) || `; its components are ${listNames(names, 'components')}`}`;
    return { ok: false, problems: [{ ...error([], message), about: 'component' }] };
  }
  return {
    ok: true,
    model: {
      dtdlVersion: root.version,
      interfaceId: rootId,
      component: chosen,
      appliesInterfaceId: chosen.interfaceId,
      properties: propertiesOf(reader.contents(chosen.interfaceId, [])),
      components: [],
    },
  };
}

function propertiesOf(contents: Content[]): DtdlProperty[] {
  return contents.flatMap((c) => (c.property ? [c.property] : []));
}

class ContentsReader {
  private readonly resolved = new Map<string, Content[]>();
  private readonly readers = new Map<string, SchemaReader>();

  constructor(
    private readonly index: InterfaceIndex,
    private readonly problems: SourceProblem[],
  ) {}

  /** The contents of an Interface that read, those it extends first (the others are reported as problems). */
  contents(id: string, chain: string[]): Content[] {
    const known = this.resolved.get(id);
    if (known) return known;
    const entry = this.index.get(id)!;
    const inherited: Content[] = [];
    if (entry.version === 2 && entry.extends.length > V2_MAX_EXTENDS) {
      this.problems.push(
        error(
          [...entry.path, 'extends'],
          `DTDL v2 allows an Interface to extend at most ${V2_MAX_EXTENDS} Interfaces`,
        ),
      );
    }
    for (const base of entry.extends) {
      const found = this.baseContents(base, [...chain, id]);
      if (found) inherited.push(...found);
    }
    const own = this.ownContents(entry);
    const all = [...inherited];
    const byName = new Map(inherited.map((c) => [c.name, c]));
    for (const content of own) {
      const clash = byName.get(content.name);
      if (clash) {
        this.problems.push(
          error(
            [...content.path, 'name'],
            `the name '${content.name}' is already used in ${clash.declaredIn}; names must be unique among an Interface's contents, those it extends included`,
          ),
        );
      } else {
        all.push(content);
        byName.set(content.name, content);
      }
    }
    if (entry.version === 2 && all.length > V2_MAX_CONTENTS) {
      this.problems.push(
        error(
          [...entry.path, 'contents'],
          `${id} has ${all.length} contents with those it extends; DTDL v2 allows at most ${V2_MAX_CONTENTS}`,
        ),
      );
    }
    this.resolved.set(id, all);
    return all;
  }

  private baseContents(base: { id: string; path: FieldPath }, chain: string[]): Content[] | undefined {
    if (chain.includes(base.id)) {
      this.problems.push(
        error(
          base.path,
          `${base.id} extends itself (${[...chain.slice(chain.indexOf(base.id)), base.id].join(' -> ')})`,
        ),
      );
      return undefined;
    }
    if (chain.length >= MAX_EXTENDS_DEPTH) {
      this.problems.push(
        error(base.path, `extends nests more than ${MAX_EXTENDS_DEPTH} levels, the most DTDL allows`),
      );
      return undefined;
    }
    if (!this.index.has(base.id)) {
      this.problems.push(
        error(
          base.path,
          `the Interface ${base.id} is not in the model; put it in the same text (a JSON list of Interfaces)`,
        ),
      );
      return undefined;
    }
    return this.contents(base.id, chain);
  }

  private schemaReader(entry: InterfaceNode): SchemaReader {
    let reader = this.readers.get(entry.id);
    if (!reader) {
      reader = new SchemaReader(entry.version, entry.id, entry.schemas, this.problems);
      this.readers.set(entry.id, reader);
    }
    return reader;
  }

  private ownContents(entry: InterfaceNode): Content[] {
    const value = entry.node.contents;
    const out: Content[] = [];
    asList(value).forEach((item, i) => {
      const path = listPath(value, [...entry.path, 'contents'], i);
      const content = this.readContent(entry, item, path);
      if (content) out.push(content);
    });
    return out;
  }

  private readContent(entry: InterfaceNode, item: unknown, path: FieldPath): Content | undefined {
    if (!isObject(item)) {
      this.problems.push(
        error(path, 'each of the contents must be an object with an @type, such as "Property"'),
      );
      return undefined;
    }
    const type = mainType(typesOf(item), CONTENT_TYPES);
    if ('message' in type) {
      this.problems.push(error([...path, '@type'], type.message));
      return undefined;
    }
    const nameIssue = nameProblem(item.name, entry.version);
    if (nameIssue) {
      this.problems.push(error([...path, 'name'], nameIssue));
      return undefined;
    }
    const name = item.name as string;
    const content: Content = { type: type.type, name, path, declaredIn: entry.id };
    if (type.type === 'Property') {
      if (item.writable !== undefined && typeof item.writable !== 'boolean') {
        this.problems.push(error([...path, 'writable'], 'writable must be true or false'));
        return undefined;
      }
      if (item.schema === undefined) {
        this.problems.push(error([...path, 'schema'], `the Property '${name}' has no schema`));
        return undefined;
      }
      const schema = this.schemaReader(entry).read(item.schema, [...path, 'schema']);
      if (!schema) return undefined;
      content.property = {
        name,
        writable: item.writable === true,
        schema,
        declaredIn: entry.id,
        ...texts(item),
      };
    } else if (type.type === 'Component') {
      const schema = item.schema;
      const interfaceId =
        typeof schema === 'string'
          ? schema
          : isObject(schema) && typeof schema['@id'] === 'string'
            ? schema['@id']
            : undefined;
      if (interfaceId === undefined) {
        this.problems.push(
          error(
            [...path, 'schema'],
            `the Component '${name}' needs a schema: the DTMI of an Interface, or an Interface`,
          ),
        );
        return undefined;
      }
      content.component = { name, interfaceId };
    }
    return content;
  }

  /** A Component's Interface must be in the model and may not hold Components itself (v2 and v3). */
  checkComponent(content: Content): void {
    const { interfaceId } = content.component!;
    const at = [...content.path, 'schema'];
    if (!this.index.has(interfaceId)) {
      this.problems.push(
        error(
          at,
          `the Component '${content.name}' uses the Interface ${interfaceId}, which is not in the model; put it in the same text (a JSON list of Interfaces)`,
        ),
      );
      return;
    }
    const contents = this.contents(interfaceId, []);
    const nested = contents.find((c) => c.type === 'Component');
    if (nested) {
      this.problems.push(
        error(
          at,
          `the Component '${content.name}' uses ${interfaceId}, which has a Component ('${nested.name}'); DTDL does not allow a Component in a Component`,
        ),
      );
    }
  }
}

/** The display texts of an element, in English when they are localized. */
function texts(item: Record<string, unknown>): { displayName?: string; description?: string } {
  const pick = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : isObject(v) ? (typeof v.en === 'string' ? v.en : undefined) : undefined;
  const out: { displayName?: string; description?: string } = {};
  const displayName = pick(item.displayName);
  const description = pick(item.description);
  if (displayName !== undefined) out.displayName = displayName;
  if (description !== undefined) out.description = description;
  return out;
}
