// A tiny in-memory hub for planner tests: twins that take merge patches and agents that report what they run.

import {
  type DeviceRecord,
  type HubPlan,
  type HubReconcileInput,
  type HubSnapshot,
  type ManagedTwin,
  type PlannedResource,
  planHubReconcile,
  type TwinSlot,
  type TwinWrite,
} from '../../src/planner/index.js';
import {
  AGENT_CONFIGURATION_KEY,
  checkAgentSettings,
  effectiveSettings,
  unwrapTwinConfiguration,
  wrapSettings,
} from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';

/** The agent's configuration object in a twin's desired properties (its settings wrapped as {value}). */
export function agentDesired(twin: ManagedTwin | undefined): Record<string, { value: unknown } | undefined> {
  return (twin?.desired[AGENT_CONFIGURATION_KEY] ?? {}) as Record<string, { value: unknown } | undefined>;
}

/** The agent's configuration object in a twin's reported properties, or undefined when it reported none. */
export function agentReported(twin: ManagedTwin | undefined): unknown {
  return twin?.reported[AGENT_CONFIGURATION_KEY];
}

/** A security module twin as the hub client reads one (desired written at `writtenAt`, epoch ms). */
export function moduleTwin(
  deviceId: string,
  fields: { desired?: unknown; reported?: unknown; etag?: string; tags?: Record<string, unknown> } & Partial<
    Omit<ManagedTwin, 'desired' | 'reported'>
  > = {},
  writtenAt = 0,
): ManagedTwin {
  const { desired, reported, ...rest } = fields;
  return {
    deviceId,
    moduleId: SECURITY_MODULE_ID,
    etag: 'e1',
    tags: {},
    desired: desired === undefined ? {} : { [AGENT_CONFIGURATION_KEY]: desired },
    desiredWritten: { below: { [AGENT_CONFIGURATION_KEY]: { at: writtenAt } } },
    reported: reported === undefined ? {} : { [AGENT_CONFIGURATION_KEY]: reported },
    desiredVersion: 1,
    ...rest,
  };
}

/** A snapshot of devices and their security module twins. */
/** A snapshot a test builds and changes as it goes (the engine's own is a FleetSnapshot). */
export interface EditableSnapshot extends HubSnapshot {
  devices: DeviceRecord[];
  twins: Map<TwinSlot, Map<string, ManagedTwin>>;
}

export function agentSnapshot(
  devices: DeviceRecord[],
  modules: Iterable<[string, ManagedTwin]>,
): EditableSnapshot {
  return { devices, twins: new Map([[SECURITY_MODULE_ID, new Map(modules)]]) };
}

export function resource(
  key: string,
  settings: Record<string, unknown>,
  options: Partial<PlannedResource> = {},
): PlannedResource {
  return {
    key,
    priority: 0,
    target: { condition: "tags.environment = 'production'" },
    kind: 'SecurityModuleConfig',
    slot: SECURITY_MODULE_ID,
    settings: settings as PlannedResource['settings'],
    convergence: 'Agent',
    suspend: false,
    createModule: false,
    convergenceTimeoutMs: 15 * 60_000,
    rollout: { batchSize: '100%', failureThreshold: '10%' },
    ...options,
  };
}

/** JSON merge patch (RFC 7386), as the hub applies a twin PATCH. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export class FakeHub {
  devices: DeviceRecord[] = [];
  /** The security module twins, by device id. */
  modules = new Map<string, ManagedTwin>();
  private etags = 0;
  writes = 0;

  addDevice(
    deviceId: string,
    tags: Record<string, unknown>,
    options: { connected?: boolean; module?: boolean; desired?: Record<string, unknown> } = {},
  ): void {
    this.devices.push({
      deviceId,
      tags,
      status: 'enabled',
      connectionState: options.connected === false ? 'Disconnected' : 'Connected',
    });
    if (options.module !== false) {
      this.modules.set(
        deviceId,
        moduleTwin(deviceId, { desired: options.desired ?? {}, etag: `e${++this.etags}`, version: 1 }),
      );
    }
  }

  snapshot(): HubSnapshot {
    return agentSnapshot(
      this.devices.map((d) => ({ ...d })),
      [...this.modules].map(([k, v]) => [k, { ...v }]),
    );
  }

  /** Applies writes whose etag matches, as the hub does; returns the device ids refused with 412. */
  apply(writes: readonly TwinWrite[], now = 0): string[] {
    const refused: string[] = [];
    for (const write of writes) {
      const twin = this.modules.get(write.deviceId)!;
      if (twin.etag !== write.etag) {
        refused.push(write.deviceId);
        continue;
      }
      this.writes++;
      twin.tags = mergePatch(twin.tags, write.patch.tags ?? {}) as Record<string, unknown>;
      const desired = write.patch.properties?.desired;
      if (desired !== undefined) {
        twin.desired = mergePatch(twin.desired, desired) as Record<string, unknown>;
        twin.desiredVersion++;
        const stamp = { at: now, version: twin.desiredVersion };
        twin.desiredWritten = {
          ...twin.desiredWritten,
          below: {
            ...twin.desiredWritten.below,
            ...Object.fromEntries(Object.keys(desired).map((k) => [k, stamp])),
          },
        };
      }
      twin.etag = `e${++this.etags}`;
      twin.version = (twin.version ?? 1) + 1;
    }
    return refused;
  }

  /** Every online agent reads its desired configuration and reports it, or keeps the old one when invalid. */
  agentsReport(): void {
    for (const device of this.devices) {
      const twin = this.modules.get(device.deviceId);
      if (!twin || device.connectionState !== 'Connected') continue;
      const { settings, problems } = unwrapTwinConfiguration(agentDesired(twin));
      const effective = effectiveSettings(settings);
      if (problems.length || checkAgentSettings(effective).some((p) => p.severity === 'error')) continue;
      twin.reported = { ...twin.reported, [AGENT_CONFIGURATION_KEY]: wrapSettings(effective) };
      twin.etag = `e${++this.etags}`;
      twin.version = (twin.version ?? 1) + 1;
    }
  }

  desiredValue(deviceId: string, key: string): unknown {
    return agentDesired(this.modules.get(deviceId))[key]?.value;
  }
}

/** One plan of the fake hub's state (now 1000, unknown owners kept unless said otherwise). */
export function plan(
  hub: FakeHub,
  resources: PlannedResource[],
  extra: Partial<HubReconcileInput> = {},
): HubPlan {
  return planHubReconcile({
    snapshot: hub.snapshot(),
    resources,
    now: 1000,
    unknownOwners: 'keep',
    ...extra,
  });
}

/** Plans and applies until nothing is left to write (at most 20 rounds), agents reporting between rounds. */
export function converge(
  hub: FakeHub,
  resources: PlannedResource[],
  extra: Partial<HubReconcileInput> = {},
): HubPlan {
  for (let round = 0; round < 20; round++) {
    const p = plan(hub, resources, extra);
    hub.apply(p.writes, 1000);
    hub.agentsReport();
    if (p.writes.length === 0) return plan(hub, resources, extra);
  }
  throw new Error('did not converge in 20 rounds');
}
