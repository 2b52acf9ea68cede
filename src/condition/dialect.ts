/**
 * Which twin fields a condition may name.
 * - `deviceTarget`: what a target condition in our custom resource may select devices by.
 * - `hubQuery`: any field of a device or module twin document (query-twins.md sample twin, plus the module
 *   and identity fields the hub returns), for the full queries the hub client sends.
 */
export type Dialect = 'deviceTarget' | 'hubQuery';

interface FieldRule {
  readonly prefix: readonly string[];
  /** The prefix is an object: a path must name something inside it (`tags.site`, not `tags`). */
  readonly nested: boolean;
  /** Names below the prefix may start with '$' (`properties.reported.$version`). */
  readonly systemNames?: boolean;
}

const field = (path: string): FieldRule => ({ prefix: path.split('.'), nested: false });
const object = (path: string, systemNames = false): FieldRule => ({
  prefix: path.split('.'),
  nested: true,
  systemNames,
});

const DEVICE_FIELDS: readonly FieldRule[] = [
  object('tags'),
  field('deviceId'),
  field('status'),
  field('connectionState'),
];

const TARGET_FIELDS: readonly FieldRule[] = [
  ...DEVICE_FIELDS,
  // The IoT Plug and Play model a device announced: what a TwinConfig for thermostats selects them by.
  field('modelId'),
];

const HUB_FIELDS: readonly FieldRule[] = [
  ...DEVICE_FIELDS,
  object('properties.desired', true),
  object('properties.reported', true),
  object('configurations'),
  ...[
    'moduleId',
    'etag',
    'deviceEtag',
    'version',
    'statusReason',
    'statusUpdateTime',
    'connectionStateUpdatedTime',
    'lastActivityTime',
    'cloudToDeviceMessageCount',
    'authenticationType',
    'modelId',
    'deviceScope',
    'parentScopes',
    'capabilities.iotEdge',
    'x509Thumbprint.primaryThumbprint',
    'x509Thumbprint.secondaryThumbprint',
  ].map(field),
];

const TARGET_HINT = 'use tags.*, deviceId, status, connectionState or modelId';
const HUB_HINT =
  'use tags.*, properties.desired.*, properties.reported.*, configurations.* or one of ' +
  HUB_FIELDS.filter((rule) => !rule.nested)
    .map((rule) => rule.prefix.join('.'))
    .join(', ');

/**
 * Words the hub's parser treats as keywords. `group` is documented to break a path (query language article,
 * GROUP BY caution) and the hub's escape for it is outside our subset; the others are structural keywords of
 * the same grammar, rejected rather than hoping the hub reads them as names.
 */
const RESERVED_WORDS = new Set([
  'select',
  'from',
  'where',
  'group',
  'order',
  'by',
  'top',
  'as',
  'and',
  'or',
  'not',
  'in',
  'nin',
  'true',
  'false',
  'null',
  'undefined',
]);

export function isReservedWord(name: string): boolean {
  return RESERVED_WORDS.has(name.toLowerCase());
}

export interface PathCheckOptions {
  /** Projections may name a whole object (`tags`, `properties`); conditions compare values inside it. */
  readonly allowContainers?: boolean;
}

/** Why a path cannot be used in the dialect, as a message waiting for its position phrase; undefined if fine. */
export function pathProblem(
  segments: readonly string[],
  dialect: Dialect,
  options: PathCheckOptions = {},
): ((at: string) => string) | undefined {
  const path = segments.join('.');
  const reserved = segments.find(isReservedWord);
  if (reserved !== undefined) {
    return (at) =>
      `'${path}' ${at} uses '${reserved}', a reserved word of the hub query language, as a property name`;
  }

  const rules = dialect === 'deviceTarget' ? TARGET_FIELDS : HUB_FIELDS;
  const rule = rules.find((candidate) => startsWithNames(segments, candidate.prefix));
  if (rule === undefined) {
    if (options.allowContainers && rules.some((candidate) => isProperPrefix(segments, candidate.prefix))) {
      return undefined;
    }
    if (segments.some((segment) => segment.startsWith('$'))) return systemNameProblem(path);
    const hint = dialect === 'deviceTarget' ? TARGET_HINT : HUB_HINT;
    const context =
      dialect === 'deviceTarget' ? 'is not allowed in a target condition' : 'is not a twin field';
    return (at) => `'${path}' ${at} ${context}; ${hint}`;
  }

  const base = rule.prefix.join('.');
  if (rule.nested && segments.length === rule.prefix.length && !options.allowContainers) {
    const example = base === 'tags' ? 'tags.site' : `${base}.name`;
    return (at) => `'${path}' ${at} is an object; name a property inside it, for example ${example}`;
  }
  if (!rule.nested && segments.length > rule.prefix.length) {
    return (at) => `'${path}' ${at} is not a twin field: ${base} has no nested properties`;
  }
  if (segments.some((segment) => segment.startsWith('$')) && !rule.systemNames)
    return systemNameProblem(path);
  return undefined;
}

function systemNameProblem(path: string): (at: string) => string {
  return (at) =>
    `'${path}' ${at} is not allowed: names starting with '$' exist only under properties.desired and properties.reported`;
}

function startsWithNames(segments: readonly string[], prefix: readonly string[]): boolean {
  return segments.length >= prefix.length && prefix.every((name, i) => sameName(segments[i], name));
}

function isProperPrefix(segments: readonly string[], of: readonly string[]): boolean {
  return segments.length < of.length && segments.every((name, i) => sameName(name, of[i]));
}

/** Property names are case-insensitive in hub queries (routing query syntax article; azure-iot-sdk-csharp#257). */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}
