// Every call to the hub goes through here: retry around (rate limit, then transport). Each attempt takes its
// own token, because each attempt the hub sees counts against its quota; a retry that skipped the limiter
// would answer a 429 with more load. Errors become HubErrors, and each call leaves counters and one log line.
import type { Logger } from '../observability/logger.js';
import { dataActionFor, type HubApiOperation } from '../protocol/iot-hub-roles.js';
import type { Clock } from '../runtime/clock.js';
import { cancelledError, type ErrorContext, type HubError, toHubError } from './errors.js';
import type { HubRateLimiter } from './rate-limiter.js';
import type { LimiterClass } from './rate-limits.js';
import { type AttemptOptions, sendAttempt } from './request-abort.js';
import { type RetryOptions, withRetry } from './retry.js';
import type { CallResult, HubTelemetry } from './telemetry.js';

/**
 * Each class of call as the hub's permission table sees it (iot-hub-roles.ts: its data action, on a hub reached
 * with Microsoft Entra ID): the operation and the method.
 */
const AS_HUB_CALL: Record<LimiterClass, [HubApiOperation, string]> = {
  twinRead: ['twinRead', 'GET'],
  twinUpdate: ['twinUpdate', 'PATCH'],
  query: ['query', 'POST'],
  // The client's identity calls create a device's module.
  identity: ['registry', 'PUT'],
  job: ['jobs', 'PUT'],
};

export interface HubCall {
  /** The method name, for logs: `patchModuleTwin`, `query`, ... */
  operation: string;
  limiterClass: LimiterClass;
  /** For messages: `patching the module twin of device d1`. */
  action: string;
  deviceId?: string;
  /** Called just before each attempt is sent (CallOptions.beforeSend): what it throws ends the call. */
  beforeSend?: () => void;
}

interface CallOutcome {
  startedAt: number;
  attempts: number;
  /** Why each retry happened: a status such as 503, or a socket code such as ECONNRESET. */
  retriedAfter: string[];
}

export interface HubPipelineOptions {
  hubName: string;
  limiter: HubRateLimiter;
  clock: Clock;
  retry: RetryOptions;
  telemetry: HubTelemetry;
  logger?: Logger;
  /** Names for error messages (the policy, a signature's expiry); never a key. */
  errorContext?: Omit<ErrorContext, 'hubName' | 'action'>;
  /**
   * An attempt with no answer after this long is abandoned as a network timeout (and retried like one): a hub
   * that accepts connections and never answers must not hold a reconcile forever. 60 s by default.
   */
  attemptTimeoutMs?: number;
}

const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;

/** What an attempt that timed out looks like to the retry policy: a network error, retried. */
function timeoutError(action: string, ms: number): Error {
  return Object.assign(new Error(`${action}: no answer within ${ms / 1000}s`), { code: 'ETIMEDOUT' });
}

export class HubPipeline {
  constructor(private readonly options: HubPipelineOptions) {}

  /** Sends `transport` (given the attempt number) under the limiter, with retries; resolves with its value. */
  async send<T>(
    call: HubCall,
    transport: (attemptNumber: number) => Promise<T>,
    abort?: AbortSignal,
  ): Promise<T> {
    const { clock, limiter, telemetry, hubName } = this.options;
    const context: ErrorContext = {
      ...this.options.errorContext,
      hubName,
      action: call.action,
      dataAction: dataActionFor(...AS_HUB_CALL[call.limiterClass]),
      clock,
    };
    const toError = (error: unknown) => toHubError(error, context);
    const cancelled = () => cancelledError(`${call.action} on hub ${hubName}`, hubName);
    const timeoutMs = this.options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    const attemptOptions: AttemptOptions = {
      abort,
      clock,
      timeoutMs,
      abandoned: (because) => (because === 'cancelled' ? cancelled() : timeoutError(call.action, timeoutMs)),
    };
    // The caller's signal is shared by hundreds of calls: the waits and attempts follow it (follow-signal.ts).
    const outcome: CallOutcome = { startedAt: clock.now(), attempts: 0, retriedAfter: [] };
    try {
      const value = await withRetry(
        async (attemptNumber) => {
          const waitStarted = clock.now();
          const permit = await limiter.acquire(call.limiterClass, { abort });
          telemetry.recordWait(call.limiterClass, clock.now() - waitStarted);
          // After the wait for quota, which may have been long: the last moment the caller can refuse the attempt.
          call.beforeSend?.();
          outcome.attempts = attemptNumber;
          telemetry.recordAttempt(call.limiterClass);
          try {
            // Cancelling or the attempt's deadline stops the wait at once, and ends the HTTP request the attempt
            // sent (request-abort.ts).
            const result = await sendAttempt(() => transport(attemptNumber), attemptOptions);
            limiter.reportSuccess(permit);
            telemetry.recordAnswer(call.limiterClass, 200);
            return result;
          } catch (thrown) {
            const error = toError(thrown);
            if (error.kind !== 'Cancelled')
              telemetry.recordAnswer(call.limiterClass, error.statusCode ?? 'network');
            if (error.statusCode === 429) {
              telemetry.recordThrottled(call.limiterClass);
              limiter.reportThrottled(permit);
            }
            throw error;
          }
        },
        {
          clock,
          options: this.options.retry,
          abort,
          toError,
          onRetry: (error) => {
            telemetry.recordRetry(call.limiterClass);
            outcome.retriedAfter.push(String(error.statusCode ?? error.networkCode ?? error.kind));
          },
        },
      );
      this.finish(call, 'ok', outcome);
      return value;
    } catch (thrown) {
      let error: HubError = toError(thrown);
      if (error.kind === 'Cancelled' || abort?.aborted) error = cancelled();
      this.finish(call, error.kind, outcome, error.statusCode);
      throw error;
    }
  }

  /** Counts the call and writes its one log line: what, on which device, how it ended, after what retries. */
  private finish(call: HubCall, result: CallResult, outcome: CallOutcome, statusCode?: number): void {
    this.options.telemetry.recordCall(call.limiterClass, result);
    // Most runs log at info: the line is not even built then.
    if (!this.options.logger?.isLevelEnabled('debug')) return;
    this.options.logger.debug('hub call', {
      hub: this.options.hubName,
      operation: call.operation,
      class: call.limiterClass,
      deviceId: call.deviceId,
      result,
      statusCode,
      attempts: outcome.attempts,
      retriedAfter: outcome.retriedAfter.length > 0 ? outcome.retriedAfter : undefined,
      durationMs: this.options.clock.now() - outcome.startedAt,
    });
  }
}
