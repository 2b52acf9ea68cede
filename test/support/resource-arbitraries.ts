// fast-check generators of IoTHub, SecurityModuleConfig and TwinConfig documents from the API's schema: valid ones, and
// valid ones with one mutation (a wrong type, an out-of-range number, an unknown field, a bad enum, a missing
// required field, a bad name).
import fc from 'fast-check';
import type { PlannedResource } from '../../src/planner/index.js';
import {
  type AgentSettings,
  checkAgentSettings,
  effectiveSettings,
  parseIsoDuration,
  SETTINGS,
  SETTINGS_BY_KEY,
  type SettingValue,
} from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import {
  AGGREGATED_EVENTS,
  EVENT_NAMES,
  EVENT_PRIORITIES,
} from '../../src/profiles/security-agent/settings.js';
import { iotHub, securityModuleConfig, twinConfig } from './resources.js';

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/);
const dnsSubdomain = fc
  .array(dnsLabel, { minLength: 1, maxLength: 3 })
  .map((labels) => labels.join('.'))
  .filter((name) => name.length <= 253);
const isoDuration = fc.constantFrom(
  'PT30S',
  'PT1M',
  'PT5M',
  'PT7M',
  'PT30M',
  'PT1H',
  'PT5H',
  'PT13H',
  'P1D',
  'PT1H30M',
);
const kubeDuration = fc.constantFrom('30s', '1m', '10m', '15m', '1h', '1h30m', '2h');
const intOrPercent = fc.oneof(
  fc.integer({ min: 0, max: 500 }),
  fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`),
);
/** A batch that rolls something out (0 and 0% are refused). */
const batchSize = intOrPercent.filter((batch) => batch !== 0 && batch !== '0%');
const deviceId = fc.stringMatching(/^[A-Za-z0-9\-._]{1,20}$/);
const CONDITIONS = [
  "tags.site = 'ams-dc1'",
  "tags.environment IN ['production', 'staging']",
  "tags.site = 'a' AND NOT (tags.ring = 'canary')",
  "STARTSWITH(deviceId, 'gw-')",
  'IS_DEFINED(tags.site)',
  "connectionState = 'Connected'",
];

const agentConfiguration = fc
  .record(
    {
      highPriorityMessageFrequency: isoDuration,
      lowPriorityMessageFrequency: isoDuration,
      snapshotFrequency: isoDuration,
      maxMessageSizeInBytes: fc.integer({ min: 8192, max: 262144 }),
      maxLocalCacheSizeInBytes: fc.integer({ min: 8192, max: 100_000_000 }),
      eventPriorities: fc.dictionary(fc.constantFrom(...EVENT_NAMES), fc.constantFrom(...EVENT_PRIORITIES), {
        minKeys: 1,
        maxKeys: 4,
      }),
      aggregation: fc.dictionary(
        fc.constantFrom(...AGGREGATED_EVENTS),
        fc.record({ enabled: fc.boolean(), interval: isoDuration }, { requiredKeys: ['enabled'] }),
        { minKeys: 1, maxKeys: 2 },
      ),
      baselineCustomChecks: fc.record(
        {
          enabled: fc.boolean(),
          filePath: fc.constantFrom('/etc/baseline.xml', null),
          fileHash: fc.constantFrom('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', null),
        },
        { requiredKeys: ['enabled'] },
      ),
      hubResourceId: fc.constantFrom(
        '',
        '/subscriptions/x/resourceGroups/y/providers/Microsoft.Devices/IotHubs/z',
      ),
    },
    { requiredKeys: [] },
  )
  .map(withinOneResourceRules);

/** Settings one resource sets together as the agent takes them: the cache holds a message, high <= low. */
function withinOneResourceRules(settings: Record<string, any>): Record<string, any> {
  const { maxLocalCacheSizeInBytes: cache, maxMessageSizeInBytes: message } = settings;
  if (cache !== undefined && message !== undefined && cache < message)
    settings.maxLocalCacheSizeInBytes = message;
  const { highPriorityMessageFrequency: high, lowPriorityMessageFrequency: low } = settings;
  if (high !== undefined && low !== undefined && parseIsoDuration(high)! > parseIsoDuration(low)!) {
    settings.highPriorityMessageFrequency = low;
    settings.lowPriorityMessageFrequency = high;
  }
  return settings;
}

/**
 * Agent settings near the edges of the agent's rules, valid or not: durations that are no duration, zero, equal in
 * other units or a fraction apart; sizes either side of the limits and of each other.
 */
export const edgeAgentConfiguration = fc.record(
  {
    highPriorityMessageFrequency: fc.constantFrom(...edgeDurations()),
    lowPriorityMessageFrequency: fc.constantFrom(...edgeDurations()),
    snapshotFrequency: fc.constantFrom(...edgeDurations()),
    maxMessageSizeInBytes: fc.constantFrom(8192, 8193, 65536, 204800, 262144),
    maxLocalCacheSizeInBytes: fc.constantFrom(8192, 8193, 65535, 65536, 204800, 262143, 2_560_000),
    aggregation: fc.record(
      { ProcessCreate: fc.record({ interval: fc.constantFrom(...edgeDurations()) }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

function edgeDurations(): string[] {
  return [
    'P',
    'PT',
    'P1DT',
    'PT0S',
    'P0D',
    'PT0.0S',
    'PT0.001S',
    'PT0.5S',
    'PT0.50S',
    'PT1S',
    'PT1.5S',
    'PT59.999S',
    'PT1M',
    'PT60S',
    'PT1H',
    'PT60M',
    'PT3600S',
    'PT5H',
    'P1D',
    'PT24H',
    'P1W',
    'P7D',
    'P1M',
    'P30D',
    'P1Y',
    'P365D',
    'P1Y2M3W4DT5H6M7.5S',
  ];
}

export function securityModuleConfigArb(namespace: string): fc.Arbitrary<Record<string, any>> {
  return fc
    .record(
      {
        name: dnsSubdomain,
        hub: dnsSubdomain,
        target: fc.oneof(
          fc.constantFrom(...CONDITIONS).map((condition) => ({ condition })),
          fc.uniqueArray(deviceId, { minLength: 1, maxLength: 5 }).map((deviceIds) => ({ deviceIds })),
        ),
        optional: fc.record(
          {
            priority: fc.integer({ min: 0, max: 1_000_000 }),
            createMissingModules: fc.boolean(),
            suspend: fc.boolean(),
            deletionPolicy: fc.constantFrom('Remove', 'Retain'),
            convergenceTimeout: kubeDuration,
            rollout: fc.record(
              { batchSize: batchSize, failureThreshold: intOrPercent },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        agentConfiguration,
      },
      { requiredKeys: ['name', 'hub', 'target', 'optional', 'agentConfiguration'] },
    )
    .map(({ name, hub, target, optional, agentConfiguration }) =>
      securityModuleConfig(
        name,
        { hubRef: { name: hub }, target, agentConfiguration, ...optional },
        { namespace },
      ),
    );
}

/** Keys a twin takes (no '.', '$', space or control character; not the component marker). */
const twinKey = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_:-]{0,15}$/);
/** JSON a twin takes: no null, finite numbers, a few levels. */
const twinValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double({ min: -1000, max: 1000, noNaN: true }),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(twinKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const twinSelector = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('thermostat1', 'thermostat2', 'deviceInformation').map((component) => ({ component })),
  fc.record(
    { moduleId: fc.constantFrom('thermostat-agent', 'edge.Agent_2'), createModule: fc.boolean() },
    { requiredKeys: ['moduleId'] },
  ),
);

const schemaReference = fc.oneof(
  fc.constant(undefined),
  fc.constant({ jsonSchema: { type: 'object' } }),
  fc.constant({
    jsonSchema: {
      type: 'object',
      additionalProperties: { type: ['number', 'string', 'boolean', 'object', 'array'] },
    },
  }),
  fc.record(
    {
      configMapKeyRef: fc.record({ name: dnsSubdomain, key: fc.constantFrom('model.json', 'schema.json') }),
      format: fc.constantFrom('JSONSchema', 'DTDL'),
    },
    { requiredKeys: ['configMapKeyRef'] },
  ),
);

export function twinConfigArb(namespace: string): fc.Arbitrary<Record<string, any>> {
  return fc
    .record({
      name: dnsSubdomain,
      hub: dnsSubdomain,
      target: fc.oneof(
        fc
          .constantFrom(...CONDITIONS, "modelId = 'dtmi:com:example:Thermostat;1'")
          .map((condition) => ({ condition })),
        fc.uniqueArray(deviceId, { minLength: 1, maxLength: 5 }).map((deviceIds) => ({ deviceIds })),
      ),
      properties: fc.dictionary(twinKey, twinValue, { minKeys: 1, maxKeys: 4 }),
      twin: twinSelector,
      schema: schemaReference,
      optional: fc.record(
        {
          priority: fc.integer({ min: 0, max: 1_000_000 }),
          convergence: fc.constantFrom('PlugAndPlay', 'Mirror', 'None'),
          suspend: fc.boolean(),
          deletionPolicy: fc.constantFrom('Remove', 'Retain'),
          convergenceTimeout: kubeDuration,
          rollout: fc.record({ batchSize: batchSize, failureThreshold: intOrPercent }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
    })
    .map(({ name, hub, target, properties, twin, schema, optional }) =>
      twinConfig(
        name,
        {
          hubRef: { name: hub },
          target,
          properties,
          ...(twin ? { twin } : {}),
          ...(schema ? { schema } : {}),
          ...optional,
        },
        { namespace },
      ),
    );
}

export function iotHubArb(namespace: string): fc.Arbitrary<Record<string, any>> {
  return fc
    .record(
      {
        name: dnsSubdomain,
        secret: fc.record(
          { name: dnsSubdomain, key: fc.constantFrom('connectionString', 'cs') },
          { requiredKeys: ['name'] },
        ),
        optional: fc.record(
          {
            caSecretRef: fc.record(
              { name: dnsSubdomain, key: fc.constantFrom('ca.crt', 'ca') },
              { requiredKeys: ['name'] },
            ),
            tier: fc.constantFrom('F1', 'S1', 'S2', 'S3'),
            units: fc.integer({ min: 1, max: 200 }),
            resyncInterval: kubeDuration,
            rateLimits: fc.record(
              {
                twinReadsPerSecond: fc.integer({ min: 1, max: 1000 }),
                twinUpdatesPerSecond: fc.double({ min: 0.5, max: 500, noNaN: true }),
                queriesPerMinute: fc.integer({ min: 1, max: 1000 }),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ['name', 'secret', 'optional'] },
    )
    .chain(({ name, secret, optional }) =>
      fc.option(entraAuthArb, { freq: 2 }).map((entra) => {
        if (!entra) return iotHub(name, { connectionStringSecretRef: secret, ...optional }, { namespace });
        const hub = iotHub(name, { ...entra, ...optional }, { namespace });
        delete hub.spec.connectionStringSecretRef;
        return hub;
      }),
    );
}

/** spec.hostName and spec.auth of a hub reached through Microsoft Entra ID: each kind with its fields (hub-auth-rules.ts). */
const uuid = fc.uuid();
const entraAuthArb: fc.Arbitrary<Record<string, any>> = fc.record({
  hostName: fc.constantFrom('fleet.azure-devices.net', 'hub-1.azure-devices.net', 'localhost:8443'),
  auth: fc.oneof(
    fc.record({ kind: fc.constant('WorkloadIdentity'), tenantId: uuid, clientId: uuid }),
    fc.record({
      kind: fc.constant('ClientSecret'),
      tenantId: uuid,
      clientId: uuid,
      clientSecretRef: fc.record(
        { name: dnsSubdomain, key: fc.constantFrom('clientSecret', 'secret') },
        { requiredKeys: ['name'] },
      ),
    }),
    fc.record({
      kind: fc.constant('ClientCertificate'),
      tenantId: uuid,
      clientId: uuid,
      clientCertificateRef: fc.record(
        {
          name: dnsSubdomain,
          certificateKey: fc.constant('tls.crt'),
          privateKeyKey: fc.constant('tls.key'),
        },
        { requiredKeys: ['name'] },
      ),
    }),
    fc.record({ kind: fc.constant('ManagedIdentity'), clientId: uuid }, { requiredKeys: ['kind'] }),
  ),
});

const WRONG_VALUES: unknown[] = [
  'x',
  '',
  -1,
  0,
  3.5,
  1e9,
  4503599627370496,
  true,
  {},
  [],
  ['x'],
  'P',
  'PT',
  '1h',
  '101%',
  '-5%',
  'a'.repeat(300),
  'Off',
  'high',
  // Another credential kind where spec.auth.kind is mutated: the fields it needs are missing, the ones it refuses there.
  'ClientSecret',
  'ManagedIdentity',
  'ConnectionString',
];

/** Every path to a value inside `spec` (objects walked, arrays by index). */
function specPaths(node: unknown, path: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [path];
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) out.push(...specPaths(v, [...path, i]));
  } else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) out.push(...specPaths(v, [...path, k]));
  return out;
}

function setAt(root: any, path: (string | number)[], value: unknown): void {
  let node = root;
  for (const segment of path.slice(0, -1)) node = node[segment];
  node[path[path.length - 1]] = value;
}

function deleteAt(root: any, path: (string | number)[]): void {
  let node = root;
  for (const segment of path.slice(0, -1)) node = node[segment];
  if (Array.isArray(node)) node.splice(Number(path[path.length - 1]), 1);
  else delete node[path[path.length - 1]];
}

/** A valid document with one thing made wrong. */
export function mutated(valid: fc.Arbitrary<Record<string, any>>): fc.Arbitrary<Record<string, any>> {
  return fc
    .tuple(
      valid,
      fc.nat(),
      fc.constantFrom('replace', 'unknown', 'delete', 'name'),
      fc.constantFrom(...WRONG_VALUES),
      fc.constantFrom('Name', 'a_b', 'a'.repeat(254), 'a\u001bb', 'a b', '-a', 'a.', '', 'a\nb'),
    )
    .map(([document, pick, how, wrong, badName]) => {
      const copy = structuredClone(document);
      const paths = specPaths(copy.spec).filter((p) => p.length > 0);
      const path = ['spec', ...paths[pick % paths.length]];
      switch (how) {
        case 'replace':
          setAt(copy, path, structuredClone(wrong));
          break;
        case 'unknown': {
          const objects = specPaths(copy.spec).filter((p) => {
            let node: any = copy.spec;
            for (const s of p) node = node[s];
            return node && typeof node === 'object' && !Array.isArray(node);
          });
          setAt(copy, ['spec', ...objects[pick % objects.length], 'colour'], 'blue');
          break;
        }
        case 'delete':
          deleteAt(copy, path);
          break;
        case 'name':
          copy.metadata.name = badName;
          break;
      }
      return copy;
    });
}

// --- planner inputs (test/reliability/fuzz-planner.test.ts) ---------------------------------------------------
// Resources as the planner takes them (validated, by field) and the devices of a shared hub, their twins as others
// left them. Values are picked by index from small pools, so that layers overlap and shrinking stays in the pools.

const MINUTE = 60_000;

const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const DURATIONS = ['PT30S', 'PT1M', 'PT5M', 'PT7M', 'PT60M', 'PT1H', 'PT5H', 'PT13H', 'P1D'];

/** Values a resource may give a setting (each valid on its own). */
export function valuesOf(key: string): SettingValue[] {
  const kind = SETTINGS_BY_KEY.get(key)!.kind;
  if (key === 'maxMessageSizeInBytes') return [8192, 65536, 100_000, 204800, 262144];
  if (key === 'maxLocalCacheSizeInBytes') return [8192, 65536, 262144, 2_560_000];
  if (key === 'baselineCustomChecksFileHash') return [SHA, null];
  if (key === 'baselineCustomChecksFilePath') return ['/etc/baseline.xml', null];
  if (key === 'hubResourceId') return ['', '/subscriptions/x/resourceGroups/y'];
  switch (kind) {
    case 'duration':
      return DURATIONS;
    case 'priority':
      return ['High', 'Low', 'Off'];
    case 'boolean':
      return [true, false];
    default:
      return [''];
  }
}

/** Settings most resources name, so that layers overlap; the rest appear now and then. */
const HOT_KEYS = [
  'highPriorityMessageFrequency',
  'lowPriorityMessageFrequency',
  'snapshotFrequency',
  'maxLocalCacheSizeInBytes',
  'maxMessageSizeInBytes',
  'eventPriorityLogin',
  'eventPriorityProcessCreate',
  'aggregationEnabledProcessCreate',
  'baselineCustomChecksFilePath',
];
const ALL_KEYS = SETTINGS.map((s) => s.key);
export const settingKey = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOT_KEYS) },
  fc.constantFrom(...ALL_KEYS),
);
/** A setting and a value for it, the value picked by index (so that shrinking stays within the pool). */
export const settingEntries = (maxKeys: number) =>
  fc.dictionary(settingKey, fc.nat(), { maxKeys }).map(
    (picked) =>
      Object.fromEntries(
        Object.entries(picked).map(([key, n]) => {
          const pool = valuesOf(key);
          return [key, pool[n % pool.length]];
        }),
      ) as AgentSettings,
  );

/** The errors the agent finds in `settings` over its defaults. */
export function agentErrors(settings: AgentSettings): string[] {
  return checkAgentSettings(effectiveSettings(settings))
    .filter((p) => p.severity === 'error')
    .map((p) => p.message);
}

/** Conditions over the tags of fleetDeviceSpec. */
const PLANNER_CONDITIONS = [
  "tags.site = 'a'",
  "tags.site IN ['a', 'b']",
  "tags.env = 'prod' AND NOT (tags.ring = 'canary')",
  "tags.env = 'dev' OR tags.site = 'c'",
  'IS_DEFINED(tags.ring)',
  "STARTSWITH(deviceId, 'd-1')",
  'tags.level >= 2',
  "connectionState = 'Connected'",
  "status = 'enabled'",
];

/**
 * A validated SecurityModuleConfig as the planner takes it, by field; device lists name `d-0`..`d-<maxDevice>`,
 * conditions read the tags of fleetDeviceSpec.
 */
export function plannedResourceSpec(maxDevice: number) {
  return fc.record({
    priority: fc.integer({ min: 0, max: 3 }),
    target: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PLANNER_CONDITIONS).map((condition) => ({ condition })) },
      {
        weight: 1,
        arbitrary: fc
          .uniqueArray(fc.nat({ max: maxDevice }), { minLength: 1, maxLength: 6 })
          .map((ids) => ({ deviceIds: ids.map((i) => `d-${i}`) })),
      },
    ),
    // Validated resources only: what a resource asks is accepted by the agent over the defaults.
    settings: settingEntries(5).filter((s) => agentErrors(s).length === 0),
    suspend: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    createMissingModules: fc.boolean(),
    batchSize: fc.constantFrom<number | string>('100%', '100%', 1, 3, '34%', '50%'),
    failureThreshold: fc.constantFrom<number | string>('10%', '100%', 0, 2),
  });
}

export type PlannedResourceSpec = typeof plannedResourceSpec extends (n: number) => fc.Arbitrary<infer T>
  ? T
  : never;

/** The resource `ns/r<index>` of a spec. */
export function plannedResourceOf(spec: PlannedResourceSpec, index: number): PlannedResource {
  return {
    key: `ns/r${index}`,
    priority: spec.priority,
    target: spec.target,
    kind: 'SecurityModuleConfig',
    slot: SECURITY_MODULE_ID,
    settings: spec.settings,
    convergence: 'Agent',
    suspend: spec.suspend,
    createModule: spec.createMissingModules,
    convergenceTimeoutMs: 15 * MINUTE,
    rollout: { batchSize: spec.batchSize, failureThreshold: spec.failureThreshold },
  };
}

export type AgentBehaviour = 'reports' | 'lowercase' | 'silent';

/**
 * A device of a shared hub and its module twin: tags, online or not, with or without the module, settings others
 * wrote (some in a form the agent rejects), this manager's record (owners by index into a pool the test chooses),
 * another manager's settings, what the agent reported and how it behaves.
 */
export const fleetDeviceSpec = fc.record({
  site: fc.constantFrom('a', 'b', 'c', undefined),
  env: fc.constantFrom('prod', 'dev'),
  ring: fc.constantFrom('canary', undefined, undefined),
  level: fc.integer({ min: 0, max: 3 }),
  disabled: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  online: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
  agent: fc.constantFrom<AgentBehaviour>('reports', 'reports', 'lowercase', 'silent'),
  module: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
  /** Settings someone wrote by hand, with no ownership record. */
  setByOthers: settingEntries(3),
  /** A known setting someone wrote in a form the agent rejects. */
  invalidByOthers: fc.constantFrom('none', 'none', 'none', 'none', 'bare', 'wrongType'),
  /** This manager's record: setting -> owner (by index into the owner pool), with the value it wrote. */
  ours: fc.dictionary(settingKey, fc.tuple(fc.nat(), fc.nat()), { maxKeys: 4 }),
  /** Revisions recorded per owner index: the current one, or a stale one. */
  revisions: fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }),
  /** Settings another manager owns on this twin, with their values. */
  otherManager: settingEntries(2),
  legacyRecord: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  reported: fc.constantFrom('none', 'desired', 'other'),
  writtenAgo: fc.constantFrom(0, 5 * MINUTE, 60 * MINUTE),
});

export type FleetDeviceSpec = typeof fleetDeviceSpec extends fc.Arbitrary<infer T> ? T : never;
