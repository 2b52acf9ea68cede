// The demo fleet as the demos use it: its IoT Plug and Play devices are the thermostats' TwinConfigs' and no
// SecurityModuleConfig's (they have no security module), a quarter of them on the legacy firmware, some in the
// first rollout batch; and `demo --gitops` takes every example to Ready on it, the thermostats included.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { evaluateCondition, parseCondition } from '../../src/condition/index.js';
import { demoPnpDevices, pnpDeviceCount } from '../../src/demo/demo-fleet.js';
import { runGitopsDemo } from '../../src/demo/gitops-demo.js';
import { LEGACY_FIRMWARE, THERMOSTAT_MODEL_ID } from '../../src/emulator/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { NO_STOP } from '../../src/runtime/stop.js';
import { EXAMPLES } from '../support/kube.js';

interface Example {
  kind: string;
  metadata: { name: string };
  spec: { target?: { condition?: string; deviceIds?: string[] } };
}

const examples: Example[] = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8'), { version: '1.1' }).map((d) => d.toJS()),
  );

/** The devices of the demo fleet's IoT Plug and Play part an example targets, as the hub would select them. */
function targetedBy(example: Example, devices = demoPnpDevices(pnpDeviceCount(2000))): string[] {
  const target = example.spec.target ?? {};
  if (target.deviceIds)
    return devices.filter((d) => target.deviceIds!.includes(d.deviceId)).map((d) => d.deviceId);
  const parsed = parseCondition(target.condition!);
  assert.ok(parsed.ok, `${example.metadata.name}: its condition parses`);
  return devices
    .filter((d) =>
      evaluateCondition(parsed.expression, { deviceId: d.deviceId, modelId: d.modelId, tags: d.tags }),
    )
    .map((d) => d.deviceId);
}

describe('the demo fleet', () => {
  it('gives no example SecurityModuleConfig an IoT Plug and Play device (they have no security module)', () => {
    const configs = examples.filter((e) => e.kind === 'SecurityModuleConfig');
    assert.ok(configs.length >= 3);
    for (const config of configs) assert.deepEqual(targetedBy(config), [], config.metadata.name);
  });

  it('gives the thermostats TwinConfig every thermostat, a quarter on legacy firmware, some in its first batch', () => {
    const devices = demoPnpDevices(pnpDeviceCount(2000));
    const thermostats = devices.filter((d) => d.modelId === THERMOSTAT_MODEL_ID);
    const config = examples.find((e) => e.kind === 'TwinConfig' && e.metadata.name === 'thermostat-target')!;
    assert.deepEqual(
      targetedBy(config, devices),
      thermostats.map((d) => d.deviceId),
    );
    const legacy = thermostats.filter((d) => d.firmware === LEGACY_FIRMWARE.version);
    assert.equal(legacy.length, thermostats.length / 4);
    // The demo's rejected value halts the rollout when legacy firmware is in its first batch (devices go in id order).
    const firstBatch = thermostats.slice(0, thermostats.length / 4);
    assert.ok(
      firstBatch.filter((d) => d.firmware === LEGACY_FIRMWARE.version).length / firstBatch.length > 0.1,
    );
  });

  it('is taken to Ready by `demo --gitops`, every example, the thermostats included', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), isTerminal: false };
    const code = await runGitopsDemo(
      {
        devices: 200,
        examples: EXAMPLES,
        timeoutMs: 120_000,
        logger: createLogger({ level: 'error' }),
        stop: NO_STOP,
      },
      io,
    );
    const output = lines.join('\n');
    assert.equal(code, 0, output);
    for (const name of [
      'TwinConfig/thermostat-target',
      'TwinConfig/controller-thermostat1',
      'fleet-baseline',
    ])
      assert.match(
        output,
        new RegExp(`iot-security/${name}\\s+(\\d+)\\s+\\d+\\s+\\d+.*True \\(Converged\\)`),
      );
    assert.match(output, /iot-security\/TwinConfig\/thermostat-target\s+10\s/, 'its 10 thermostats targeted');
  });
});
