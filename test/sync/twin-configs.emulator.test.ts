// End-to-end: `sync` of TwinConfigs to IoT Plug and Play devices of the emulator (thermostats on two firmware
// versions, temperature controllers with components), beside a SecurityModuleConfig for security agents in the
// same run, through the real hub client and SDK over HTTPS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'azure-iothub';
import { stringify } from 'yaml';
import {
  LEGACY_FIRMWARE,
  type RunningEmulator,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from '../../src/emulator/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { runSync, type SyncOptions } from '../../src/sync/run-sync.js';
import { DEVICE_TWIN } from '../../src/twins/types.js';
import { registryOf } from '../support/emulator-requests.js';
import { desired, emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { REPO } from '../support/kube.js';
import { securityModuleConfig, twinConfig, writeTempFiles } from '../support/resources.js';

const logger = createLogger({ level: 'error' });
const NAMESPACE = 'fleet';

const yaml = (...documents: object[]) => documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');

/** The models' ConfigMap as examples/ ships it, in the test's namespace. */
function models(): string {
  const shipped = readFileSync(join(REPO, 'examples', 'pnp-models.yaml'), 'utf8');
  return shipped.replace('namespace: iot-security', `namespace: ${NAMESPACE}`);
}

function thermostats(targetTemperature: unknown, spec: Record<string, unknown> = {}): object {
  return twinConfig(
    'thermostats',
    {
      target: { condition: `modelId = '${THERMOSTAT_MODEL_ID}'` },
      priority: 10,
      properties: { targetTemperature },
      schema: { configMapKeyRef: { name: 'pnp-models', key: 'thermostat-1.json' }, format: 'DTDL' },
      ...spec,
    },
    { namespace: NAMESPACE },
  );
}

const CONTROLLERS = twinConfig(
  'controller-thermostat1',
  {
    target: { condition: `modelId = '${TEMPERATURE_CONTROLLER_MODEL_ID}'` },
    twin: { component: 'thermostat1' },
    properties: { targetTemperature: 19 },
    schema: {
      configMapKeyRef: { name: 'pnp-models', key: 'temperaturecontroller-2.expanded.json' },
      format: 'DTDL',
    },
  },
  { namespace: NAMESPACE },
);

const GATEWAYS = securityModuleConfig(
  'gateways',
  {
    target: { condition: "tags.role = 'gateway'" },
    agentConfiguration: { highPriorityMessageFrequency: 'PT2M' },
  },
  { namespace: NAMESPACE },
);

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function sync(
  emulator: RunningEmulator,
  files: Record<string, string>,
  options: Partial<SyncOptions> = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const code = await runSync(
      {
        paths: [writeTempFiles(files)],
        dryRun: false,
        prune: false,
        wait: true,
        watch: false,
        timeoutMs: 30_000,
        intervalMs: 60_000,
        output: 'json',
        pollMs: 100,
        fullReadMs: 2000,
        ...options,
      },
      { io: { out: (l) => out.push(l), err: (l) => err.push(l), isTerminal: false }, access: client, logger },
    );
    return { code, out, err };
  } finally {
    client.close();
  }
}

function statusOf(run: Run, resource: string): Record<string, any> {
  const report = JSON.parse(run.out.join('\n'));
  const found = report.resources.find((r: { resource: string }) => r.resource === resource);
  assert.ok(found, `${resource} is in the report: ${run.out.join('\n')}`);
  return found.status;
}

const readyOf = (status: Record<string, any>) =>
  status.conditions.find((c: { type: string }) => c.type === 'Ready');

describe('sync of TwinConfigs to IoT Plug and Play devices', () => {
  let emulator: RunningEmulator;
  let registry: Registry;
  /** Device ids by what they are. */
  const fleet = {
    thermostats: [] as string[],
    legacyThermostats: [] as string[],
    controllers: [] as string[],
  };

  const twin = async (deviceId: string) =>
    (await registry.getTwin(deviceId)).responseBody as unknown as { properties: Record<string, any> };

  before(async () => {
    emulator = await startHubEmulator({
      tier: 'S3',
      pnpDevices: 16,
      pnpSlowRatio: 0,
      pnpControllerRatio: 0.4,
    });
    emulator.addDevices(
      ['gw-1', 'gw-2'].map((deviceId) => ({ deviceId, tags: { role: 'gateway' }, online: true })),
    );
    await emulator.pnpIdle();
    registry = registryOf(emulator);
    const client = emulatorClient(emulator, { tier: 'S3' });
    try {
      const snapshot = await client.readSnapshot([DEVICE_TWIN]);
      for (const device of snapshot.devices) {
        if (device.modelId === TEMPERATURE_CONTROLLER_MODEL_ID) fleet.controllers.push(device.deviceId);
        if (device.modelId !== THERMOSTAT_MODEL_ID) continue;
        fleet.thermostats.push(device.deviceId);
        if (device.tags.firmware === LEGACY_FIRMWARE.version) fleet.legacyThermostats.push(device.deviceId);
      }
    } finally {
      client.close();
    }
    // The seed gives the fleet both kinds of thermostats and some controllers: the tests need each.
    assert.ok(
      fleet.legacyThermostats.length > 0 && fleet.legacyThermostats.length < fleet.thermostats.length,
    );
    assert.ok(fleet.controllers.length > 0);
  });
  after(() => emulator.close());

  it('converges: every thermostat acknowledges the value (ac 200), the component is written with its marker, the agents report', async () => {
    const run = await sync(emulator, {
      'models.yaml': models(),
      'thermostats.yaml': yaml(thermostats(21.5), CONTROLLERS),
      'gateways.yaml': yaml(GATEWAYS),
    });
    assert.equal(run.code, 0, run.err.join('\n'));
    const status = statusOf(run, 'fleet/TwinConfig/thermostats');
    assert.deepEqual(
      [status.targetedDevices, status.convergedDevices, status.rejectedDevices, readyOf(status).reason],
      [fleet.thermostats.length, fleet.thermostats.length, 0, 'Converged'],
    );
    for (const deviceId of fleet.thermostats) {
      const { desired: wanted, reported } = (await twin(deviceId)).properties;
      assert.equal(wanted.targetTemperature, 21.5);
      assert.equal(reported.targetTemperature.value, 21.5);
      assert.equal(reported.targetTemperature.ac, 200);
      assert.ok(reported.targetTemperature.av >= wanted.$metadata.targetTemperature.$lastUpdatedVersion);
    }
    const controllers = statusOf(run, 'fleet/TwinConfig/controller-thermostat1');
    assert.deepEqual(
      [controllers.convergedDevices, controllers.rejectedDevices],
      [fleet.controllers.length, 0],
    );
    const { desired: controllerDesired, reported: controllerReported } = (await twin(fleet.controllers[0]))
      .properties;
    assert.equal(controllerDesired.thermostat1.__t, 'c');
    assert.equal(controllerDesired.thermostat1.targetTemperature, 19);
    assert.equal(controllerReported.thermostat1.targetTemperature.ac, 200);
    assert.equal(controllerDesired.thermostat2, undefined, 'the other component is left alone');

    const gateways = statusOf(run, 'fleet/gateways');
    assert.deepEqual([gateways.convergedDevices, readyOf(gateways).reason], [2, 'Converged']);
    assert.equal(gateways.rejectedDevices, undefined, "a SecurityModuleConfig's status has no such count");
    assert.equal((await desired(emulator, 'gw-1')).highPriorityMessageFrequency?.value, 'PT2M');
  });

  it('shows TwinConfig settings by their property paths in a dry run', async () => {
    const run = await sync(
      emulator,
      {
        'models.yaml': models(),
        'thermostats.yaml': yaml(thermostats(22), CONTROLLERS),
        'gateways.yaml': yaml(GATEWAYS),
      },
      { dryRun: true, output: 'table' },
    );
    assert.equal(run.code, 1, 'changes: exit 1');
    const text = run.out.join('\n');
    const n = fleet.thermostats.length;
    assert.match(
      text,
      new RegExp(
        `TwinConfig fleet/thermostats \\(priority 10, ${n} devices targeted\\): ${n} device twins to write`,
      ),
    );
    assert.match(text, new RegExp(`^ {4}targetTemperature: ${n} devices: 21\\.5 -> 22$`, 'm'));
    assert.match(
      text,
      /TwinConfig fleet\/controller-thermostat1 \(priority 0, \d+ devices? targeted\): no change/,
    );
  });

  it('ends with the devices that rejected a value in the status, in their own words', async () => {
    // Every device may fail: past failureThreshold the rollout would halt (RolloutHalted) before saying why.
    const run = await sync(emulator, {
      'models.yaml': models(),
      'thermostats.yaml': yaml(thermostats(33, { rollout: { failureThreshold: '100%' } }), CONTROLLERS),
      'gateways.yaml': yaml(GATEWAYS),
    });
    assert.equal(run.code, 1, 'a resource that cannot become Ready without a change');
    assert.equal(JSON.parse(run.out.join('\n')).ending, 'stuck');
    const status = statusOf(run, 'fleet/TwinConfig/thermostats');
    const legacy = fleet.legacyThermostats;
    assert.deepEqual(
      [status.rejectedDevices, status.convergedDevices],
      [legacy.length, fleet.thermostats.length - legacy.length],
    );
    assert.deepEqual([readyOf(status).status, readyOf(status).reason], ['False', 'DevicesRejected']);
    assert.deepEqual(
      status.failures.map((f: { deviceId: string }) => f.deviceId),
      [...legacy].sort(),
    );
    for (const failure of status.failures) {
      assert.equal(failure.reason, 'DeviceRejected');
      assert.equal(
        failure.message,
        'targetTemperature refused (400): targetTemperature 33 is outside 10..30 °C, the range firmware 1.9.3 accepts',
      );
    }
    assert.equal(readyOf(statusOf(run, 'fleet/gateways')).reason, 'Converged', 'the agents are not held up');
  });

  it('keeps the properties of a TwinConfig gone from the files, and removes only its own with --prune', async () => {
    const files = {
      'models.yaml': models(),
      'thermostats.yaml': yaml(thermostats(21.5)),
      'gateways.yaml': yaml(GATEWAYS),
    };
    const kept = await sync(emulator, files, { output: 'table' });
    assert.equal(kept.code, 0, kept.err.join('\n'));
    assert.match(
      kept.out.join('\n'),
      new RegExp(
        `fleet/TwinConfig/controller-thermostat1 \\(not in the files\\): /thermostat1/targetTemperature kept on ${fleet.controllers.length} devices?; --prune removes them`,
      ),
    );
    const pruned = await sync(emulator, files, { prune: true });
    assert.equal(pruned.code, 0, pruned.err.join('\n'));
    const { desired: after } = (await twin(fleet.controllers[0])).properties;
    assert.equal(after.thermostat1?.targetTemperature, undefined, 'its property is removed');
    const { desired: thermostat } = (await twin(fleet.thermostats[0])).properties;
    assert.equal(thermostat.targetTemperature, 21.5, 'what the files still hold stays');
  });

  it('writes nothing when a TwinConfig names a ConfigMap that is not among the files', async () => {
    const before = emulator.hub.stats.count('twinUpdate');
    const run = await sync(emulator, {
      'thermostats.yaml': yaml(thermostats(25)),
      'gateways.yaml': yaml(GATEWAYS),
    });
    assert.equal(run.code, 1);
    assert.match(
      run.err.join('\n'),
      /thermostats\.yaml:\d+:\d+: error: TwinConfig\/thermostats: spec\.schema\.configMapKeyRef\.name: ConfigMap pnp-models is not among the files; its properties cannot be judged/,
    );
    assert.match(run.err.join('\n'), /nothing was written/);
    assert.equal(emulator.hub.stats.count('twinUpdate'), before);
  });

  it('refuses a value the model refuses, at its line, before anything is written', async () => {
    const before = emulator.hub.stats.count('twinUpdate');
    const run = await sync(emulator, {
      'models.yaml': models(),
      'thermostats.yaml': yaml(thermostats('warm')),
    });
    assert.equal(run.code, 1);
    assert.match(
      run.err.join('\n'),
      /thermostats\.yaml:\d+:\d+: error: TwinConfig\/thermostats: spec\.properties\.targetTemperature: /,
    );
    assert.equal(emulator.hub.stats.count('twinUpdate'), before);
  });
});
