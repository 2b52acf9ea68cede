// A TwinConfig judged as `validate` and `sync` judge it: its properties as IoT Hub takes them, by its schema or
// model (from a ConfigMap of the same files), each problem at a line and column of the files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TwinConfig } from '../../src/api/generated/types.js';
import {
  type ManagedTwin,
  OWNERSHIP_TAG,
  planHubReconcile,
  toPlannedResource,
} from '../../src/planner/index.js';
import { twinValueSize } from '../../src/twins/twin-limits.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';
import { formatFieldPath } from '../../src/validation/issues.js';
import { ownershipEntriesSize } from '../../src/validation/ownership-record-size.js';
import { validateFiles } from '../../src/validation/validate-files.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { REPO } from '../support/kube.js';
import { twinConfig, validTwinConfig, writeTempFiles } from '../support/resources.js';

const THERMOSTAT_MODEL = readFileSync(join(REPO, 'examples', 'models', 'thermostat-1.json'), 'utf8');

/** `FILE:LINE:COLUMN SEVERITY FIELD: MESSAGE` for the problems of some files, by file name. */
function problemsIn(files: Record<string, string>, options = {}): string[] {
  const dir = writeTempFiles(files);
  return validateFiles([dir], [], options).problems.map(
    (p) => `${p.file.slice(dir.length + 1)}:${p.line}:${p.column} ${p.severity} ${p.field}: ${p.message}`,
  );
}

/** The YAML of a TwinConfig in namespace iot, `spec` written below `spec:`. */
function twinConfigYaml(spec: string, name = 'thermostats'): string {
  return `apiVersion: iotsecurity.io/v1alpha1
kind: TwinConfig
metadata:
  name: ${name}
  namespace: iot
spec:
  hubRef: { name: hub }
  target:
    condition: modelId = 'dtmi:com:example:Thermostat;1'
${spec}`;
}

/** A ConfigMap in namespace iot whose key `model.json` holds `text` as a literal block. */
function modelConfigMap(text: string, name = 'models'): string {
  const indented = text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: iot
data:
  model.json: |
${indented}
`;
}

const byModel = `  properties:
    targetTemperature: 21.5
  schema:
    configMapKeyRef: { name: models, key: model.json }
    format: DTDL
`;

const errors = (document: Record<string, unknown>) =>
  validateResource(document).issues.filter((i) => i.severity === 'error');

describe('TwinConfig properties as IoT Hub takes them', () => {
  it('refuses keys the hub refuses, nulls anywhere, and the component marker, each at its place', () => {
    const problems = problemsIn({
      'tc.yaml': twinConfigYaml(`  properties:
    target.temperature: 21
    schedule:
      weekdays: [7, null]
    mode: null
    __t: c
`),
    });
    assert.deepEqual(problems, [
      "tc.yaml:11:5 error spec.properties[\"target.temperature\"]: 'target.temperature' cannot be a twin key: it holds '.', and IoT Hub refuses '.', '$', spaces and control characters in keys",
      'tc.yaml:13:21 error spec.properties.schedule.weekdays[1]: null cannot be written: in a twin patch a null deletes the property (leave it out instead; what this resource stops setting is removed)',
      'tc.yaml:14:11 error spec.properties.mode: null cannot be written: in a twin patch a null deletes the property (leave it out instead; what this resource stops setting is removed)',
      "tc.yaml:15:5 error spec.properties.__t: '__t' is the IoT Plug and Play marker of a component, written by the operator: set twin.component to write a component's properties",
    ]);
  });

  it('refuses a whole component written as one property, which a device never acknowledges', () => {
    const problems = problemsIn({
      'tc.yaml': twinConfigYaml(`  properties:
    thermostat1:
      __t: c
      targetTemperature: 21
`),
    });
    assert.deepEqual(problems, [
      "tc.yaml:12:7 error spec.properties.thermostat1.__t: 'thermostat1' is written as a whole IoT Plug and Play component, which a device never acknowledges as one (it answers each of its properties): set twin.component: thermostat1 and list the component's properties",
    ]);
  });

  it('refuses long strings, integers the hub cannot keep, nesting past 10 levels and more than 32 KB', () => {
    const nested = (levels: number): unknown => (levels === 0 ? 1 : { x: nested(levels - 1) });
    const messages = (properties: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
      errors(validTwinConfig({ properties, schema: undefined, ...spec })).map((i) => i.message);
    assert.match(
      messages({ note: 'é'.repeat(2100) }).join(),
      /a string of 4\.1 KiB: IoT Hub takes strings of at most 4 KiB/,
    );
    assert.match(messages({ big: 4503599627370496 }).join(), /outside the integers IoT Hub keeps/);
    assert.deepEqual(messages({ deep: nested(10) }), [], 'ten objects, as the hub documents it');
    assert.match(messages({ deep: nested(11) }).join(), /nests deeper than the 10 levels/);
    assert.match(
      messages({ deep: nested(10) }, { twin: { component: 'thermostat1' } }).join(),
      /nests deeper than the 10 levels/,
      'a component is one level',
    );
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, 'x'.repeat(4000)]));
    assert.match(messages(many).join(), /the properties are 39\.1 KiB as IoT Hub counts a twin's size/);
  });

  it("refuses properties whose entries in the twins' ownership record would not fit in the tags, at spec.properties", () => {
    // 160 properties of 22-character names: sync was refused `'Tags' size should be less than 8192 bytes`.
    const properties = (count: number) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, i) => [`setting_${String(i).padStart(14, '0')}`, i]),
      );
    const many = validTwinConfig({ properties: properties(160), schema: undefined });
    const refused = errors(many);
    assert.deepEqual(
      refused.map((i) => [
        formatFieldPath(i.path),
        i.message.replace(/ [0-9.]+ KiB of each/, ' N KiB of each'),
      ]),
      [
        [
          'spec.properties',
          "its 160 properties take N KiB of each twin's tags in the ownership record (tags.iotSecurityOperator: an entry per property naming the resource, and its revision); a TwinConfig may take at most 4 KiB of the 8 KiB IoT Hub keeps for a twin's tags, which users' tags and other resources' entries share: set fewer top-level properties (an object property is one entry, written whole), or give the resource a shorter name",
        ],
      ],
    );
    assert.ok(ownershipEntriesSize(many as unknown as TwinConfig) > 7000, 'near the 8 KiB of the tags alone');
    // The same values as one object property are one entry.
    assert.deepEqual(
      errors(validTwinConfig({ properties: { settings: properties(160) }, schema: undefined })),
      [],
    );
    assert.deepEqual(errors(validTwinConfig({ properties: properties(60), schema: undefined })), []);
    // `validate` places it at the properties' line.
    const yaml = twinConfigYaml(
      `  properties:\n${Object.keys(properties(160))
        .map((k, i) => `    ${k}: ${i}`)
        .join('\n')}\n`,
    );
    assert.match(
      problemsIn({ 'tc.yaml': yaml }).join('\n'),
      /^tc\.yaml:10:3 error spec\.properties: its 160 properties take/,
    );
  });

  it("estimates the ownership record's entries as the planner writes them to a twin", () => {
    const properties = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`property-${i}`, i]));
    for (const spec of [{}, { twin: { moduleId: 'thermostat', component: 'thermostat1' } }]) {
      const validation = validateResource(
        twinConfig(
          'name.with.dots',
          { ...spec, target: { deviceIds: ['d1'] }, properties },
          { namespace: 'iot' },
        ),
      );
      assert.deepEqual(validation.issues, []);
      const config = validation.resource as TwinConfig;
      const resource = toPlannedResource(config);
      const twin: ManagedTwin = {
        deviceId: 'd1',
        ...(resource.slot === DEVICE_TWIN ? {} : { moduleId: resource.slot }),
        etag: 'e1',
        tags: {},
        desired: {},
        desiredWritten: {},
        reported: {},
        desiredVersion: 1,
        current: true,
      };
      const plan = planHubReconcile({
        snapshot: {
          devices: [{ deviceId: 'd1', tags: {}, status: 'enabled', connectionState: 'Connected' }],
          twins: new Map([[resource.slot, new Map([['d1', twin]])]]),
        },
        resources: [resource],
        now: 0,
        unknownOwners: 'keep',
        manager: 'iot-security-operator',
      });
      const tags = plan.writes[0].patch.tags as Record<
        string,
        Record<string, Record<string, Record<string, unknown>>>
      >;
      const record = tags[OWNERSHIP_TAG]['iot-security-operator'];
      assert.equal(Object.keys(record.owners).length, 60);
      assert.equal(
        ownershipEntriesSize(config),
        twinValueSize(record.owners) + twinValueSize(record.revisions),
      );
    }
  });

  it('warns of a TwinConfig that names no property', () => {
    const issues = validateResource(validTwinConfig({ properties: {} })).issues;
    assert.deepEqual(
      issues.map((i) => [i.severity, i.message]),
      [['warning', 'names no property: this resource manages nothing on its devices']],
    );
  });
});

describe('TwinConfig properties judged by their schema', () => {
  it('refuses a value an inline JSON Schema refuses, at the value', () => {
    const problems = problemsIn({
      'tc.yaml': twinConfigYaml(`  properties:
    targetTemperature: 40
  schema:
    jsonSchema:
      type: object
      properties:
        targetTemperature: { type: number, maximum: 35 }
`),
    });
    assert.deepEqual(problems, [
      'tc.yaml:11:24 error spec.properties.targetTemperature: 40 is above the maximum 35',
    ]);
  });

  it('refuses an inline schema that does not compile, inside it', () => {
    const problems = problemsIn({
      'tc.yaml': twinConfigYaml(`  properties:
    targetTemperature: 20
  schema:
    jsonSchema:
      type: object
      properties:
        targetTemperature: { type: number, maximun: 35 }
`),
    });
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /^tc\.yaml:16:53 error spec\.schema\.jsonSchema\.properties\.targetTemperature\.maximun: unknown keyword 'maximun'; did you mean 'maximum'\?/,
    );
  });

  it("refuses a property the device's model does not declare, with a did-you-mean, reading the model from a ConfigMap of the files", () => {
    const problems = problemsIn({
      'models.yaml': modelConfigMap(THERMOSTAT_MODEL),
      'tc.yaml': twinConfigYaml(byModel.replace('targetTemperature: 21.5', 'targetTemperatur: 21.5')),
    });
    assert.deepEqual(problems, [
      "tc.yaml:11:5 error spec.properties.targetTemperatur: 'targetTemperatur' is not a Property of dtmi:com:example:Thermostat;1; did you mean 'targetTemperature'?",
    ]);
    assert.deepEqual(
      problemsIn({ 'models.yaml': modelConfigMap(THERMOSTAT_MODEL), 'tc.yaml': twinConfigYaml(byModel) }),
      [],
    );
  });

  it('shows a model that fails to parse at its own line in the ConfigMap', () => {
    const broken = THERMOSTAT_MODEL.replace(
      '"schema": "double",\n      "unit": "degreeCelsius",\n      "writable": true',
      '"schema": "doubel",\n      "unit": "degreeCelsius",\n      "writable": true',
    );
    assert.notEqual(broken, THERMOSTAT_MODEL);
    const line = broken.split('\n').findIndex((l) => l.includes('"doubel"')) + 1;
    const column = broken.split('\n')[line - 1].indexOf('"doubel"') + 1;
    const problems = problemsIn({
      'models.yaml': modelConfigMap(broken),
      'tc.yaml': twinConfigYaml(byModel),
    });
    assert.deepEqual(problems, [
      // The ConfigMap's text starts on line 8 of its file, indented by 4.
      `models.yaml:${line + 7}:${column + 4} error spec.schema.configMapKeyRef: ConfigMap models, key model.json, line ${line}, column ${column} (contents[1].schema): 'doubel' is not a DTDL schema; did you mean 'double'?`,
    ]);
  });

  it('refuses a ConfigMap that is not among the files, or lacks the key, unless told to pass over a missing one', () => {
    assert.deepEqual(problemsIn({ 'tc.yaml': twinConfigYaml(byModel) }), [
      'tc.yaml:13:30 error spec.schema.configMapKeyRef.name: ConfigMap models is not among the files; its properties cannot be judged',
    ]);
    assert.deepEqual(problemsIn({ 'tc.yaml': twinConfigYaml(byModel) }, { missingConfigMaps: 'warning' }), [
      'tc.yaml:13:30 warning spec.schema.configMapKeyRef.name: ConfigMap models is not among the files; its properties cannot be judged',
    ]);
    assert.deepEqual(
      problemsIn({
        'models.yaml': modelConfigMap(THERMOSTAT_MODEL),
        'tc.yaml': twinConfigYaml(byModel.replace('key: model.json', 'key: model.jsn')),
      }),
      [
        "tc.yaml:13:43 error spec.schema.configMapKeyRef.key: ConfigMap models has no key 'model.jsn'; did you mean 'model.json'?",
      ],
    );
  });

  it('takes a plain lookup, and marks a ConfigMap it lacks for a controller to wait for', () => {
    const document = validTwinConfig({
      schema: { configMapKeyRef: { name: 'models', key: 'model.json' }, format: 'DTDL' },
    });
    assert.deepEqual(validateResource(document, () => ({ 'model.json': THERMOSTAT_MODEL })).issues, []);
    const [missing] = validateResource(document, () => undefined).issues;
    assert.deepEqual(missing.missingConfigMap, { namespace: 'iot', name: 'models' });
    assert.equal(
      missing.message,
      'ConfigMap models is not in namespace iot; its properties cannot be judged',
    );
  });

  it('reads a ConfigMap of the TwinConfig namespace only (default for a document without one)', () => {
    const elsewhere = modelConfigMap(THERMOSTAT_MODEL).replace('namespace: iot', 'namespace: other');
    assert.equal(
      problemsIn({ 'models.yaml': elsewhere, 'tc.yaml': twinConfigYaml(byModel) }).length,
      1,
      'a ConfigMap of another namespace is not it',
    );
    const inDefault = modelConfigMap(THERMOSTAT_MODEL).replace('  namespace: iot\n', '');
    assert.deepEqual(
      problemsIn({
        'models.yaml': inDefault,
        'tc.yaml': twinConfigYaml(byModel).replace('  namespace: iot\n', ''),
      }),
      [],
    );
  });

  it('refuses a ConfigMap a TwinConfig names that is defined twice', () => {
    const problems = problemsIn({
      'a.yaml': modelConfigMap(THERMOSTAT_MODEL),
      'b.yaml': modelConfigMap(THERMOSTAT_MODEL),
      'tc.yaml': twinConfigYaml(byModel),
    });
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /^b\.yaml:4:9 error metadata\.name: iot\/models is also defined in .*a\.yaml:4; each resource may appear once$/,
    );
    assert.deepEqual(
      problemsIn({
        'a.yaml': modelConfigMap(THERMOSTAT_MODEL, 'x'),
        'b.yaml': modelConfigMap(THERMOSTAT_MODEL, 'x'),
      }),
      [],
      'ConfigMaps no TwinConfig names are not ours to judge',
    );
  });
});
