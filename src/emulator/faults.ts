// Injected faults for tests: a share of requests failing with 429, 500 or 503, added latency, and connections
// reset before the request is handled or in the middle of its response; per operation class, set at start and
// changed at run time.
import { OPERATION_CLASSES, type OperationClass } from '../quotas/index.js';
import { hubErrors } from './errors.js';
import type { Random } from './prng.js';

export interface FaultRule {
  /** Share (0..1) of requests answered with an error instead of being handled. */
  errorRatio?: number;
  /**
   * The errors to answer with, picked at random; 503 by default. 429 is a throttling storm the quotas alone do
   * not cause (the hub's own backlog): `ThrottlingException` with `Retry-After: 1`.
   */
  errorStatuses?: FaultStatus[];
  /** Delay added before handling, fixed or uniform in [min, max] milliseconds. */
  latencyMs?: number | { min: number; max: number };
  /** Share (0..1) of requests handled (the change is made) whose connection is then reset mid-response. */
  resetRatio?: number;
  /** Share (0..1) of requests whose connection is reset before they are handled (nothing changes). */
  dropRatio?: number;
}

export type FaultStatus = 429 | 500 | 503;
const FAULT_STATUSES: readonly number[] = [429, 500, 503];

/** Rules by operation class; `all` applies to classes without their own rule. */
export type FaultConfig = Partial<Record<OperationClass | 'all', FaultRule>>;

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'error'; status: FaultStatus }
  | { kind: 'drop' }
  | { kind: 'reset' };

export interface FaultDecision {
  latencyMs: number;
  action: FaultAction;
}

const NONE: FaultDecision = { latencyMs: 0, action: { kind: 'none' } };

/** Whether a value is a share from 0 to 1: the one rule for every ratio the emulator takes. */
export function isRatio(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

/** Validates a fault configuration from a client; throws the hub's 400 when it is not valid. */
export function checkFaultConfig(config: unknown): FaultConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw hubErrors.argumentInvalid('faults must be an object keyed by operation class or "all"');
  }
  for (const [key, rule] of Object.entries(config)) {
    if (key !== 'all' && !(OPERATION_CLASSES as readonly string[]).includes(key)) {
      throw hubErrors.argumentInvalid(
        `unknown operation class ${key}; use all or ${OPERATION_CLASSES.join(', ')}`,
      );
    }
    if (typeof rule !== 'object' || rule === null)
      throw hubErrors.argumentInvalid(`faults.${key} must be an object`);
    const { errorRatio, errorStatuses, latencyMs, resetRatio, dropRatio } = rule as FaultRule;
    for (const [name, value] of [
      ['errorRatio', errorRatio],
      ['resetRatio', resetRatio],
      ['dropRatio', dropRatio],
    ] as const) {
      if (value !== undefined && !isRatio(value))
        throw hubErrors.argumentInvalid(`faults.${key}.${name} must be a number between 0 and 1`);
    }
    if (
      errorStatuses !== undefined &&
      (!Array.isArray(errorStatuses) || errorStatuses.some((s) => !FAULT_STATUSES.includes(s)))
    ) {
      throw hubErrors.argumentInvalid(`faults.${key}.errorStatuses must list some of 429, 500 and 503`);
    }
    const latencyOk =
      latencyMs === undefined ||
      (typeof latencyMs === 'number' && latencyMs >= 0) ||
      (typeof latencyMs === 'object' &&
        latencyMs !== null &&
        latencyMs.min >= 0 &&
        latencyMs.max >= latencyMs.min);
    if (!latencyOk) throw hubErrors.argumentInvalid(`faults.${key}.latencyMs must be >= 0 or {min, max}`);
  }
  return config as FaultConfig;
}

export class FaultInjector {
  private config: FaultConfig = {};

  constructor(
    private readonly random: Random,
    config: FaultConfig = {},
  ) {
    this.set(config);
  }

  set(config: FaultConfig): void {
    this.config = structuredClone(checkFaultConfig(config));
  }

  get(): FaultConfig {
    return structuredClone(this.config);
  }

  /** What happens to one request of the class. */
  decide(operation: OperationClass): FaultDecision {
    const rule = this.config[operation] ?? this.config.all;
    if (!rule) return NONE;
    const latency = rule.latencyMs;
    const latencyMs =
      latency === undefined
        ? 0
        : typeof latency === 'number'
          ? latency
          : latency.min + this.random() * (latency.max - latency.min);
    if (rule.errorRatio && this.random() < rule.errorRatio) {
      const statuses = rule.errorStatuses?.length ? rule.errorStatuses : [503 as const];
      return {
        latencyMs,
        action: { kind: 'error', status: statuses[Math.floor(this.random() * statuses.length)] },
      };
    }
    if (rule.dropRatio && this.random() < rule.dropRatio) return { latencyMs, action: { kind: 'drop' } };
    if (rule.resetRatio && this.random() < rule.resetRatio) return { latencyMs, action: { kind: 'reset' } };
    return { latencyMs, action: { kind: 'none' } };
  }
}
