// Which hub a sync run writes: the hubs the files name, --hub, and the resources left out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IoTHub, SecurityModuleConfig, TwinConfig } from '../../src/api/generated/types.js';
import { syncSizing } from '../../src/hub/client-options.js';
import { HubSelectionError, selectHub } from '../../src/sync/hub-selection.js';
import { iotHub, securityModuleConfig, twinConfig } from '../support/resources.js';

function config(name: string, hub: string, namespace?: string): SecurityModuleConfig {
  return securityModuleConfig(
    name,
    {
      hubRef: { name: hub },
      target: { condition: "tags.site = 'x'" },
      agentConfiguration: { snapshotFrequency: 'PT2H' },
    },
    { namespace },
  ) as SecurityModuleConfig;
}

function hub(name: string, namespace?: string, spec: Record<string, unknown> = {}): IoTHub {
  return iotHub(name, spec, { namespace }) as IoTHub;
}

function thermostats(name: string, hub: string, namespace?: string): TwinConfig {
  return twinConfig(
    name,
    { hubRef: { name: hub }, target: { deviceIds: ['t-1'] }, properties: { targetTemperature: 20 } },
    { namespace },
  ) as TwinConfig;
}

const keys = (selection: ReturnType<typeof selectHub>) => selection.resources.map((r) => r.key);

describe('choosing the hub of a sync run', () => {
  const twoHubs = [config('a1', 'hub-a', 'iot'), config('b1', 'hub-b', 'iot'), config('a2', 'hub-a', 'iot')];

  it('takes the only hub the files name without --hub', () => {
    const selection = selectHub([config('a1', 'hub-a', 'iot'), config('a2', 'hub-a', 'iot')], []);
    assert.equal(selection.iotHub, 'iot/hub-a');
    assert.deepEqual(keys(selection), ['iot/a1', 'iot/a2']);
    assert.deepEqual(selection.leftOut, []);
  });

  it('refuses files that name several hubs without --hub, naming them', () => {
    assert.throws(
      () => selectHub(twoHubs, []),
      (error: Error) =>
        error instanceof HubSelectionError &&
        /the files name iot\/hub-a, iot\/hub-b; a run writes one hub: choose it with --hub/.test(
          error.message,
        ),
    );
  });

  it('takes the resources of the hub --hub names and leaves the others out, listed with their hub', () => {
    const selection = selectHub(twoHubs, [], 'hub-b');
    assert.equal(selection.iotHub, 'iot/hub-b');
    assert.deepEqual(keys(selection), ['iot/b1']);
    assert.deepEqual(selection.leftOut, [
      { resource: 'iot/a1', iotHub: 'iot/hub-a' },
      { resource: 'iot/a2', iotHub: 'iot/hub-a' },
    ]);
  });

  it('refuses a --hub no resource names, with the names that exist', () => {
    assert.throws(
      () => selectHub(twoHubs, [], 'hub-c'),
      /no resource in the files names hub 'hub-c'; the files name iot\/hub-a, iot\/hub-b/,
    );
    assert.throws(
      () => selectHub(twoHubs, [], 'lab/hub-a'),
      /names hub lab\/hub-a; the files name iot\/hub-a/,
    );
    assert.throws(() => selectHub(twoHubs, [], 'a/b/c'), /is not NAME or NAMESPACE\/NAME/);
  });

  it('asks for NAMESPACE/NAME when a hub name is used in several namespaces', () => {
    const files = [config('a', 'hub', 'iot'), config('b', 'hub', 'lab')];
    assert.throws(
      () => selectHub(files, [], 'hub'),
      /hub 'hub' is named in 2 namespaces \(iot\/hub, lab\/hub\): give --hub NAMESPACE\/NAME/,
    );
    assert.throws(() => selectHub(files, []), /the files name iot\/hub, lab\/hub/);
    const selection = selectHub(files, [], 'lab/hub');
    assert.deepEqual(keys(selection), ['lab/b']);
    assert.deepEqual(selection.leftOut, [{ resource: 'iot/a', iotHub: 'iot/hub' }]);
  });

  it('reads a resource without a namespace as one of namespace default, as validate and the planner do', () => {
    const selection = selectHub([config('a', 'hub'), config('b', 'hub', 'default')], [hub('hub')]);
    assert.equal(selection.iotHub, 'default/hub');
    assert.deepEqual(keys(selection), ['default/a', 'default/b']);
  });

  it("counts the files' IoTHub documents among the hubs they name, and hands over the chosen hub's", () => {
    const files = [config('a1', 'hub-a', 'iot')];
    const documents = [hub('hub-a', 'iot', { tier: 'S3', units: 2 }), hub('hub-b', 'iot')];
    assert.throws(() => selectHub(files, documents), /the files name iot\/hub-a, iot\/hub-b/);
    const selection = selectHub(files, documents, 'hub-a');
    assert.equal(selection.hubSpec?.tier, 'S3');
    assert.equal(selection.hubSpec?.units, 2);
    const empty = selectHub([], documents, 'hub-b');
    assert.equal(empty.iotHub, 'iot/hub-b');
    assert.deepEqual(empty.resources, []);
    assert.deepEqual(empty.leftOut, []);
  });

  it('names no hub for files without any', () => {
    const selection = selectHub([], []);
    assert.equal(selection.iotHub, undefined);
    assert.deepEqual(selection.resources, []);
  });
});

describe('sizing the client of a sync run', () => {
  const document = { tier: 'S3' as const, units: 2, rateLimits: { twinUpdatesPerSecond: 40 } };

  it("takes the hub's IoTHub document when no flag says otherwise", () => {
    assert.deepEqual(syncSizing({}, document), document);
  });

  it('lets each flag given win, and then drops the rateLimits that overrode the document tier', () => {
    assert.deepEqual(syncSizing({ units: 4 }, document), { tier: 'S3', units: 4, rateLimits: undefined });
    assert.deepEqual(syncSizing({ tier: 'S1' }, document), { tier: 'S1', units: 2, rateLimits: undefined });
  });

  it('leaves the defaults to the client without flags or document', () => {
    assert.deepEqual(syncSizing({}, undefined), { tier: undefined, units: undefined, rateLimits: undefined });
  });

  it('counts the hubs TwinConfigs name, and keys them apart from a SecurityModuleConfig of the same name', () => {
    const files = [
      config('a1', 'hub-a', 'iot'),
      thermostats('a1', 'hub-a', 'iot'),
      thermostats('t', 'hub-b', 'iot'),
    ];
    assert.throws(() => selectHub(files, []), /the files name iot\/hub-a, iot\/hub-b/);
    const selection = selectHub(files, [], 'hub-a');
    assert.deepEqual(keys(selection), ['iot/a1', 'iot/TwinConfig/a1']);
    assert.deepEqual(selection.leftOut, [{ resource: 'iot/TwinConfig/t', iotHub: 'iot/hub-b' }]);
  });
});
