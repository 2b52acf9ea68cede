import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { planReport } from '../../src/emulator/pnp-acknowledgements.js';
import {
  CURRENT_FIRMWARE,
  DEVICE_INFORMATION_MODEL_ID,
  type DeviceFacts,
  LEGACY_FIRMWARE,
  PNP_MODELS,
  TEMPERATURE_CONTROLLER,
  THERMOSTAT,
} from '../../src/emulator/pnp-models.js';
import { emptySection, type JsonObject, mergeSection } from '../../src/emulator/twin-document.js';
import { COMPONENT_MARKER_KEY } from '../../src/protocol/plug-and-play.js';

type Content = Record<string, any>;
type Interface = { '@id': string; '@context': string; '@type': string; contents: Content[] } & Content;

const MODELS_DIR = join(import.meta.dirname, '..', '..', 'examples', 'models');

// DTDL v2: identifiers (the metamodel's SHACL pattern), content names, and the lengths of display texts.
const DTMI =
  /^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*;[1-9][0-9]{0,8}$/;
const NAME = /^[a-zA-Z](?:[a-zA-Z0-9_]*[a-zA-Z0-9])?$/;

const interfaces = new Map<string, { file: string; model: Interface }>(
  readdirSync(MODELS_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const model = JSON.parse(readFileSync(join(MODELS_DIR, file), 'utf8')) as Interface;
      return [model['@id'], { file, model }];
    }),
);

const typesOf = (content: Content): string[] => [content['@type']].flat();
const isA = (content: Content, type: string) => typesOf(content).includes(type);

/** Every property of an interface, components resolved, as `path -> content` (`thermostat1.targetTemperature`). */
function propertiesOf(id: string): Map<string, Content> {
  const properties = new Map<string, Content>();
  for (const content of interfaces.get(id)!.model.contents) {
    if (isA(content, 'Property')) properties.set(content.name, content);
    if (isA(content, 'Component')) {
      for (const [name, inner] of propertiesOf(content.schema))
        properties.set(`${content.name}.${name}`, inner);
    }
  }
  return properties;
}

const facts: DeviceFacts = { firmware: CURRENT_FIRMWARE, unit: () => 0.5 };

describe('the DTDL models in examples/models', () => {
  it('are DTDL v2 interfaces, one a file named as the model repository names them', () => {
    assert.deepEqual(
      [...interfaces.keys()].sort(),
      [DEVICE_INFORMATION_MODEL_ID, ...PNP_MODELS.map((m) => m.modelId)].sort(),
    );
    for (const [id, { file, model }] of interfaces) {
      assert.equal(model['@context'], 'dtmi:dtdl:context;2', file);
      assert.equal(model['@type'], 'Interface', file);
      assert.match(id, DTMI, file);
      const [, name, version] = /:([^:;]+);(\d+)$/.exec(id)!;
      assert.equal(file, `${name.toLowerCase()}-${version}.json`);
      const names = model.contents.map((content) => content.name);
      assert.equal(new Set(names).size, names.length, `${file}: names are unique`);
      for (const content of [model, ...model.contents]) {
        if (content !== model) assert.match(content.name, NAME, `${file}: ${content.name}`);
        assert.ok((content.displayName ?? '').length <= 64, `${file}: displayName of ${content.name}`);
        assert.ok((content.description ?? '').length <= 512, `${file}: description of ${content.name}`);
        if (typesOf(content).length > 1)
          assert.ok(content.unit, `${file}: ${content.name} has a semantic type and a unit`);
      }
    }
  });

  it('resolve every component to a shipped interface that has no components itself', () => {
    for (const { file, model } of interfaces.values()) {
      for (const content of model.contents.filter((c) => isA(c, 'Component'))) {
        const target = interfaces.get(content.schema);
        assert.ok(target, `${file}: ${content.name} -> ${content.schema}`);
        assert.ok(
          !target.model.contents.some((c) => isA(c, 'Component')),
          `${content.schema} nests no component`,
        );
      }
    }
  });

  it("declare as writable exactly the properties the emulator's devices acknowledge", () => {
    for (const model of PNP_MODELS) {
      const writable = [...propertiesOf(model.modelId)]
        .filter(([, p]) => p.writable === true)
        .map(([path]) => path);
      assert.deepEqual(
        writable.sort(),
        model.writable.map((p) => (p.component ? `${p.component}.${p.name}` : p.name)).sort(),
        model.modelId,
      );
      for (const property of model.writable) {
        assert.equal(
          propertiesOf(model.modelId).get(
            property.component ? `${property.component}.${property.name}` : property.name,
          )?.schema,
          'double',
        );
        assert.equal(typeof property.default, 'number');
      }
    }
  });

  it('declare every property the devices report on start as read-only, with the schema of its value', () => {
    for (const model of PNP_MODELS) {
      const properties = propertiesOf(model.modelId);
      const reported: [string, unknown][] = [];
      for (const [key, value] of Object.entries(model.readOnly(facts))) {
        if (typeof value === 'object' && value !== null) {
          for (const [name, inner] of Object.entries(value))
            if (name !== COMPONENT_MARKER_KEY) reported.push([`${key}.${name}`, inner]);
        } else reported.push([key, value]);
      }
      for (const [path, value] of reported) {
        const declared = properties.get(path);
        assert.ok(declared, `${model.modelId}: ${path} is declared`);
        assert.notEqual(declared.writable, true, `${path} is read-only`);
        assert.equal(declared.schema, typeof value === 'string' ? 'string' : 'double', path);
      }
    }
  });
});

describe('what a device reports when it reads its twin', () => {
  const write = (section = emptySection(1), patch: JsonObject = {}) => mergeSection(section, patch, 2);

  it('is its read-only properties and its defaults (ac 203, av 0) when it starts with nothing desired', () => {
    const { patch, received } = planReport(THERMOSTAT, facts, emptySection(1), {});
    assert.deepEqual(patch, {
      maxTempSinceLastReboot: 24,
      targetTemperature: {
        value: 20,
        ac: 203,
        av: 0,
        ad: 'default value, no desired value received yet',
      },
    });
    assert.deepEqual(received, []);
  });

  it('acknowledges only the properties written since it last acknowledged them', () => {
    const first = write(undefined, { thermostat1: { __t: 'c', targetTemperature: 22 } });
    const started = planReport(TEMPERATURE_CONTROLLER, facts, first, {}).patch;
    const reported = started as JsonObject;
    assert.deepEqual((reported.thermostat1 as JsonObject).targetTemperature, {
      value: 22,
      ac: 200,
      av: first.version,
      ad: 'applied',
    });
    assert.equal(Object.keys(planReport(TEMPERATURE_CONTROLLER, facts, first, reported).patch).length, 0);

    const second = write(first, { thermostat2: { targetTemperature: 40 } });
    const next = planReport(TEMPERATURE_CONTROLLER, facts, second, reported);
    assert.deepEqual(next.patch, {
      thermostat2: {
        __t: 'c',
        targetTemperature: {
          value: 20,
          ac: 400,
          av: second.version,
          ad: 'targetTemperature 40 is outside 5..35 °C, the range firmware 2.4.1 accepts',
        },
      },
    });
    assert.deepEqual(next.received, [
      {
        path: 'thermostat2.targetTemperature',
        value: 40,
        version: second.version,
        acknowledgement: next.acknowledgements[0],
      },
    ]);
  });

  it('judges by its firmware: the legacy one refuses what the current one takes', () => {
    const desired = write(undefined, { targetTemperature: 32 });
    const legacy = planReport(THERMOSTAT, { ...facts, firmware: LEGACY_FIRMWARE }, desired, {});
    assert.equal(legacy.acknowledgements[0].ac, 400);
    assert.equal(planReport(THERMOSTAT, facts, desired, {}).acknowledgements[0].ac, 200);
  });
});
