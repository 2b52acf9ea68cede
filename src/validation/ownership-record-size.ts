// How much of each twin's tags a TwinConfig takes in the ownership record (src/planner/ownership.ts): an entry per
// setting naming the resource, and its revision, written beside everything else in the twin's 8 KiB of tags. A
// resource whose entries alone would fill them passes every other rule and then fails every write (403
// DeviceModelMaxPropertiesExceeded), so its size is judged before anything is written, as the planner writes it.
import type { TwinConfig } from '../api/generated/types.js';
import { DEFAULT_MANAGER, OWNERSHIP_TAG, ownershipTagsPatch, readOwnership } from '../planner/ownership.js';
import { twinConfigKey, twinConfigSettings } from '../planner/resource-input.js';
import { resourceRevision } from '../planner/revision.js';
import { TWIN_LIMITS, twinValueSize } from '../twins/twin-limits.js';
import { formatBytes } from './input-limits.js';
import type { ValidationIssue } from './issues.js';

/**
 * What one resource's entries may take of a twin's tags: half of them. The other half is for what shares them: the
 * tags users set and target conditions read (usually a few hundred bytes), other resources' entries on the same
 * twin (a SecurityModuleConfig that sets all 29 of the agent's settings takes about 1.7 KiB) and other managers'
 * records. About 80 properties of 20-character names in a resource key of 30 characters.
 */
export const OWNERSHIP_RECORD_BUDGET_BYTES = 4 * 1024;

/**
 * The bytes, as IoT Hub counts a twin's size, of the entries the planner writes for this resource in a twin's
 * ownership record: its owners (one per setting, naming the resource) and its revision. The record's frame (its
 * tag, the manager's id) is shared by every resource and left to the budget's margin.
 */
export function ownershipEntriesSize(config: TwinConfig): number {
  // From the fields it reads alone: the rule runs on resources whose other fields may be wrong.
  const key = twinConfigKey(config.metadata);
  const settings = twinConfigSettings(config.spec);
  const owners = new Map(Object.keys(settings).map((setting) => [setting, key]));
  const revisions = new Map([[key, resourceRevision({ settings, priority: config.spec.priority ?? 0 })]]);
  const patch = ownershipTagsPatch(readOwnership(undefined), { owners, revisions }, DEFAULT_MANAGER);
  const record = (patch?.[OWNERSHIP_TAG] as Record<string, Record<string, unknown>> | undefined)?.[
    DEFAULT_MANAGER
  ];
  return twinValueSize(record?.owners) + twinValueSize(record?.revisions);
}

export function checkOwnershipRecordSize(config: TwinConfig): ValidationIssue[] {
  const bytes = ownershipEntriesSize(config);
  if (bytes <= OWNERSHIP_RECORD_BUDGET_BYTES) return [];
  const count = Object.keys(config.spec.properties).length;
  return [
    {
      severity: 'error',
      path: ['spec', 'properties'],
      message: `its ${count} properties take ${formatBytes(bytes)} of each twin's tags in the ownership record (tags.${OWNERSHIP_TAG}: an entry per property naming the resource, and its revision); a TwinConfig may take at most ${formatBytes(OWNERSHIP_RECORD_BUDGET_BYTES)} of the ${formatBytes(TWIN_LIMITS.tagsBytes)} IoT Hub keeps for a twin's tags, which users' tags and other resources' entries share: set fewer top-level properties (an object property is one entry, written whole), or give the resource a shorter name`,
    },
  ];
}
