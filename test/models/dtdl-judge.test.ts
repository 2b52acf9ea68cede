import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileTwinSchema,
  isWritableProperty,
  type TwinSchema,
  writableProperties,
} from '../../src/twin-models/index.js';
import { formatFieldPath } from '../../src/validation/issues.js';
import {
  conferenceRoom,
  SCHEMA_CATALOGUE_V3,
  TEMPERATURE_CONTROLLER_EXPANDED,
  THERMOSTAT,
  text,
} from './sample-models.js';

const ORIGIN = {
  at: ['spec', 'schema', 'dtdl', 'configMapKeyRef'],
  where: 'ConfigMap thermostat-model, key model.json',
  componentAt: ['spec', 'twin', 'component'],
};

function compiled(model: unknown, component?: string): TwinSchema {
  const result = compileTwinSchema({ dtdl: text(model), component }, ORIGIN);
  if (!result.ok) assert.fail(`the model does not compile: ${JSON.stringify(result.problems)}`);
  return result.schema;
}

function judged(model: unknown, properties: Record<string, unknown>, component?: string): string[] {
  return compiled(model, component)
    .judge(properties, ['spec', 'properties'])
    .map((p) => `${formatFieldPath(p.path)}${p.atKey ? ' (key)' : ''}: ${p.message}`);
}

describe('judging desired properties by a DTDL model', () => {
  it('lists the writable properties of the thermostat and accepts a target temperature', () => {
    const schema = compiled(THERMOSTAT);
    assert.deepEqual(
      writableProperties(schema.model!).map((p) => [p.name, p.schema]),
      [['targetTemperature', { kind: 'primitive', name: 'double' }]],
    );
    assert.equal(isWritableProperty(schema.model!, 'targetTemperature'), true);
    assert.equal(isWritableProperty(schema.model!, 'maxTempSinceLastReboot'), false);
    assert.equal(
      schema.model!.properties.find((p) => p.name === 'targetTemperature')?.displayName,
      'Target Temperature',
    );
    assert.deepEqual(judged(THERMOSTAT, { targetTemperature: 21.5 }), []);
  });

  it('refuses a read-only property, an undeclared one with a did-you-mean, and a value of the wrong type', () => {
    assert.deepEqual(
      judged(THERMOSTAT, { maxTempSinceLastReboot: 30, targtTemperature: 20, targetTemperature: 'warm' }),
      [
        "spec.properties.maxTempSinceLastReboot (key): 'maxTempSinceLastReboot' is a read-only Property of dtmi:com:example:Thermostat;1: the device reports it, it cannot be set",
        "spec.properties.targtTemperature (key): 'targtTemperature' is not a Property of dtmi:com:example:Thermostat;1; did you mean 'targetTemperature'?",
        "spec.properties.targetTemperature: must be a number (double), not 'warm'",
      ],
    );
    assert.deepEqual(judged(THERMOSTAT, { temperature: 20 }), [
      "spec.properties.temperature (key): 'temperature' is not a Property of dtmi:com:example:Thermostat;1; its writable properties are targetTemperature",
    ]);
  });

  it("judges a component's properties by its interface, and names the component at the twin's root", () => {
    assert.deepEqual(judged(TEMPERATURE_CONTROLLER_EXPANDED, { targetTemperature: 22 }, 'thermostat1'), []);
    const schema = compiled(TEMPERATURE_CONTROLLER_EXPANDED, 'thermostat2');
    assert.equal(schema.model!.appliesInterfaceId, 'dtmi:com:example:Thermostat;1');
    assert.deepEqual(
      judged(TEMPERATURE_CONTROLLER_EXPANDED, { manufacturer: 'Contoso' }, 'deviceInformation'),
      [
        "spec.properties.manufacturer (key): 'manufacturer' is a read-only Property of the component 'deviceInformation' (dtmi:azure:DeviceManagement:DeviceInformation;1): the device reports it, it cannot be set",
      ],
    );
    assert.deepEqual(
      judged(TEMPERATURE_CONTROLLER_EXPANDED, { thermostat1: { targetTemperature: 22 }, serialNumber: 'x' }),
      [
        "spec.properties.thermostat1 (key): 'thermostat1' is a component of dtmi:com:example:TemperatureController;2: a TwinConfig manages one component's properties; name the component in spec.twin.component",
        "spec.properties.serialNumber (key): 'serialNumber' is a read-only Property of dtmi:com:example:TemperatureController;2: the device reports it, it cannot be set",
      ],
    );
    assert.deepEqual(
      judged(TEMPERATURE_CONTROLLER_EXPANDED, { __t: 'c', targetTemperature: 22 }, 'thermostat1'),
      [
        "spec.properties.__t (key): '__t' is the component marker of IoT Plug and Play, which the operator writes itself; leave it out",
      ],
    );
  });

  it('refuses a component the model does not have, at the field that names it', () => {
    const result = compileTwinSchema(
      { dtdl: text(TEMPERATURE_CONTROLLER_EXPANDED), component: 'thermostat3' },
      ORIGIN,
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems, [
      {
        severity: 'error',
        path: ['spec', 'twin', 'component'],
        message:
          "dtmi:com:example:TemperatureController;2 has no component 'thermostat3'; did you mean 'thermostat1'?",
      },
    ]);
  });

  it('takes the properties of the interfaces it extends (the specification example, v2 and v3)', () => {
    for (const version of [2, 3] as const) {
      const schema = compiled(conferenceRoom(version));
      assert.deepEqual(
        schema.model!.properties.map(
          (p) => `${p.name} ${p.writable ? 'writable' : 'read-only'} from ${p.declaredIn}`,
        ),
        [
          'occupied read-only from dtmi:com:example:Room;1',
          'capacity writable from dtmi:com:example:ConferenceRoom;1',
        ],
      );
      assert.deepEqual(judged(conferenceRoom(version), { capacity: 12, occupied: true }), [
        "spec.properties.occupied (key): 'occupied' is a read-only Property of dtmi:com:example:ConferenceRoom;1: the device reports it, it cannot be set",
      ]);
    }
  });

  it('accepts a value of every schema of the specification', () => {
    const good = {
      enabled: true,
      installedOn: '2024-02-29',
      maintenanceAt: '2024-05-31T13:45:00.5+02:00',
      setPointTemp: 21.5,
      reportInterval: 'PT15M',
      gain: 0.5,
      retries: 3,
      counter: 9007199254740991,
      label: 'hall',
      quietFrom: '22:30:00',
      state: 2,
      modules: { moduleA: 'running', moduleB: 'stopped' },
      accelerometer: { x: 12.7, y: 5.5 },
      ledState: [true, true, false],
      location: { type: 'Point', coordinates: [47.643742, -122.128014] },
    };
    assert.deepEqual(judged(SCHEMA_CATALOGUE_V3, good), []);
  });

  it('refuses values out of each schema, at the property, field, key or item', () => {
    const bad = {
      enabled: 'yes',
      installedOn: '2023-02-29',
      maintenanceAt: '2024-05-31T13:45:00',
      reportInterval: 'P',
      gain: 1e39,
      retries: 2 ** 31,
      counter: 1.5,
      quietFrom: '25:00:00',
      state: 3,
      modules: { 'module.A': 'running', moduleB: 7 },
      accelerometer: { x: 1, w: 2, velocity: 3 },
      ledState: [true, 'off'],
      location: { type: 'Point', coordinates: [47.6] },
    };
    assert.deepEqual(judged(SCHEMA_CATALOGUE_V3, bad), [
      "spec.properties.enabled: must be true or false, not 'yes'",
      "spec.properties.installedOn: must be a date such as 2024-05-31, not '2023-02-29'",
      "spec.properties.maintenanceAt: must be a date and time such as 2024-05-31T13:45:00Z, not '2024-05-31T13:45:00'",
      "spec.properties.reportInterval: must be an ISO 8601 duration such as PT15M or P1D, not 'P'",
      'spec.properties.gain: 1e+39 is beyond the range of a float (±3.4028234663852886e+38)',
      'spec.properties.retries: 2147483648 is beyond the range of a 32-bit integer',
      'spec.properties.counter: must be an integer (long), not 1.5',
      "spec.properties.quietFrom: must be a time such as 13:45:00, not '25:00:00'",
      "spec.properties.state: 3 is not one of the Enum's values: 1 (offline), 2 (online)",
      `spec.properties.modules["module.A"] (key): map key: 'module.A' cannot be a twin key: it holds '.', and IoT Hub refuses '.', '$', spaces and control characters in keys`,
      'spec.properties.modules.moduleB: must be a string, not 7',
      "spec.properties.accelerometer.w (key): unknown field 'w'; did you mean 'x'?",
      "spec.properties.accelerometer.velocity (key): unknown field 'velocity'; the Object's fields are x, y, z",
      "spec.properties.ledState[1]: must be true or false, not 'off'",
      'spec.properties.location: must be a GeoJSON Point: {"type": "Point", "coordinates": [longitude, latitude]}',
    ]);
  });

  it('tells the name of an Enum value from the value the twin holds', () => {
    assert.deepEqual(judged(SCHEMA_CATALOGUE_V3, { state: 'online' }), [
      "spec.properties.state: 'online' is the name of the Enum value 2; the twin holds the value: write 2",
    ]);
  });

  it('reads semantic types and undefined co-types with their undefined properties (specification examples)', () => {
    const model = {
      '@context': 'dtmi:dtdl:context;2',
      '@id': 'dtmi:com:example:Thermostat;1',
      '@type': 'Interface',
      contents: [
        {
          '@type': ['Property', 'Commercial'],
          name: 'setPointTemp',
          writable: true,
          schema: 'double',
          brand: 'Honeywell',
        },
      ],
    };
    assert.deepEqual(judged(model, { setPointTemp: 19 }), []);
    assert.deepEqual(judged(model, { setPointTemp: null }), [
      'spec.properties.setPointTemp: must be a number (double), not null',
    ]);
  });
});
