// Progress of an export on a terminal: one line redrawn in place while the hub is read. Nothing is drawn when
// standard error is not a terminal (the command does not create one then).
import type { ReadProgress } from './read-fleet.js';

/** Redraws at most this often: a page of 1,000 devices can take milliseconds on a fast hub. */
const REDRAW_MS = 100;

export class ProgressLine {
  private drawnAt = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly hubName: string,
    /** What the twins read are called: `security module twins`, `device twins`. */
    private readonly twins: string,
    private readonly write: (text: string) => void = (text) => process.stderr.write(text),
    private readonly now: () => number = () => performance.now(),
  ) {}

  reading(progress: ReadProgress): void {
    if (this.now() - this.drawnAt < REDRAW_MS) return;
    const n = (value: number) => value.toLocaleString('en-US');
    this.draw(
      `reading ${this.hubName}: ${n(progress.devices)} devices, ${n(progress.twins)} ${this.twins} (${n(progress.pages)} query page${progress.pages === 1 ? '' : 's'})`,
    );
  }

  /** A step after reading (grouping, searching targets), drawn at once. */
  step(text: string): void {
    this.draw(text);
  }

  /** Clears the line, so that what follows starts on a clean one. */
  done(): void {
    if (this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
  }

  private draw(text: string): void {
    this.write(`\r\x1b[2K${text}`);
    this.drawn = true;
    this.drawnAt = this.now();
  }
}
