// A tiny in-memory hub for planner tests: twins that take merge patches and agents that report what they run.
import {
  AGENT_CONFIGURATION_KEY,
  checkAgentSettings,
  effectiveSettings,
  unwrapTwinConfiguration,
  wrapSettings,
} from '../../src/profiles/security-agent/index.js';
import {
  type DeviceRecord,
  type HubPlan,
  type HubReconcileInput,
  type HubSnapshot,
  type PlannedResource,
  planHubReconcile,
  type SecurityModuleTwin,
  type TwinWrite,
} from '../../src/planner/index.js';

export function resource(
  key: string,
  settings: Record<string, unknown>,
  options: Partial<PlannedResource> = {},
): PlannedResource {
  return {
    key,
    priority: 0,
    target: { condition: "tags.environment = 'production'" },
    settings: settings as PlannedResource['settings'],
    suspend: false,
    createMissingModules: false,
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
  modules = new Map<string, SecurityModuleTwin>();
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
      this.modules.set(deviceId, {
        deviceId,
        etag: `e${++this.etags}`,
        tags: {},
        desiredConfiguration: options.desired ?? {},
        reportedConfiguration: undefined,
        desiredVersion: 1,
        version: 1,
        desiredUpdatedAt: 0,
      });
    }
  }

  snapshot(): HubSnapshot {
    return {
      devices: this.devices.map((d) => ({ ...d })),
      modules: new Map([...this.modules].map(([k, v]) => [k, { ...v }])),
    };
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
      const desired = write.patch.properties?.desired?.[AGENT_CONFIGURATION_KEY];
      if (desired !== undefined) {
        twin.desiredConfiguration = mergePatch(twin.desiredConfiguration, desired);
        twin.desiredVersion++;
        twin.desiredUpdatedAt = now;
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
      const { settings, problems } = unwrapTwinConfiguration(twin.desiredConfiguration);
      const effective = effectiveSettings(settings);
      if (problems.length || checkAgentSettings(effective).some((p) => p.severity === 'error')) continue;
      twin.reportedConfiguration = wrapSettings(effective);
      twin.etag = `e${++this.etags}`;
      twin.version = (twin.version ?? 1) + 1;
    }
  }

  desiredValue(deviceId: string, key: string): unknown {
    return (
      this.modules.get(deviceId)!.desiredConfiguration as Record<string, { value: unknown } | undefined>
    )[key]?.value;
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
