// What validation finds: problems with the field they are about, for people and for tools.

export type Severity = 'error' | 'warning';
export type FieldPath = (string | number)[];

export interface ValidationIssue {
  severity: Severity;
  /** Path of the offending field in the resource, e.g. ['spec', 'target', 'deviceIds', 2]. */
  path: FieldPath;
  message: string;
  /** For messages about a place inside a string value (a target condition): the 0-based offset in it. */
  offsetInValue?: number;
  /** The problem is the field's name itself (an unknown field): point at the key rather than the value. */
  atKey?: boolean;
  /**
   * For a problem inside the text of a ConfigMap's key (a model that fails to parse, a schema that fails to
   * compile): where in that text, 1-based, so that a ConfigMap among the files can show it at its own line.
   */
  inConfigMap?: ConfigMapTextPosition;
  /** The problem is a ConfigMap the lookup lacks: a controller may wait for it to appear rather than for a fix. */
  missingConfigMap?: { namespace: string; name: string };
}

export interface ConfigMapTextPosition {
  namespace: string;
  name: string;
  key: string;
  line: number;
  column: number;
}

/** A JSON Pointer (RFC 6901, as Ajv reports where a problem is) as a field path; numeric segments are indexes. */
export function pointerToPath(pointer: string): FieldPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `spec.target.deviceIds[2]`; the empty path is the resource itself. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(resource)' : out;
}

export function hasErrors(issues: readonly ValidationIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
