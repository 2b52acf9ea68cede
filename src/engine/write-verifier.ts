// Reads the agents' answers while a long run of twin writes goes on. Queries and twin reads have quotas of their
// own, separate from twin updates, so checking the twins written a moment ago costs the writes nothing; at the end
// only the last moment's writes are left to check, and the wait for convergence follows the last write at once
// instead of starting then.
import type { HubAccess } from '../hub/hub-client-api.js';
import { type Clock, pause, systemClock } from '../runtime/clock.js';
import type { TwinSlot } from '../twins/types.js';
import type { FleetSnapshot } from './fleet-snapshot.js';

export interface WriteVerifierOptions {
  /** How often it checks (1 s). */
  everyMs?: number;
  /** A twin is checked once it was written this long ago (agents answer in about that time at best: 100 ms). */
  minAgeMs?: number;
  /** Twins checked at most per round (enough for a second of writes at the highest quotas). */
  maxPerRound?: number;
  clock?: Clock;
  /** Abandons a check in flight. */
  abort?: AbortSignal;
}

export class WriteVerifier {
  private readonly pending: { slot: TwinSlot; deviceId: string; at: number; version?: number }[] = [];
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  /** Twins read back, for tests and telemetry. */
  checked = 0;

  constructor(
    private readonly access: HubAccess,
    private readonly snapshot: FleetSnapshot,
    private readonly options: WriteVerifierOptions = {},
  ) {}

  /** A twin was written (the hub returned it at `version`). */
  written(slot: TwinSlot, deviceId: string, version: number | undefined): void {
    this.pending.push({ slot, deviceId, at: (this.options.clock ?? systemClock).now(), version });
    this.loop ??= this.run();
  }

  /** Stops checking; resolves when a check in flight has ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const clock = this.options.clock ?? systemClock;
    const everyMs = this.options.everyMs ?? 1000;
    const minAgeMs = this.options.minAgeMs ?? 100;
    const maxPerRound = this.options.maxPerRound ?? 2000;
    while (await pause(clock, everyMs, this.stopping.signal)) {
      const now = clock.now();
      const due: typeof this.pending = [];
      while (this.pending.length && due.length < maxPerRound && now - this.pending[0].at >= minAgeMs)
        due.push(this.pending.shift()!);
      if (due.length === 0) continue;
      try {
        for (const slot of new Set(due.map((d) => d.slot))) {
          const ofSlot = due.filter((d) => d.slot === slot);
          const fresh = await this.access.readTwins(
            slot,
            ofSlot.map((d) => d.deviceId),
            { abort: this.options.abort, fleetSize: this.snapshot.twins.get(slot)?.size ?? 0 },
          );
          this.checked += ofSlot.length;
          this.snapshot.takeCheck(slot, fresh, ofSlot);
        }
      } catch {
        // A failed check costs nothing: the next step re-reads what is still unsettled.
      }
    }
  }
}
