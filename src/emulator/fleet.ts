// A seeded fleet: N devices, each with an azureiotsecurity module and the tags an operator targets by
// (environment, site, deviceType, firmware), drawn reproducibly from the seed.
import { SECURITY_MODULE_ID } from '../profiles/security-agent/index.js';
import { type Random, streamFor, weightedPick } from './prng.js';
import type { RegistryStore } from './registry-store.js';
import type { JsonObject } from './twin-document.js';

const ENVIRONMENTS = [
  ['production', 70],
  ['staging', 20],
  ['development', 10],
] as const;

const SITES = [
  ['ams-dc1', 14],
  ['fra-plant2', 12],
  ['lyon-plant1', 10],
  ['milan-wh3', 9],
  ['austin-fab1', 13],
  ['monterrey-plant4', 8],
  ['sao-paulo-wh1', 6],
  ['pune-plant2', 9],
  ['shenzhen-fab3', 11],
  ['osaka-lab1', 4],
  ['sydney-wh2', 4],
] as const;

const DEVICE_TYPES = [
  ['edge-gateway', 30],
  ['plc-controller', 20],
  ['ip-camera', 18],
  ['hmi-panel', 12],
  ['sensor-hub', 15],
  ['kiosk', 5],
] as const;

const FIRMWARE: Record<string, readonly (readonly [string, number])[]> = {
  'edge-gateway': [
    ['3.2.1', 50],
    ['3.1.4', 30],
    ['2.9.0', 20],
  ],
  'plc-controller': [
    ['5.0.2', 60],
    ['4.8.7', 40],
  ],
  'ip-camera': [
    ['1.14.0', 55],
    ['1.12.3', 35],
    ['1.9.8', 10],
  ],
  'hmi-panel': [
    ['2.4.0', 70],
    ['2.3.5', 30],
  ],
  'sensor-hub': [
    ['0.9.12', 45],
    ['0.9.10', 40],
    ['0.8.4', 15],
  ],
  kiosk: [
    ['7.1.0', 80],
    ['6.9.2', 20],
  ],
};

export interface FleetDevice {
  deviceId: string;
  tags: JsonObject;
}

/** The device id of the n-th seeded device (1-based), e.g. `device-000042`. */
export function fleetDeviceId(index: number, total: number): string {
  return `device-${String(index).padStart(Math.max(6, String(total).length), '0')}`;
}

function tagsFor(random: Random): JsonObject {
  const deviceType = weightedPick(random, DEVICE_TYPES);
  return {
    environment: weightedPick(random, ENVIRONMENTS),
    site: weightedPick(random, SITES),
    deviceType,
    firmware: weightedPick(random, FIRMWARE[deviceType]),
  };
}

/** Where a device of another kind (an IoT Plug and Play device) stands, drawn as the fleet's are. */
export function placeTags(random: Random): { environment: string; site: string } {
  return { environment: weightedPick(random, ENVIRONMENTS), site: weightedPick(random, SITES) };
}

/** The devices a seed gives, without creating them. */
export function* planFleet(seed: number, count: number): IterableIterator<FleetDevice> {
  const random = streamFor(seed, 'fleet');
  for (let i = 1; i <= count; i++) yield { deviceId: fleetDeviceId(i, count), tags: tagsFor(random) };
}

/** Creates the seeded devices that do not exist yet, each with its security module; returns how many. */
export function seedFleet(
  store: RegistryStore,
  options: { seed: number; count: number; online: (deviceId: string) => boolean },
): number {
  let created = 0;
  for (const { deviceId, tags } of planFleet(options.seed, options.count)) {
    if (store.getDevice(deviceId)) continue;
    const connectionState = options.online(deviceId) ? 'Connected' : 'Disconnected';
    const device = store.createDevice(deviceId, { tags, connectionState });
    store.createModule(device, SECURITY_MODULE_ID, { connectionState });
    created++;
  }
  return created;
}
