// Which devices each resource targets: its condition evaluated as the hub would, or its list of device ids.
import { compileCondition, parseCondition } from '../condition/index.js';
import type { DeviceRecord, PlannedResource } from './types.js';

export type DeviceMatcher = (device: DeviceRecord) => boolean;

export function compileTarget(resource: PlannedResource): DeviceMatcher {
  const { condition, deviceIds } = resource.target;
  if (deviceIds) {
    const listed = new Set(deviceIds);
    return (device) => listed.has(device.deviceId);
  }
  if (condition === undefined)
    throw new Error(`${resource.key}: the target names neither a condition nor device ids`);
  const parsed = parseCondition(condition, { dialect: 'deviceTarget' });
  if (!parsed.ok) throw new Error(`${resource.key}: spec.target.condition: ${parsed.error.message}`);
  const predicate = compileCondition(parsed.expression);
  return (device) => predicate(device as unknown as Record<string, unknown>);
}

/** Device ids a resource lists that the hub does not have. */
export function missingListedDevices(resource: PlannedResource, known: ReadonlySet<string>): string[] {
  return (resource.target.deviceIds ?? []).filter((id) => !known.has(id));
}
