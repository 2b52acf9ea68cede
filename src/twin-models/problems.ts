// What judging a twin's desired properties finds: problems with the place they are about, in the properties
// judged or in the schema or model that judges them, worded like src/validation's issues.
import type { FieldPath, Severity } from '../validation/issues.js';

export type { FieldPath, Severity };

export interface ModelProblem {
  severity: Severity;
  /**
   * Path of the offending field in the resource: under the `at` given to `judge` for a value, under the
   * inline schema's path for a schema problem, or the field that references a text read from elsewhere.
   */
  path: FieldPath;
  message: string;
  /** The problem is the field's name itself (an unknown property): point at the key rather than the value. */
  atKey?: boolean;
  /** For a schema or model read as text (a ConfigMap key): where in that text, 1-based. */
  textPosition?: { line: number; column: number };
}

/** A problem found inside a schema or model, before it is placed in a resource (see `placeProblems`). */
export interface SourceProblem {
  severity: Severity;
  /** Path inside the schema or model document. */
  path: FieldPath;
  message: string;
  /** Offset in the text, for a problem of the text itself (bad JSON). */
  offset?: number;
}

export function error(path: FieldPath, message: string): SourceProblem {
  return { severity: 'error', path, message };
}

export function warning(path: FieldPath, message: string): SourceProblem {
  return { severity: 'warning', path, message };
}
