// A seeded fleet of IoT Plug and Play devices (`--pnp-devices N`): pnp-000001..., each a thermostat or a
// temperature controller, with the tags an operator targets by (environment, site, deviceType, firmware) and no
// security module. Which model, firmware and speed each device has is reproducible from the seed.
import { placeTags } from './fleet.js';
import type { EmulatedHub, PnpSettings } from './hub.js';
import { seededTraits } from './pnp-devices.js';
import { TEMPERATURE_CONTROLLER, THERMOSTAT } from './pnp-models.js';
import { streamFor, unitFor } from './prng.js';
import type { JsonObject } from './twin-document.js';

export interface PnpFleetDevice {
  deviceId: string;
  modelId: string;
  firmware: string;
  slow: boolean;
  tags: JsonObject;
}

export interface PnpFleetOptions {
  seed: number;
  count: number;
  /** Share of temperature controllers (the rest are thermostats). */
  controllerRatio: number;
  pnp: Pick<PnpSettings, 'legacyRatio' | 'slowRatio'>;
}

/** The id of the n-th seeded PnP device (1-based), e.g. `pnp-000042`. */
export function pnpDeviceId(index: number, total: number): string {
  return `pnp-${String(index).padStart(Math.max(6, String(total).length), '0')}`;
}

/** The PnP devices a seed gives, without creating them. */
export function* planPnpFleet(options: PnpFleetOptions): IterableIterator<PnpFleetDevice> {
  const random = streamFor(options.seed, 'pnp-fleet');
  for (let i = 1; i <= options.count; i++) {
    const deviceId = pnpDeviceId(i, options.count);
    const model =
      unitFor(options.seed, `pnp-model:${deviceId}`) < options.controllerRatio
        ? TEMPERATURE_CONTROLLER
        : THERMOSTAT;
    const traits = seededTraits(options.seed, deviceId, options.pnp);
    yield {
      deviceId,
      modelId: model.modelId,
      firmware: traits.firmware.version,
      slow: traits.slow,
      tags: { ...placeTags(random), deviceType: model.deviceType, firmware: traits.firmware.version },
    };
  }
}

/** Creates the seeded PnP devices that do not exist yet; returns how many. */
export function seedPnpFleet(hub: EmulatedHub, options: PnpFleetOptions): number {
  let created = 0;
  for (const device of planPnpFleet(options)) {
    if (hub.store.getDevice(device.deviceId)) continue;
    hub.addDevice({ ...device, securityModule: false });
    created++;
  }
  return created;
}
