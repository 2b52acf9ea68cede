// Validates every resource in a set of YAML files: the library behind `validate` and the first step of `sync`.
import { redactSecrets } from '../observability/redact.js';
import { duplicateResourceProblems } from './duplicate-resources.js';
import { FileConfigMaps } from './file-config-maps.js';
import { type FieldPath, formatFieldPath, type Severity, type ValidationIssue } from './issues.js';
import { printable } from './printable-text.js';
import { findResourceFiles, loadResourceFiles, type SourceDocument } from './resource-files.js';
import type { ResourceText } from './resource-text.js';
import type { SourcePosition } from './source-document.js';
import { type ResourceValidation, validateResource } from './validate-resource.js';

export interface LocatedProblem {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  kind: string;
  name: string;
  field: string;
  message: string;
}

export interface ValidatedDocument {
  source: SourceDocument;
  validation: ResourceValidation;
}

export interface FilesValidation {
  files: string[];
  documents: ValidatedDocument[];
  problems: LocatedProblem[];
  valid: boolean;
}

/** Text read elsewhere than from a path (standard input), judged as a file of that name. */
export interface NamedText {
  name: string;
  text: ResourceText;
}

export interface FilesValidationOptions {
  /**
   * What a TwinConfig whose ConfigMap is not among the files is: an error (the default; `sync` writes nothing), or
   * a warning (`validate --allow-missing-configmaps`, for ConfigMaps made elsewhere).
   */
  missingConfigMaps?: Severity;
}

/** Where an issue is shown: in its resource, or inside the text of a ConfigMap of the files that it is about. */
function place(
  source: SourceDocument,
  issue: ValidationIssue,
  configMaps: FileConfigMaps,
): { file: string; position: SourcePosition } {
  const text = issue.inConfigMap;
  const configMap = text && configMaps.document(text.namespace, text.name);
  if (text && configMap)
    return {
      file: configMap.file,
      position: configMap.locateInText(['data', text.key], text.line, text.column),
    };
  return { file: source.file, position: source.locate(issue.path, issue) };
}

/**
 * Throws only a PathError, for a path given that cannot be used; every problem in the files (and in `texts`)
 * is returned. The ConfigMaps a TwinConfig names are read from the same files.
 */
export function validateFiles(
  paths: readonly string[],
  texts: readonly NamedText[] = [],
  options: FilesValidationOptions = {},
): FilesValidation {
  const { files, problems: unreadable } = findResourceFiles(paths);
  for (const { name } of texts) files.push(name);
  const loaded = loadResourceFiles(files, new Map(texts.map(({ name, text }) => [name, text])));
  const problems: LocatedProblem[] = [...unreadable, ...loaded.syntaxProblems].map((p) => ({
    file: p.file,
    line: p.position.line,
    column: p.position.column,
    severity: 'error',
    kind: 'YAML',
    name: '-',
    field: p.field ?? '(syntax)',
    message: p.message,
  }));
  const documents: ValidatedDocument[] = [];
  const configMaps = new FileConfigMaps(loaded.documents);
  const access = {
    lookup: configMaps.lookup,
    where: 'among the files',
    missing: options.missingConfigMaps ?? 'error',
  };
  for (const source of loaded.documents) {
    const validation = validateResource(source.value, access);
    documents.push({ source, validation });
    for (const issue of validation.issues) {
      const { file, position } = place(source, issue, configMaps);
      problems.push({
        file,
        line: position.line,
        column: position.column,
        severity: issue.severity,
        kind: validation.kind,
        name: validation.name,
        field: formatFieldPath(issue.path),
        message: issue.message + yaml11BooleanHint(source, issue.path),
      });
    }
  }
  for (const problem of duplicateResourceProblems(documents)) problems.push(problem);
  problems.sort(compareProblems);
  return {
    files,
    documents,
    problems: problems.map(withoutSecrets),
    valid: !problems.some((p) => p.severity === 'error'),
  };
}

/**
 * Messages quote the values they judge: a connection string pasted into the wrong field (a name, the Secret
 * reference, the tier) would be printed, key and all, into CI logs. Its key and signatures are redacted.
 */
function withoutSecrets(problem: LocatedProblem): LocatedProblem {
  return {
    ...problem,
    name: redactSecrets(problem.name),
    field: redactSecrets(problem.field),
    message: redactSecrets(problem.message),
  };
}

/** Words YAML 1.1 (kubectl's YAML) reads as booleans when unquoted, beyond true and false. */
const YAML11_BOOLEAN_WORDS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** Why a value written as Off is a boolean: the hint that saves a user from staring at a correct-looking file. */
function yaml11BooleanHint(source: SourceDocument, path: FieldPath): string {
  const text = source.plainScalarText(path);
  if (text === undefined || !YAML11_BOOLEAN_WORDS.test(text)) return '';
  return ` (unquoted, ${text} is the boolean ${YAML11_BOOLEAN_TRUE.test(text)} in the YAML kubectl reads; quote it: '${text}')`;
}

const YAML11_BOOLEAN_TRUE = /^(y|Y|yes|Yes|YES|on|On|ON)$/;

/** The order problems are printed in: by file, line and column. */
export function compareProblems(a: LocatedProblem, b: LocatedProblem): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;
}

/** One problem on one line; what comes from the files is escaped (see printable). */
export function formatProblem(p: LocatedProblem): string {
  const line = `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.kind}/${p.name}: ${p.field}: ${p.message}`;
  return printable(line);
}
