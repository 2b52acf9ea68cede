// The failures a resource's status lists: at most MAX_REPORTED_FAILURES, shared among the reasons present, so that
// many devices failing one way (hundreds stalled) cannot hide the few failing another (the rejection the Ready
// condition points to). Each reason keeps its first devices by id; the sample is listed by device id.
import type { Reason } from '../api/reasons.js';
import type { DeviceFailure } from './types.js';

export const MAX_REPORTED_FAILURES = 20;

const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The order reasons take their turns in: rejections first (the Ready message quotes one), then by name. */
const byTurn = (a: Reason, b: Reason) =>
  Number(b === 'DeviceRejected') - Number(a === 'DeviceRejected') || compareIds(a, b);

export class FailureSample {
  private readonly byReason = new Map<Reason, DeviceFailure[]>();

  constructor(private readonly limit = MAX_REPORTED_FAILURES) {}

  /**
   * Keeps the failure if it is among the first `limit` of its reason by device id. `failure` may be a function:
   * its message is only made for a device that is kept (a stalled device's message reads its twin).
   */
  add(deviceId: string, reason: Reason, failure: DeviceFailure | (() => DeviceFailure)): void {
    let kept = this.byReason.get(reason);
    if (!kept) {
      kept = [];
      this.byReason.set(reason, kept);
    }
    if (kept.length >= this.limit && compareIds(deviceId, kept[kept.length - 1].deviceId) >= 0) return;
    const made = typeof failure === 'function' ? failure() : failure;
    let at = kept.length;
    while (at > 0 && compareIds(kept[at - 1].deviceId, deviceId) > 0) at--;
    kept.splice(at, 0, made);
    if (kept.length > this.limit) kept.pop();
  }

  /** The failure of the lowest device id with this reason, whatever the sample leaves out. */
  first(reason: Reason): DeviceFailure | undefined {
    return this.byReason.get(reason)?.[0];
  }

  /**
   * At most `limit` failures: the reasons present take one each in turn until the limit or their failures run
   * out, so that every reason shows (as long as there are fewer reasons than the limit), by device id.
   */
  list(): DeviceFailure[] {
    const reasons = [...this.byReason.keys()].sort(byTurn);
    const taken = new Map(reasons.map((r) => [r, 0]));
    let left = this.limit;
    for (let more = true; more && left > 0; ) {
      more = false;
      for (const reason of reasons) {
        if (left === 0) break;
        const count = taken.get(reason)!;
        if (count >= this.byReason.get(reason)!.length) continue;
        taken.set(reason, count + 1);
        left--;
        more = true;
      }
    }
    return reasons
      .flatMap((r) => this.byReason.get(r)!.slice(0, taken.get(r)))
      .sort((a, b) => compareIds(a.deviceId, b.deviceId) || compareIds(a.reason, b.reason));
  }
}
