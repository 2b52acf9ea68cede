// The twins this process wrote, as the hub returned them. Queries can lag writes by minutes: until a snapshot
// shows a desired $version at least as new as ours, the remembered twin stands in for the stale one, so the
// engine neither writes it again nor counts it converged from a report older than the write.
import type { HubSnapshot, SecurityModuleTwin } from '../planner/types.js';

export class TwinMemory {
  private readonly written = new Map<string, SecurityModuleTwin>();
  private readonly offline = new Set<string>();
  private readonly onlineSince = new Map<string, number>();

  remember(twin: SecurityModuleTwin): void {
    this.written.set(twin.deviceId, twin);
  }

  get size(): number {
    return this.written.size;
  }

  /**
   * Replaces stale module twins of `snapshot` (in place) and forgets those the hub's queries caught up with;
   * marks devices seen coming back online since an earlier snapshot with the time it was noticed.
   */
  overlay(snapshot: HubSnapshot, now: number): void {
    for (const device of snapshot.devices) {
      if (device.connectionState !== 'Connected') {
        this.offline.add(device.deviceId);
        this.onlineSince.delete(device.deviceId);
        continue;
      }
      if (this.offline.delete(device.deviceId)) this.onlineSince.set(device.deviceId, now);
      const since = this.onlineSince.get(device.deviceId);
      if (since !== undefined) device.onlineSince = since;
    }
    for (const [deviceId, mine] of this.written) {
      const seen = snapshot.modules.get(deviceId);
      // A GET is the hub's current twin: it stands as read. Older than our write, the hub lost the write (as a
      // failover may): forget it, so that it is planned (and written) again. Newer, keep remembering: a query
      // read later may still lag behind it.
      if (seen?.current) {
        if (seen.version !== undefined && mine.version !== undefined && seen.version < mine.version)
          this.written.delete(deviceId);
        continue;
      }
      // A write of tags alone leaves desired's $version as it was: the twin's version tells.
      const caughtUp =
        seen !== undefined &&
        (seen.version !== undefined && mine.version !== undefined
          ? seen.version >= mine.version
          : seen.desiredVersion >= mine.desiredVersion);
      if (caughtUp) {
        this.written.delete(deviceId);
        continue;
      }
      snapshot.modules.set(deviceId, {
        ...mine,
        // The agent's answer can only be trusted from a read that includes our write.
        reportedConfiguration: seen?.reportedConfiguration ?? mine.reportedConfiguration,
        reportedMayBeStale: true,
      });
    }
  }
}
