// What the hub sees of a contender, independent of what the contender says of itself: when it first wrote a
// twin, and when each device's agent reported the configuration (from the emulator's own store).
import type { RunningEmulator } from '../../src/emulator/index.js';

const KEY = 'ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration';
const MODULE = 'azureiotsecurity';

export class ConvergenceTracker {
  private readonly convergedAt = new Map<string, number>();
  private startedAt = 0;
  private active = false;
  firstWriteAt: number | undefined;

  constructor(
    emulator: RunningEmulator,
    /** The setting rolled out and its value (compared case-insensitively). */
    private readonly setting: string,
    private value: string,
  ) {
    emulator.hub.store.onChange(({ record, previous, next }) => {
      if (!this.active || record.moduleId !== MODULE || !next) return;
      const now = performance.now();
      if (this.firstWriteAt === undefined && previous && previous.desired !== next.desired)
        this.firstWriteAt = now;
      const reported = (next.reported.value[KEY] as Record<string, { value?: unknown }> | undefined)?.[
        this.setting
      ]?.value;
      if (
        typeof reported === 'string' &&
        reported.toLowerCase() === this.value.toLowerCase() &&
        !this.convergedAt.has(record.deviceId)
      )
        this.convergedAt.set(record.deviceId, now);
    });
  }

  /** Starts a measurement of a rollout of `value`. */
  begin(value = this.value): void {
    this.value = value;
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
