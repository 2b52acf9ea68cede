import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HubErrorResponse } from '../../src/emulator/errors.js';
import {
  checkSectionSize,
  checkSectionUpdate,
  emptySection,
  etagMatches,
  type JsonObject,
  type JsonValue,
  mergeSection,
  type PropertySection,
  renderSection,
  replaceSection,
  restoreMeta,
  storeMeta,
  twinEtag,
  twinValueSize,
} from '../../src/emulator/twin-document.js';
import { newTwinState, patchTwin, replaceTwin, reportProperties } from '../../src/emulator/twin-state.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');

function section(value: JsonObject, at = T0): PropertySection {
  return mergeSection(emptySection(at - 1000), value, at);
}

describe('twin sections', () => {
  it('merges nested objects and deletes keys set to null', () => {
    const start = section({ a: { x: 1, y: 2 }, b: 'keep', c: true });
    const merged = mergeSection(start, { a: { y: null, z: 3 }, c: null, d: 'new' }, T0 + 1);
    assert.deepEqual(merged.value, { a: { x: 1, z: 3 }, b: 'keep', d: 'new' });
  });

  it('drops nulls inside an object that did not exist before', () => {
    const merged = mergeSection(emptySection(T0), { fresh: { kept: 1, gone: null } }, T0);
    assert.deepEqual(merged.value, { fresh: { kept: 1 } });
  });

  it('replaces a value with an object and an object with a value', () => {
    const start = section({ a: 1, b: { x: 1 } });
    const merged = mergeSection(start, { a: { now: 'object' }, b: 'now a value' }, T0 + 1);
    assert.deepEqual(merged.value, { a: { now: 'object' }, b: 'now a value' });
  });

  it('never changes the section it merges into', () => {
    const start = section({ a: { x: 1 } });
    const before = JSON.stringify(start.value);
    mergeSection(start, { a: { x: 2, y: 3 } }, T0 + 1);
    assert.equal(JSON.stringify(start.value), before);
  });

  it('raises $version by one on every merge and replace', () => {
    let current = emptySection(T0);
    assert.equal(current.version, 1);
    current = mergeSection(current, { a: 1 }, T0 + 1);
    current = mergeSection(current, { a: 1 }, T0 + 2);
    assert.equal(current.version, 3);
    current = replaceSection(current, {}, T0 + 3);
    assert.equal(current.version, 4);
    assert.deepEqual(current.value, {});
  });

  it('renders $metadata with $lastUpdated at every level and keeps older stamps of untouched keys', () => {
    const first = section({ config: { a: { value: 1 }, b: { value: 2 } } }, T0);
    const second = mergeSection(first, { config: { b: { value: 3 } } }, T0 + 60_000);
    const rendered = renderSection(second, 'desired') as Record<string, any>;
    const meta = rendered.$metadata;
    assert.equal(rendered.$version, 3);
    assert.equal(meta.$lastUpdated, '2024-05-01T10:01:00.0000000Z');
    assert.equal(meta.$lastUpdatedVersion, 3);
    assert.equal(meta.config.$lastUpdated, '2024-05-01T10:01:00.0000000Z');
    assert.equal(meta.config.a.$lastUpdated, '2024-05-01T10:00:00.0000000Z');
    assert.equal(meta.config.a.value.$lastUpdated, '2024-05-01T10:00:00.0000000Z');
    assert.equal(meta.config.a.value.$lastUpdatedVersion, 2);
    assert.equal(meta.config.b.value.$lastUpdated, '2024-05-01T10:01:00.0000000Z');
    assert.equal(meta.config.b.value.$lastUpdatedVersion, 3);
  });

  it('leaves $lastUpdatedVersion out of reported metadata', () => {
    const rendered = renderSection(section({ a: 1 }), 'reported') as Record<string, any>;
    assert.equal(rendered.$metadata.$lastUpdatedVersion, undefined);
    assert.equal(rendered.$metadata.a.$lastUpdatedVersion, undefined);
    assert.equal(typeof rendered.$metadata.a.$lastUpdated, 'string');
  });

  it('keeps metadata through a save and restore', () => {
    const first = section({ config: { a: { value: 1 }, b: { value: 2 } } }, T0);
    const second = mergeSection(first, { config: { b: { value: 3 } } }, T0 + 5);
    const restored = { ...second, meta: restoreMeta(JSON.parse(JSON.stringify(storeMeta(second.meta)))) };
    assert.deepEqual(renderSection(restored, 'desired'), renderSection(second, 'desired'));
  });

  it('merges as a plain deep merge does, for any patches', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd');
    const leaf = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 5 }), fc.boolean());
    const patch: fc.Arbitrary<JsonObject> = fc.letrec((tie) => ({
      node: fc.dictionary(key, fc.oneof(leaf, fc.constant(null), tie('node')), { maxKeys: 4 }),
    })).node as fc.Arbitrary<JsonObject>;
    const reference = (target: JsonObject, change: JsonObject): JsonObject => {
      const out: JsonObject = { ...target };
      for (const [k, v] of Object.entries(change)) {
        if (v === null) delete out[k];
        else if (typeof v === 'object' && !Array.isArray(v)) {
          const current = out[k];
          out[k] = reference(
            typeof current === 'object' && current !== null && !Array.isArray(current) ? current : {},
            v,
          );
        } else out[k] = v;
      }
      return out;
    };
    fc.assert(
      fc.property(fc.array(patch, { minLength: 1, maxLength: 5 }), (patches) => {
        let current = emptySection(T0);
        let expected: JsonObject = {};
        patches.forEach((p, i) => {
          const previousVersion = current.version;
          current = mergeSection(current, p, T0 + i);
          expected = reference(expected, p);
          assert.equal(current.version, previousVersion + 1);
        });
        assert.deepEqual(current.value, expected);
        const rendered = renderSection(current, 'desired') as Record<string, JsonValue>;
        assert.deepEqual(
          Object.keys(rendered.$metadata as object)
            .filter((k) => !k.startsWith('$'))
            .sort(),
          Object.keys(expected).sort(),
        );
      }),
    );
  });
});

describe('twin limits', () => {
  const codeOf = (error: HubErrorResponse | undefined) => error && `${error.status} ${error.code}`;

  it('accepts keys with letters, digits, dashes, colons and underscores', () => {
    assert.equal(
      checkSectionUpdate('desired', { 'ms_iotn:urn_azureiot_Security-1': { value: 1 } }),
      undefined,
    );
  });

  for (const bad of [
    'a.b',
    '$version',
    'with space',
    'tab\there',
    'nul\u0000',
    'del\u007f',
    'c1\u0085next-line',
    'c1\u009fend',
  ]) {
    it(`rejects the key ${JSON.stringify(bad)} with ArgumentInvalid`, () => {
      assert.equal(codeOf(checkSectionUpdate('tags', { [bad]: 1 })), '400 ArgumentInvalid');
    });
  }

  for (const good of ['no\u00a0break', 'line\u2028separator', 'ideographic\u3000space', 'emoji😀']) {
    it(`accepts the key ${JSON.stringify(good)}: only C0 and C1 controls, '.', '$' and SP are refused`, () => {
      assert.equal(checkSectionUpdate('tags', { [good]: 1 }), undefined);
    });
  }

  it('rejects a key longer than 1 KB', () => {
    assert.equal(codeOf(checkSectionUpdate('desired', { ['k'.repeat(1025)]: 1 })), '400 ArgumentInvalid');
  });

  it('accepts objects nested 10 deep and rejects 11', () => {
    const nest = (depth: number): JsonObject => (depth === 0 ? { leaf: 1 } : { n: nest(depth - 1) });
    assert.equal(checkSectionUpdate('desired', nest(10)), undefined);
    const error = checkSectionUpdate('desired', nest(11));
    assert.equal(codeOf(error), '400 ArgumentInvalid');
    assert.match(error!.message, /depth/);
  });

  it('counts arrays in the depth as objects: 10 nested arrays pass, 11 and 5,000 are refused', () => {
    const arrays = (depth: number): JsonValue => (depth === 0 ? 1 : [arrays(depth - 1)]);
    assert.equal(checkSectionUpdate('desired', { a: arrays(10) }), undefined);
    for (const depth of [11, 5000]) {
      const error = checkSectionUpdate('desired', { a: arrays(depth) });
      assert.equal(codeOf(error), '400 ArgumentInvalid', `${depth}`);
      assert.match(error!.message, /Nested depth of twin property exceeds 10/);
    }
    // Objects and arrays alternating count alike.
    const mixed = (depth: number): JsonValue =>
      depth === 0 ? 'leaf' : depth % 2 ? [mixed(depth - 1)] : { k: mixed(depth - 1) };
    assert.equal(checkSectionUpdate('tags', { a: mixed(10) }), undefined);
    assert.equal(codeOf(checkSectionUpdate('tags', { a: mixed(11) })), '400 ArgumentInvalid');
  });

  it('rejects a string value over 4 KB', () => {
    assert.equal(checkSectionUpdate('reported', { big: 'x'.repeat(4096) }), undefined);
    const error = checkSectionUpdate('reported', { big: 'x'.repeat(4097) });
    assert.equal(codeOf(error), '400 ArgumentInvalid');
    assert.match(error!.message, /maximum 4096 bytes/);
  });

  it('measures the 4 KB of a string value in UTF-8 bytes, control characters not counted', () => {
    assert.equal(checkSectionUpdate('desired', { s: 'é'.repeat(2048) }), undefined);
    assert.equal(codeOf(checkSectionUpdate('desired', { s: 'é'.repeat(2049) })), '400 ArgumentInvalid');
    assert.equal(checkSectionUpdate('desired', { s: `${'x'.repeat(4096)}\n\t\u0085` }), undefined);
  });

  it('rejects integers outside the hub range', () => {
    assert.equal(checkSectionUpdate('desired', { n: 4503599627370495 }), undefined);
    assert.equal(checkSectionUpdate('desired', { n: -4503599627370496 }), undefined);
    assert.equal(codeOf(checkSectionUpdate('desired', { n: 4503599627370496 * 2 })), '400 ArgumentInvalid');
  });

  it('rejects null inside arrays', () => {
    assert.equal(codeOf(checkSectionUpdate('desired', { list: [1, null] })), '400 ArgumentInvalid');
  });

  it('limits tags to 8 KB and desired properties to 32 KB with DeviceModelMaxPropertiesExceeded', () => {
    const filler = (bytes: number): JsonObject =>
      Object.fromEntries(
        Array.from({ length: Math.ceil(bytes / 1000) }, (_, i) => [`k${i}`, 'x'.repeat(990)]),
      );
    assert.equal(checkSectionSize('tags', filler(7000)), undefined);
    const tags = checkSectionSize('tags', filler(9000));
    assert.equal(codeOf(tags), '403 DeviceModelMaxPropertiesExceeded');
    assert.match(tags!.message, /'Tags' size should be less than 8192 bytes/);
    assert.equal(checkSectionSize('desired', filler(30_000)), undefined);
    assert.equal(codeOf(checkSectionSize('desired', filler(34_000))), '403 DeviceModelMaxPropertiesExceeded');
  });

  it('counts sizes as the hub does: key bytes, string bytes, 8 per number, 4 per boolean, objects summed', () => {
    assert.equal(
      twinValueSize({ a: 'xyz', b: 1, c: true, d: { e: 'é', f: 2.5 } }),
      1 + 3 + 1 + 8 + 1 + 4 + 1 + (1 + 2 + 1 + 8),
    );
    assert.equal(twinValueSize({ clé: 'a\u0000b\u0085c' }), 4 + 3);
    assert.equal(twinValueSize({ list: [1, 'ab', { k: false }] }), 4 + 8 + 2 + 1 + 4);
    assert.equal(twinValueSize({}), 0);
  });

  it('accepts 2,600 booleans in desired properties: 23,400 bytes as the hub counts, though 33,800 of JSON', () => {
    const desired = Object.fromEntries(
      Array.from({ length: 2600 }, (_, i) => [`k${String(i).padStart(4, '0')}`, true]),
    );
    assert.ok(Buffer.byteLength(JSON.stringify(desired)) > 32 * 1024);
    assert.equal(twinValueSize(desired), 2600 * (5 + 4));
    const next = patchTwin(newTwinState({ at: T0 }), { properties: { desired } }, T0);
    assert.ok(!(next instanceof HubErrorResponse), next instanceof HubErrorResponse ? next.message : '');
    assert.equal(Object.keys(next.desired.value).length, 2600);
  });

  it('refuses 800 small integers in tags: 9,600 bytes as the hub counts, though 7,200 of JSON', () => {
    const tags = Object.fromEntries(
      Array.from({ length: 800 }, (_, i) => [`t${String(i).padStart(3, '0')}`, 1]),
    );
    assert.ok(Buffer.byteLength(JSON.stringify(tags)) < 8 * 1024);
    assert.equal(twinValueSize(tags), 800 * (4 + 8));
    const next = patchTwin(newTwinState({ at: T0 }), { tags }, T0);
    assert.ok(next instanceof HubErrorResponse);
    assert.equal(codeOf(next), '403 DeviceModelMaxPropertiesExceeded');
    assert.match(next.message, /'Tags' size should be less than 8192 bytes/);
  });

  it('counts a reported section the same way', () => {
    const reported = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`r${String(i).padStart(4, '0')}`, 7]),
    );
    assert.ok(Buffer.byteLength(JSON.stringify(reported)) < 32 * 1024);
    const next = reportProperties(newTwinState({ at: T0 }), reported, T0);
    assert.ok(next instanceof HubErrorResponse);
    assert.equal(codeOf(next), '403 DeviceModelMaxPropertiesExceeded');
  });

  it('refuses a patch that would take desired properties over 32 KB, counting what is already there', () => {
    let state = newTwinState({ at: T0 });
    for (let i = 0; i < 7; i++) {
      const next = patchTwin(state, { properties: { desired: { [`part${i}`]: 'x'.repeat(4000) } } }, T0);
      assert.ok(!(next instanceof HubErrorResponse));
      state = next;
    }
    const tooMuch = patchTwin(
      state,
      { properties: { desired: { more: 'y'.repeat(4000), evenMore: 'z'.repeat(4000) } } },
      T0,
    );
    assert.ok(tooMuch instanceof HubErrorResponse);
    assert.equal(tooMuch.code, 'DeviceModelMaxPropertiesExceeded');
  });
});

describe('twins', () => {
  it('derives the etag from the twin version, as the hub spells it', () => {
    assert.equal(twinEtag(1), 'AAAAAAAAAAE=');
    assert.equal(twinEtag(258), 'AAAAAAAAAQI=');
  });

  it('matches If-Match quoted, unquoted and as a wildcard', () => {
    assert.ok(etagMatches('"AAAAAAAAAAE="', 'AAAAAAAAAAE='));
    assert.ok(etagMatches('AAAAAAAAAAE=', 'AAAAAAAAAAE='));
    assert.ok(etagMatches('*', 'AAAAAAAAAAE='));
    assert.ok(etagMatches('"*"', 'AAAAAAAAAAE='));
    assert.ok(!etagMatches('"AAAAAAAAAAI="', 'AAAAAAAAAAE='));
  });

  it('raises the twin version for tags, desired and reported changes', () => {
    const created = newTwinState({ at: T0 });
    const tagged = patchTwin(created, { tags: { site: 'ams' } }, T0) as ReturnType<typeof newTwinState>;
    const desired = patchTwin(tagged, { properties: { desired: { a: 1 } } }, T0) as ReturnType<
      typeof newTwinState
    >;
    const reported = reportProperties(desired, { a: 1 }, T0) as ReturnType<typeof newTwinState>;
    assert.deepEqual([created.version, tagged.version, desired.version, reported.version], [1, 2, 3, 4]);
    assert.equal(desired.desired.version, 2);
    assert.equal(reported.reported.version, 2);
    assert.equal(reported.lastActivityAt, T0);
  });

  it('replaces tags and desired properties on PUT and keeps reported properties', () => {
    let state = newTwinState({ at: T0 });
    state = patchTwin(
      state,
      { tags: { a: 1, b: 2 }, properties: { desired: { x: 1, y: 2 } } },
      T0,
    ) as typeof state;
    state = reportProperties(state, { r: 1 }, T0) as typeof state;
    const replaced = replaceTwin(
      state,
      { tags: { c: 3 }, properties: { desired: { z: 3 }, reported: { ignored: true } } },
      T0 + 1,
    );
    assert.ok(!(replaced instanceof HubErrorResponse));
    assert.deepEqual(replaced.tags, { c: 3 });
    assert.deepEqual(replaced.desired.value, { z: 3 });
    assert.deepEqual(replaced.reported.value, { r: 1 });
    assert.equal(replaced.desired.version, state.desired.version + 1);
  });

  it('ignores $metadata and $version a client echoes back in desired properties', () => {
    const state = newTwinState({ at: T0 });
    const patched = patchTwin(state, { properties: { desired: { a: 1, $version: 7, $metadata: {} } } }, T0);
    assert.ok(!(patched instanceof HubErrorResponse));
    assert.deepEqual(patched.desired.value, { a: 1 });
  });
});
