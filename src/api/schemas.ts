// Loads the JSON Schema files under schemas/, the single source of truth of the API.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageFolder } from '../package-folder.js';

export type JsonSchema = { [keyword: string]: unknown };

export interface CrdNames {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  printerColumns: { name: string; type: string; jsonPath: string; description?: string }[];
}

export const API_GROUP = 'iotsecurity.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** The folder holding the schema files. */
export function schemasDirectory(): string {
  return packageFolder('schemas', (f) => f.endsWith('.schema.json'));
}

/** Every schema file by its $id (its file name). */
export function loadSchemaFiles(dir = schemasDirectory()): Map<string, JsonSchema> {
  const files = new Map<string, JsonSchema>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.schema.json')) continue;
    const schema = JSON.parse(readFileSync(join(dir, name), 'utf8')) as JsonSchema;
    if (schema.$id !== name)
      throw new Error(`${name}: $id must be the file name, found ${String(schema.$id)}`);
    files.set(name, schema);
  }
  return files;
}

/** The schemas that describe a Kubernetes kind (they carry x-kubernetes-crd). */
export function kindSchemas(files: Map<string, JsonSchema>): { schema: JsonSchema; names: CrdNames }[] {
  return [...files.values()]
    .filter((s) => s['x-kubernetes-crd'])
    .map((schema) => ({ schema, names: schema['x-kubernetes-crd'] as CrdNames }));
}

/** Resolves a $ref ("#/definitions/X" or "file.json#/definitions/X") seen from the schema file `base`. */
export function resolveRef(
  files: Map<string, JsonSchema>,
  base: string,
  ref: string,
): { schema: JsonSchema; file: string } {
  const [filePart, pointer = ''] = ref.split('#');
  const file = filePart === '' ? base : filePart;
  let node: unknown = files.get(file);
  if (!node) throw new Error(`${base}: $ref ${ref} names an unknown file`);
  for (const segment of pointer.split('/').filter(Boolean)) {
    node = (node as JsonSchema)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node === undefined) throw new Error(`${base}: $ref ${ref} does not resolve`);
  }
  return { schema: node as JsonSchema, file };
}
