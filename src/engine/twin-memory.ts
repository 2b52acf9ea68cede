// The twins this process wrote, as the hub returned them. Queries can lag writes by minutes: until a snapshot
// shows a desired $version at least as new as ours, the remembered twin stands in for the stale one, so the
// engine neither writes it again nor counts it converged from a report older than the write.
import type { HubSnapshot, SecurityModuleTwin } from '../planner/types.js';

export class TwinMemory {
  private readonly written = new Map<string, SecurityModuleTwin>();

  remember(twin: SecurityModuleTwin): void {
    this.written.set(twin.deviceId, twin);
  }

  get size(): number {
    return this.written.size;
  }

  /** Replaces stale module twins of `snapshot` (in place) and forgets those the hub's queries caught up with. */
  overlay(snapshot: HubSnapshot): void {
    for (const [deviceId, mine] of this.written) {
      const seen = snapshot.modules.get(deviceId);
      if (seen && seen.desiredVersion >= mine.desiredVersion) {
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
