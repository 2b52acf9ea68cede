// How a TwinConfig's devices read as converged, pending or rejected (twinPropertiesProfile.reportedState), by the
// IoT Plug and Play convention's acknowledgements (https://learn.microsoft.com/azure/iot/concepts-convention,
// "Writable properties"), a mirror of the value, or nothing to wait for; and how an unanswered device is described.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Convergence } from '../../../src/profiles/twin-profile.js';
import { twinPropertiesProfile } from '../../../src/profiles/twin-properties/profile.js';
import type { ManagedTwin } from '../../../src/twins/types.js';

const AT = Date.parse('2024-05-01T10:00:00.0000000Z');
const stamp = (version: number) => ({ at: AT, version });

function twin(fields: Partial<ManagedTwin>): ManagedTwin {
  return {
    deviceId: 'pnp-1',
    etag: 'AAAAAAAAAAE=',
    tags: {},
    desired: {},
    desiredWritten: {},
    reported: {},
    desiredVersion: 1,
    ...fields,
  };
}

/** A thermostat whose targetTemperature 21.5 was written at desired `$version` 5, nothing after, reporting `reported`. */
const thermostat = (reported: unknown) =>
  twin({
    desired: { targetTemperature: 21.5 },
    desiredWritten: { ...stamp(5), below: { targetTemperature: stamp(5) } },
    desiredVersion: 5,
    reported: reported === undefined ? {} : { targetTemperature: reported },
  });

const TEMPERATURE = new Map([['/targetTemperature', 21.5]]);

const stateOf = (t: ManagedTwin, convergence: Convergence = 'PlugAndPlay', wanted = TEMPERATURE) =>
  twinPropertiesProfile.reportedState(t, wanted, convergence);

describe('a TwinConfig device answering as IoT Plug and Play says', () => {
  it('is pending while its acknowledgement answers an older version', () => {
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 200, av: 4, ad: 'applied' })), { state: 'pending' });
    assert.deepEqual(stateOf(thermostat(undefined)), { state: 'pending' }, 'no acknowledgement at all');
  });

  it('is converged once it acknowledges ac 200 at the version written (or a later one it read)', () => {
    assert.deepEqual(stateOf(thermostat({ value: 21.5, ac: 200, av: 5, ad: 'applied' })), {
      state: 'converged',
    });
    assert.deepEqual(stateOf(thermostat({ value: 21.5, ac: 200, av: 6 })), { state: 'converged' });
    // A 2xx the convention's table does not name reads as HTTP's success.
    assert.deepEqual(stateOf(thermostat({ value: 21.5, ac: 204, av: 5 })), { state: 'converged' });
  });

  it('is pending while it answers ac 202: taken, the update still in progress', () => {
    assert.deepEqual(stateOf(thermostat({ value: 19, ac: 202, av: 5, ad: 'heating' })), { state: 'pending' });
  });

  it('takes ac 203, a value the device set itself (av 0 at start-up), for no answer to the write', () => {
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 203, av: 0, ad: 'initialize' })), {
      state: 'pending',
    });
    // Not reflecting any desired value, whatever version it names.
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 203, av: 5 })), { state: 'pending' });
  });

  it('is rejected, in its own words, when it answers 400 or 500 at the version written', () => {
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 400, av: 5, ad: 'outside 10..30 °C' })), {
      state: 'rejected',
      message: 'targetTemperature refused (400): outside 10..30 °C',
    });
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 500, av: 5 })), {
      state: 'rejected',
      message: 'targetTemperature refused (500)',
    });
    assert.deepEqual(
      stateOf(thermostat({ value: 20, ac: 400, av: 4, ad: 'an older refusal' })),
      { state: 'pending' },
      'a refusal of an older version says nothing of this one',
    );
  });

  it('shows an ad that is not a string as JSON, and bounds a long one', () => {
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 400, av: 5, ad: { code: 17, max: 30 } })), {
      state: 'rejected',
      message: 'targetTemperature refused (400): {"code":17,"max":30}',
    });
    assert.deepEqual(stateOf(thermostat({ value: 20, ac: 400, av: 5, ad: 17 })), {
      state: 'rejected',
      message: 'targetTemperature refused (400): 17',
    });
    const long = stateOf(thermostat({ value: 20, ac: 400, av: 5, ad: 'x'.repeat(4000) }));
    assert.equal(long.state, 'rejected');
    const message = (long as { message: string }).message;
    assert.equal(message, `targetTemperature refused (400): ${'x'.repeat(400)}...`);
  });

  it('takes only an integer ac (and av) for an acknowledgement', () => {
    for (const ack of [
      { value: 21.5, ac: 200.5, av: 5 },
      { value: 21.5, ac: '200', av: 5 },
      { value: 21.5, ac: 400.5, av: 5, ad: 'no' },
      { value: 21.5, av: 5 },
      { value: 21.5, ac: 200, av: 5.5 },
      { value: 21.5, ac: 200, av: '5' },
    ])
      assert.deepEqual(stateOf(thermostat(ack)), { state: 'pending' }, JSON.stringify(ack));
    assert.deepEqual(stateOf(thermostat(21.5)), { state: 'pending' }, 'a bare value is no acknowledgement');
  });

  it("reads the version of its property's own write: another writer's write to another property does not make it pending", () => {
    // Written at 5 and acknowledged; then someone else set targetHumidity, raising desired $version to 6.
    const t = twin({
      desired: { targetTemperature: 21.5, targetHumidity: 40 },
      desiredWritten: { ...stamp(6), below: { targetTemperature: stamp(5), targetHumidity: stamp(6) } },
      desiredVersion: 6,
      reported: { targetTemperature: { value: 21.5, ac: 200, av: 5, ad: 'applied' } },
    });
    assert.deepEqual(stateOf(t), { state: 'converged' });
  });

  it("reads a component's property, and its version, inside the component", () => {
    // thermostat1/targetTemperature written at 5; another writer's targetHumidity of the component at 7 stamps the
    // component's object and its own property, not targetTemperature.
    const controller = (av: number) =>
      twin({
        desired: { thermostat1: { __t: 'c', targetTemperature: 19, targetHumidity: 40 } },
        desiredWritten: {
          ...stamp(7),
          below: {
            thermostat1: {
              ...stamp(7),
              below: { __t: stamp(5), targetTemperature: stamp(5), targetHumidity: stamp(7) },
            },
          },
        },
        desiredVersion: 7,
        reported: { thermostat1: { __t: 'c', targetTemperature: { value: 19, ac: 200, av, ad: 'applied' } } },
      });
    const wanted = new Map([['/thermostat1/targetTemperature', 19]]);
    assert.deepEqual(stateOf(controller(5), 'PlugAndPlay', wanted), { state: 'converged' });
    assert.deepEqual(stateOf(controller(4), 'PlugAndPlay', wanted), { state: 'pending' });
    const refusing = controller(5);
    (refusing.reported.thermostat1 as Record<string, unknown>).targetTemperature = {
      value: 21,
      ac: 400,
      av: 5,
      ad: 'below 20 °C',
    };
    assert.deepEqual(stateOf(refusing, 'PlugAndPlay', wanted), {
      state: 'rejected',
      message: 'thermostat1.targetTemperature refused (400): below 20 °C',
    });
  });

  it('is pending while its report may predate the write', () => {
    const t = { ...thermostat({ value: 21.5, ac: 200, av: 5 }), reportedMayBeStale: true };
    assert.deepEqual(stateOf(t), { state: 'pending' });
  });

  it('is rejected when any property is, and pending while any is', () => {
    const t = twin({
      desired: { a: 1, b: 2, c: 3 },
      desiredWritten: { ...stamp(5), below: { a: stamp(5), b: stamp(5), c: stamp(5) } },
      desiredVersion: 5,
      reported: { a: { value: 1, ac: 200, av: 5 }, b: { value: 2, ac: 202, av: 5 } },
    });
    const wanted = new Map([
      ['/a', 1],
      ['/b', 2],
      ['/c', 3],
    ]);
    assert.deepEqual(stateOf(t, 'PlugAndPlay', wanted), { state: 'pending' });
    t.reported.c = { value: 0, ac: 400, av: 5, ad: 'no' };
    assert.deepEqual(stateOf(t, 'PlugAndPlay', wanted), {
      state: 'rejected',
      message: 'c refused (400): no',
    });
  });
});

describe('a TwinConfig device answering as Mirror or None says', () => {
  it('Mirror: converged when it reports the value itself at the same place, not an acknowledgement of it', () => {
    assert.deepEqual(stateOf(thermostat(21.5), 'Mirror'), { state: 'converged' });
    assert.deepEqual(stateOf(thermostat({ value: 21.5, ac: 200, av: 5, ad: 'applied' }), 'Mirror'), {
      state: 'pending',
    });
    assert.deepEqual(stateOf(thermostat(20), 'Mirror'), { state: 'pending' });
  });

  it('None: converged once desired holds it, whatever the device reports', () => {
    assert.deepEqual(stateOf(thermostat(undefined), 'None'), { state: 'converged' });
    assert.deepEqual(
      stateOf({ ...thermostat({ value: 1, ac: 400, av: 5 }), reportedMayBeStale: true }, 'None'),
      {
        state: 'converged',
      },
    );
  });
});

describe('an unanswered TwinConfig device described', () => {
  it('lists what it reports where it has not answered as its convergence says', () => {
    const inProgress = thermostat({ value: 21.5, ac: 202, av: 5, ad: 'heating' });
    assert.deepEqual(twinPropertiesProfile.differences(inProgress, TEMPERATURE, 3, 'PlugAndPlay'), [
      'targetTemperature: reported {"value":21.5,"ac":202,"av":5,"ad":"heating"}, desired 21.5',
    ]);
    const acknowledged = thermostat({ value: 21.5, ac: 200, av: 5 });
    assert.deepEqual(twinPropertiesProfile.differences(acknowledged, TEMPERATURE, 3, 'PlugAndPlay'), []);
    assert.deepEqual(twinPropertiesProfile.differences(acknowledged, TEMPERATURE, 3, 'Mirror'), [
      'targetTemperature: reported {"value":21.5,"ac":200,"av":5}, desired 21.5',
    ]);
    assert.deepEqual(twinPropertiesProfile.differences(thermostat(undefined), TEMPERATURE, 3, 'None'), []);
  });

  it('says an IoT Plug and Play device is not acknowledging the values, a mirror not reporting them', () => {
    const written = ' written at 2024-05-01T10:00:00Z';
    assert.equal(
      twinPropertiesProfile.silence(written, 'PlugAndPlay'),
      'the device has not acknowledged the values written at 2024-05-01T10:00:00Z',
    );
    assert.equal(
      twinPropertiesProfile.silence(written, 'Mirror'),
      'the device has not reported the values written at 2024-05-01T10:00:00Z',
    );
    assert.equal(twinPropertiesProfile.unanswered('PlugAndPlay'), 'not acknowledging the values');
    assert.equal(twinPropertiesProfile.unanswered('Mirror'), 'not reporting the values');
  });
});
