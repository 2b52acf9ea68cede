// The TwinConfig contenders roll out: a target temperature for every thermostat (IoT Plug and Play devices
// announcing the thermostat model), judged by the model's DTDL from the ConfigMap examples/ ships, as
// examples/thermostats.yaml does. 21.5 °C is within what every firmware accepts (legacy 10..30, current 5..35):
// no device rejects it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { THERMOSTAT_MODEL_ID } from '../../src/emulator/index.js';
import { twinConfig } from '../../test/support/resources.js';
import { REPO } from './contenders.js';
import type { ControllerResource } from './controller-run.js';

export const SETPOINT = 21.5;

/** The models' ConfigMap (examples/pnp-models.yaml) as YAML, in `namespace`. */
function modelsYaml(namespace: string): string {
  return readFileSync(join(REPO, 'examples/pnp-models.yaml'), 'utf8').replace(
    'namespace: iot-security',
    `namespace: ${namespace}`,
  );
}

/** The TwinConfig: every thermostat's targetTemperature, judged by the DTDL model, converged by acknowledgement. */
export function thermostatsObject(targetTemperature: unknown, namespace: string): object {
  return twinConfig(
    'thermostats',
    {
      target: { condition: `modelId = '${THERMOSTAT_MODEL_ID}'` },
      priority: 10,
      properties: { targetTemperature },
      schema: { configMapKeyRef: { name: 'pnp-models', key: 'thermostat-1.json' }, format: 'DTDL' },
    },
    { namespace },
  );
}

/** A folder with the TwinConfig and the models' ConfigMap, as `sync -f` reads them. */
export function thermostatsFiles(targetTemperature: unknown, namespace = 'bench'): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-files-'));
  writeFileSync(join(dir, 'models.yaml'), modelsYaml(namespace));
  writeFileSync(
    join(dir, 'thermostats.yaml'),
    JSON.stringify(thermostatsObject(targetTemperature, namespace)),
  );
  return dir;
}

export const thermostatsResource: ControllerResource = {
  plural: 'twinconfigs',
  name: 'thermostats',
  prerequisites: (namespace) => [parse(modelsYaml(namespace))],
  object: thermostatsObject,
};
