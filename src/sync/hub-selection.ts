// Which hub a `sync` run writes, and which of the files' resources are its. A hub is named as the resources name
// it: an IoTHub `namespace/name`, where a SecurityModuleConfig's or TwinConfig's hubRef names an IoTHub of its own
// namespace (as the controller reads it) and a document without metadata.namespace is in `default` (as kubectl
// applies it, and as validate and the planner key it).
import type { IoTHub, IoTHubSpec, SecurityModuleConfig, TwinConfig } from '../api/generated/types.js';
import { plannedKey, resourceKey, toPlannedResource } from '../planner/resource-input.js';
import type { PlannedResource } from '../planner/types.js';

/** A resource of the files that names another hub than the one this run writes. */
export interface LeftOutResource {
  /** The resource's key: `namespace/name` of a SecurityModuleConfig, `namespace/TwinConfig/name` of a TwinConfig. */
  resource: string;
  /** `namespace/name` of the IoTHub it names. */
  iotHub: string;
}

export interface HubSelection {
  /** `namespace/name` of the IoTHub this run writes; undefined when the files name no hub (--allow-empty). */
  iotHub?: string;
  /** The SecurityModuleConfigs and TwinConfigs that name it. */
  resources: PlannedResource[];
  /** The others: not applied, and the settings they own are never pruned from this hub. */
  leftOut: LeftOutResource[];
  /** The hub's IoTHub document, when the files hold it: its tier, units and rateLimits size the client. */
  hubSpec?: IoTHubSpec;
}

/** Which hub a run's output is about. */
export interface SyncTarget {
  /** The host the connection string names. */
  hubName: string;
  /** `namespace/name` of the IoTHub whose resources the run applies, when the files name one. */
  iotHub?: string;
  /** Resources of the files for other hubs, left out of the run. */
  leftOut: readonly LeftOutResource[];
}

/** The files and `--hub` do not say which one hub to write: a usage error (exit 2), naming the hubs found. */
export class HubSelectionError extends Error {
  override name = 'HubSelectionError';
}

/** The resources a run applies: SecurityModuleConfigs and TwinConfigs. */
export type SyncedConfig = SecurityModuleConfig | TwinConfig;

export function hubOf(config: SyncedConfig): string {
  return resourceKey({ namespace: config.metadata.namespace, name: config.spec.hubRef.name });
}

/** Every hub the files name: each SecurityModuleConfig's and TwinConfig's hubRef, and each IoTHub document; sorted. */
export function namedHubs(configs: readonly SyncedConfig[], hubs: readonly IoTHub[]): string[] {
  return [...new Set([...configs.map(hubOf), ...hubs.map((hub) => resourceKey(hub.metadata))])].sort();
}

function listed(hubs: readonly string[]): string {
  return hubs.length ? `the files name ${hubs.join(', ')}` : 'the files name no hub';
}

/** The hub `wanted` (`NAME`, or `NAMESPACE/NAME` where the name alone is ambiguous) stands for. */
function resolveWanted(wanted: string, named: readonly string[]): string {
  const parts = wanted.split('/');
  if (parts.length > 2 || parts.some((part) => part === ''))
    throw new HubSelectionError(`--hub '${wanted}' is not NAME or NAMESPACE/NAME`);
  if (parts.length === 2) {
    if (named.includes(wanted)) return wanted;
    throw new HubSelectionError(`no resource in the files names hub ${wanted}; ${listed(named)}`);
  }
  const matches = named.filter((key) => key.slice(key.indexOf('/') + 1) === wanted);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0)
    throw new HubSelectionError(`no resource in the files names hub '${wanted}'; ${listed(named)}`);
  throw new HubSelectionError(
    `hub '${wanted}' is named in ${matches.length} namespaces (${matches.join(', ')}): give --hub NAMESPACE/NAME`,
  );
}

/**
 * The hub to write and its resources. Without `wanted`, the files must name at most one hub: a run writes one
 * hub, and the connection string cannot tell which of several the files mean.
 */
export function selectHub(
  configs: readonly SyncedConfig[],
  hubs: readonly IoTHub[],
  wanted?: string,
): HubSelection {
  const named = namedHubs(configs, hubs);
  let iotHub: string | undefined;
  if (wanted !== undefined) iotHub = resolveWanted(wanted, named);
  else if (named.length === 1) iotHub = named[0];
  else if (named.length > 1)
    throw new HubSelectionError(
      `${listed(named)}; a run writes one hub: choose it with --hub (one run per hub)`,
    );
  const resources: PlannedResource[] = [];
  const leftOut: LeftOutResource[] = [];
  for (const config of configs) {
    const hub = hubOf(config);
    if (iotHub === undefined || hub === iotHub) resources.push(toPlannedResource(config));
    else leftOut.push({ resource: plannedKey(config), iotHub: hub });
  }
  leftOut.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
  const hubSpec = hubs.find((hub) => resourceKey(hub.metadata) === iotHub)?.spec;
  return { iotHub, resources, leftOut, ...(hubSpec ? { hubSpec } : {}) };
}
