// fast-check generators of IoTHub and SecurityModuleConfig documents from the API's schema: valid ones, and
// valid ones with one mutation (a wrong type, an out-of-range number, an unknown field, a bad enum, a missing
// required field, a bad name).
import fc from 'fast-check';
import { AGGREGATED_EVENTS, EVENT_NAMES, EVENT_PRIORITIES } from '../../src/agent/settings.js';

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
const deviceId = fc.stringMatching(/^[A-Za-z0-9\-._]{1,20}$/);
const CONDITIONS = [
  "tags.site = 'ams-dc1'",
  "tags.environment IN ['production', 'staging']",
  "tags.site = 'a' AND NOT (tags.ring = 'canary')",
  "STARTSWITH(deviceId, 'gw-')",
  'IS_DEFINED(tags.site)',
  "connectionState = 'Connected'",
];

const agentConfiguration = fc.record(
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
);

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
              { batchSize: intOrPercent, failureThreshold: intOrPercent },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        agentConfiguration,
      },
      { requiredKeys: ['name', 'hub', 'target', 'optional', 'agentConfiguration'] },
    )
    .map(({ name, hub, target, optional, agentConfiguration }) => ({
      apiVersion: 'iotsecurity.io/v1alpha1',
      kind: 'SecurityModuleConfig',
      metadata: { name, namespace },
      spec: { hubRef: { name: hub }, target, agentConfiguration, ...optional },
    }));
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
    .map(({ name, secret, optional }) => ({
      apiVersion: 'iotsecurity.io/v1alpha1',
      kind: 'IoTHub',
      metadata: { name, namespace },
      spec: { connectionStringSecretRef: secret, ...optional },
    }));
}

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
