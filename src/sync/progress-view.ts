// Progress while `sync --wait` waits: a bar per resource on a terminal, a line per change otherwise.
import type { CommandIo } from '../observability/command-output.js';
import type { ResourceReport } from '../planner/resource-report.js';

const WIDTH = 30;

function bar(report: ResourceReport): string {
  const c = report.counts;
  const total = Math.max(c.targetedDevices, 1);
  const done = Math.round((c.convergedDevices / total) * WIDTH);
  const offline = Math.round((c.offlineDevices / total) * WIDTH);
  const filled = '#'.repeat(done) + 'o'.repeat(Math.min(offline, WIDTH - done));
  return `[${filled.padEnd(WIDTH, '-')}] ${c.convergedDevices}/${c.targetedDevices} converged, ${c.pendingDevices} pending, ${c.offlineDevices} offline${c.stalledDevices ? `, ${c.stalledDevices} stalled` : ''}${c.failedDevices ? `, ${c.failedDevices} failed` : ''}${report.retryingDevices ? ` (${report.retryingDevices} retrying)` : ''}`;
}

export class ProgressView {
  private drawnLines = 0;
  private lastPlain = '';
  private lastPlainAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly io: CommandIo,
    private readonly stream: (text: string) => void = (t) => process.stderr.write(t),
  ) {}

  update(reports: ResourceReport[], elapsedMs: number): void {
    const width = Math.max(...reports.map((r) => r.resourceKey.length), 8);
    const lines = reports.map((r) => `${r.resourceKey.padEnd(width)} ${bar(r)}`);
    if (this.io.isTerminal) {
      const up = this.drawnLines ? `\x1b[${this.drawnLines}A` : '';
      this.stream(
        `${up}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n\x1b[2Kwaiting ${Math.round(elapsedMs / 1000)}s\n`,
      );
      this.drawnLines = lines.length + 1;
      return;
    }
    // Without a terminal: the state when it changed, at most every 5 s, so that logs stay readable.
    const plain = lines.join('\n');
    if (plain !== this.lastPlain && elapsedMs - this.lastPlainAt >= 5000) {
      this.lastPlainAt = elapsedMs;
      for (const line of lines) this.io.err(`${Math.round(elapsedMs / 1000)}s ${line}`);
      this.lastPlain = plain;
    }
  }
}
