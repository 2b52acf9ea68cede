// The emulated fleet both demos run on: about 2,000 devices over 11 sites with the security agent, 3% offline, agents
// answering after 0.1 to 2.5 s, a quarter of them C agents that report in lower case; beside them a tenth as many
// IoT Plug and Play devices, thermostats and temperature controllers, a quarter on legacy firmware.
import {
  CURRENT_FIRMWARE,
  LEGACY_FIRMWARE,
  type NewDevice,
  type RunningEmulator,
  startEmulator,
  TEMPERATURE_CONTROLLER_MODEL_ID,
  THERMOSTAT_MODEL_ID,
} from '../emulator/index.js';

/** The demo fleet's IoT Plug and Play devices: one for every ten devices with the security agent. */
export function pnpDeviceCount(devices: number): number {
  return Math.floor(devices / 10);
}

/** Five sites, so that neither type nor firmware goes with a site. */
const PNP_SITES = ['ams-dc1', 'fra-plant2', 'lyon-plant1', 'austin-fab1', 'shenzhen-fab3'];

/**
 * `pnp-000001`...: thermostats and temperature controllers in turn, every fourth of each on the legacy firmware
 * (which accepts target temperatures 10..30 °C, the current one 5..35). They are building equipment without the
 * security agent, tagged by site, type and firmware but with no `environment`: the security baseline targets the
 * production and staging rings by that tag, and would count each of them `SecurityModuleMissing`.
 */
export function demoPnpDevices(count: number): NewDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const thermostat = i % 2 === 0;
    const firmware = Math.floor(i / 2) % 4 === 3 ? LEGACY_FIRMWARE : CURRENT_FIRMWARE;
    return {
      deviceId: `pnp-${String(i + 1).padStart(6, '0')}`,
      modelId: thermostat ? THERMOSTAT_MODEL_ID : TEMPERATURE_CONTROLLER_MODEL_ID,
      firmware: firmware.version,
      tags: {
        site: PNP_SITES[i % PNP_SITES.length],
        deviceType: thermostat ? 'thermostat' : 'temperature-controller',
        firmware: firmware.version,
      },
    };
  });
}

/** `200 IoT Plug and Play devices (100 thermostats, ...)`, or undefined when the fleet has none. */
export function describePnpFleet(devices: number): string | undefined {
  const pnp = demoPnpDevices(pnpDeviceCount(devices));
  if (pnp.length === 0) return undefined;
  const thermostats = pnp.filter((d) => d.modelId === THERMOSTAT_MODEL_ID).length;
  const legacy = pnp.filter((d) => d.firmware === LEGACY_FIRMWARE.version).length;
  return `${pnp.length} IoT Plug and Play devices (${thermostats} thermostats, ${pnp.length - thermostats} temperature controllers; ${legacy} on legacy firmware ${LEGACY_FIRMWARE.version})`;
}

export async function startDemoFleet(devices: number): Promise<RunningEmulator> {
  const emulator = await startEmulator({
    devices,
    seed: 2026,
    tier: 'S1',
    units: 1,
    offlineRatio: 0.03,
    lowercaseRatio: 0.25,
    agentDelay: { min: 100, max: 2500 },
  });
  emulator.addDevices(demoPnpDevices(pnpDeviceCount(devices)));
  return emulator;
}
