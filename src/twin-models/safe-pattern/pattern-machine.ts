// A pattern compiled to a program that runs in time linear in the value: the threads of a Thompson NFA advance
// together over the value (Pike's VM without captures), so no input makes it backtrack. Each step costs at most
// the program's size, which is bounded when it is compiled.
import { type CodePointTest, PatternError, type PatternNode, parsePattern } from './pattern-syntax.js';

type Instruction =
  | { op: 'char'; test: CodePointTest; next: number }
  | { op: 'split'; x: number; y: number }
  | { op: 'jump'; x: number }
  | { op: 'assert'; kind: 'start' | 'end' | 'wordBoundary' | 'notWordBoundary'; next: number }
  | { op: 'match' };

/** Instructions `node` compiles to; stops counting past `limit`. */
function sizeOf(node: PatternNode, limit: number): number {
  switch (node.t) {
    case 'char':
    case 'assert':
      return 1;
    case 'seq': {
      let total = 0;
      for (const item of node.items) {
        total += sizeOf(item, limit);
        if (total > limit) return total;
      }
      return total;
    }
    case 'alt': {
      let total = 2 * (node.options.length - 1);
      for (const option of node.options) {
        total += sizeOf(option, limit);
        if (total > limit) return total;
      }
      return total;
    }
    case 'repeat': {
      const one = sizeOf(node.node, limit);
      const optional = node.max === Number.POSITIVE_INFINITY ? one + 2 : (node.max - node.min) * (one + 1);
      return node.min * one + optional;
    }
  }
}

class Emitter {
  readonly program: Instruction[] = [];

  emit(node: PatternNode): void {
    const p = this.program;
    switch (node.t) {
      case 'char':
        p.push({ op: 'char', test: node.test, next: p.length + 1 });
        return;
      case 'assert':
        p.push({ op: 'assert', kind: node.kind, next: p.length + 1 });
        return;
      case 'seq':
        for (const item of node.items) this.emit(item);
        return;
      case 'alt': {
        const jumps: { op: 'jump'; x: number }[] = [];
        node.options.forEach((option, index) => {
          const last = index === node.options.length - 1;
          const split = last ? undefined : { op: 'split' as const, x: p.length + 1, y: 0 };
          if (split) p.push(split);
          this.emit(option);
          if (!last) {
            const jump = { op: 'jump' as const, x: 0 };
            p.push(jump);
            jumps.push(jump);
            split!.y = p.length;
          }
        });
        for (const jump of jumps) jump.x = p.length;
        return;
      }
      case 'repeat': {
        for (let k = 0; k < node.min; k++) this.emit(node.node);
        if (node.max === Number.POSITIVE_INFINITY) {
          const split = { op: 'split' as const, x: p.length + 1, y: 0 };
          const loop = p.length;
          p.push(split);
          this.emit(node.node);
          p.push({ op: 'jump', x: loop });
          split.y = p.length;
          return;
        }
        const splits: { op: 'split'; x: number; y: number }[] = [];
        for (let k = node.min; k < node.max; k++) {
          const split = { op: 'split' as const, x: p.length + 1, y: 0 };
          p.push(split);
          splits.push(split);
          this.emit(node.node);
        }
        for (const split of splits) split.y = p.length;
        return;
      }
    }
  }
}

const isWordChar = (cp: string | undefined) => cp !== undefined && /^[A-Za-z0-9_]$/.test(cp);

/** Steps left to the patterns run by the judging under way (see `withPatternBudget`). */
let budget = Number.POSITIVE_INFINITY;

export class PatternBudgetExceeded extends Error {}

/**
 * Runs `judge` with at most `steps` steps of pattern matching in all: a value's cost is its length times the
 * threads alive, up to the program's size, so a schema's patterns over a twin's values are bounded in all.
 */
export function withPatternBudget<T>(steps: number, judge: () => T): T {
  const saved = budget;
  budget = steps;
  try {
    return judge();
  } finally {
    budget = saved;
  }
}

export interface SafePattern {
  /** Whether the pattern matches somewhere in `value`, as RegExp.prototype.test does. */
  test(value: string): boolean;
  readonly instructions: number;
}

/** Compiles `pattern`, refusing what the subset does not hold and programs over `maxInstructions`. */
export function compileSafePattern(pattern: string, maxInstructions: number): SafePattern {
  const tree = parsePattern(pattern);
  const size = sizeOf(tree, maxInstructions);
  if (size > maxInstructions) {
    throw new PatternError(
      `it compiles to more than ${maxInstructions} steps per character (its repetition counts multiply)`,
    );
  }
  const emitter = new Emitter();
  emitter.emit(tree);
  emitter.program.push({ op: 'match' });
  const program = emitter.program;
  return { test: (value) => run(program, value), instructions: program.length };
}

function run(program: Instruction[], value: string): boolean {
  const input = Array.from(value);
  const marks = new Int32Array(program.length).fill(-1);
  let current: number[] = [];
  let next: number[] = [];
  const stack: number[] = [];

  /** Adds the thread at `pc` and those it leads to without reading, at position `at`; true on a match. */
  const add = (list: number[], pc: number, at: number): boolean => {
    stack.push(pc);
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (marks[i] === at) continue;
      marks[i] = at;
      const ins = program[i];
      switch (ins.op) {
        case 'match':
          stack.length = 0;
          return true;
        case 'char':
          list.push(i);
          break;
        case 'jump':
          stack.push(ins.x);
          break;
        case 'split':
          stack.push(ins.y, ins.x);
          break;
        case 'assert': {
          let holds: boolean;
          if (ins.kind === 'start') holds = at === 0;
          else if (ins.kind === 'end') holds = at === input.length;
          else {
            const boundary = isWordChar(input[at - 1]) !== isWordChar(input[at]);
            holds = ins.kind === 'wordBoundary' ? boundary : !boundary;
          }
          if (holds) stack.push(ins.next);
          break;
        }
      }
    }
    return false;
  };

  for (let at = 0; ; at++) {
    // A match may start at any position: the first thread is added again at each.
    if (add(current, 0, at)) return true;
    if (at === input.length) return false;
    const cp = input[at];
    budget -= current.length + 1;
    if (budget < 0)
      throw new PatternBudgetExceeded('the patterns of the schema took more steps than allowed');
    for (const pc of current) {
      const ins = program[pc] as { op: 'char'; test: CodePointTest; next: number };
      if (ins.test(cp) && add(next, ins.next, at + 1)) return true;
    }
    [current, next] = [next, current];
    next.length = 0;
  }
}

export { PatternError };
