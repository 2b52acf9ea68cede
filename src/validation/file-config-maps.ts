// The ConfigMaps among a set of files (`apiVersion: v1`, `kind: ConfigMap`): where `validate` and `sync` read the
// schema or model a TwinConfig names, as the controller reads them from the API server. A document without
// metadata.namespace is in `default`, as kubectl applies it.
import type { SourceDocument } from './source-document.js';
import type { ConfigMapLookup } from './twin-schema-judging.js';

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

export function isConfigMapDocument(value: unknown): boolean {
  return field(value, 'apiVersion') === 'v1' && field(value, 'kind') === 'ConfigMap';
}

/** `namespace/name` of a document, or undefined when it has no name. */
export function documentKey(value: unknown): string | undefined {
  const metadata = field(value, 'metadata');
  const name = field(metadata, 'name');
  if (typeof name !== 'string' || name === '') return undefined;
  const namespace = field(metadata, 'namespace');
  return `${typeof namespace === 'string' && namespace !== '' ? namespace : 'default'}/${name}`;
}

export class FileConfigMaps {
  /** By `namespace/name`; a ConfigMap defined twice is the last one, as kubectl apply leaves it. */
  private readonly byKey = new Map<string, SourceDocument>();

  constructor(documents: Iterable<SourceDocument>) {
    for (const document of documents) {
      if (!isConfigMapDocument(document.value)) continue;
      const key = documentKey(document.value);
      if (key !== undefined) this.byKey.set(key, document);
    }
  }

  readonly lookup: ConfigMapLookup = (namespace, name) => {
    const document = this.byKey.get(`${namespace}/${name}`);
    if (!document) return undefined;
    const data = field(document.value, 'data');
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  };

  /** The document of the ConfigMap, to show a problem of its text where it is written. */
  document(namespace: string, name: string): SourceDocument | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }
}
