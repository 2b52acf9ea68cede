// What the hub sees of a contender, independent of what the contender says of itself: when it first wrote a
// twin, and when each device answered the configuration (from the emulator's own store): a security agent by
// reporting the setting, an IoT Plug and Play device by acknowledging the property (ac 200 at the version written).
import type { RunningEmulator } from '../../src/emulator/index.js';
import { lastUpdatedVersionAt } from '../../src/emulator/twin-document.js';
import type { TwinState } from '../../src/emulator/twin-state.js';

const KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';

/** Which twin a rollout writes, and when a device has taken what it was given. */
export interface ConvergenceJudge {
  /** The module whose twin is written; undefined for the device twin. */
  moduleId: string | undefined;
  converged(twin: TwinState): boolean;
}

/** The security agent reports `setting` at `value` (compared case-insensitively, as agents differ in case). */
export function agentReports(setting: string, value: string): ConvergenceJudge {
  return {
    moduleId: 'azureiotsecurity',
    converged(twin) {
      const reported = (twin.reported.value[KEY] as Record<string, { value?: unknown }> | undefined)?.[
        setting
      ]?.value;
      return typeof reported === 'string' && reported.toLowerCase() === value.toLowerCase();
    },
  };
}

/** The IoT Plug and Play device acknowledges `property` at `value` with ac 200, at the desired version written. */
export function pnpAcknowledges(property: string, value: unknown): ConvergenceJudge {
  return {
    moduleId: undefined,
    converged(twin) {
      if (twin.desired.value[property] !== value) return false;
      const ack = twin.reported.value[property] as
        | { value?: unknown; ac?: unknown; av?: unknown }
        | undefined;
      const written = lastUpdatedVersionAt(twin.desired, [property]) ?? 0;
      return ack?.ac === 200 && ack.value === value && typeof ack.av === 'number' && ack.av >= written;
    },
  };
}

export class ConvergenceTracker {
  private readonly convergedAt = new Map<string, number>();
  private startedAt = 0;
  private active = false;
  firstWriteAt: number | undefined;

  constructor(emulator: RunningEmulator, judge: ConvergenceJudge) {
    emulator.hub.store.onChange(({ record, previous, next }) => {
      if (!this.active || record.moduleId !== judge.moduleId || !next) return;
      const now = performance.now();
      if (this.firstWriteAt === undefined && previous && previous.desired !== next.desired)
        this.firstWriteAt = now;
      if (!this.convergedAt.has(record.deviceId) && judge.converged(next))
        this.convergedAt.set(record.deviceId, now);
    });
  }

  /** Starts a measurement. */
  begin(): void {
    this.convergedAt.clear();
    this.firstWriteAt = undefined;
    this.startedAt = performance.now();
    this.active = true;
  }

  stop(): void {
    this.active = false;
  }

  get converged(): number {
    return this.convergedAt.size;
  }

  /** Seconds from the start to the last device converging, and to the first twin write. */
  figures(): { lastConvergedS?: number; firstWriteS?: number } {
    const times = [...this.convergedAt.values()];
    return {
      lastConvergedS: times.length ? (Math.max(...times) - this.startedAt) / 1000 : undefined,
      firstWriteS: this.firstWriteAt === undefined ? undefined : (this.firstWriteAt - this.startedAt) / 1000,
    };
  }

  /** Devices converged over time: [seconds, count], one point per `stepS`. */
  timeline(stepS = 0.1): [number, number][] {
    const times = [...this.convergedAt.values()]
      .map((t) => (t - this.startedAt) / 1000)
      .sort((a, b) => a - b);
    const points: [number, number][] = [[0, 0]];
    let i = 0;
    const end = times.length ? times[times.length - 1] : 0;
    for (let t = stepS; t <= end + stepS; t += stepS) {
      while (i < times.length && times[i] <= t) i++;
      points.push([Number(t.toFixed(3)), i]);
    }
    return points;
  }
}
