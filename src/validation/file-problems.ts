// The problems of one file found before its resources are judged (its YAML, its size, its bytes), capped: a
// garbled file has one at every character, and a terminal is no place for 200,000 lines.
import type { LineCounter } from 'yaml';
import { MAX_ECHOED_MESSAGE_LENGTH, MAX_SYNTAX_PROBLEMS_PER_FILE } from './input-limits.js';
import type { SourcePosition } from './source-document.js';

export interface SyntaxProblem {
  file: string;
  position: SourcePosition;
  message: string;
  /** What the problem is about: `(syntax)` unless said; `(file)`, `(document)` for their size or bytes. */
  field?: string;
}

/** The first line of a parser's message, shortened: it may quote a whole line of the file. */
export function parserMessage(message: string): string {
  const first = message.split('\n')[0];
  return first.length <= MAX_ECHOED_MESSAGE_LENGTH
    ? first
    : `${first.slice(0, MAX_ECHOED_MESSAGE_LENGTH)}...`;
}

export class FileProblems {
  private readonly shown: SyntaxProblem[] = [];
  private hidden = 0;

  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  add(offset: number, message: string, field?: string): void {
    if (this.shown.length >= MAX_SYNTAX_PROBLEMS_PER_FILE) this.hidden++;
    else this.shown.push({ ...this.at(offset, message), ...(field && { field }) });
  }

  /** The last problem, shown whatever the count: reading the file stops here. */
  stop(offset: number, why: string): void {
    this.shown.push(this.at(offset, `${why}; the rest of the file is not read`));
  }

  /** The problems shown, and how many were not. */
  all(): SyntaxProblem[] {
    if (this.hidden === 0) return this.shown;
    const last = this.shown[MAX_SYNTAX_PROBLEMS_PER_FILE - 1];
    return [
      ...this.shown,
      {
        ...last,
        message: `${this.hidden} more problem${this.hidden === 1 ? '' : 's'} in this file not shown (only the first ${MAX_SYNTAX_PROBLEMS_PER_FILE} are)`,
      },
    ];
  }

  private at(offset: number, message: string): SyntaxProblem {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, position: { line, column: col }, message };
  }
}
