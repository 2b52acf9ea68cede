// Errors of the hub client as values a caller can act on: a kind, the HTTP status and the hub's error code
// when there was an answer, and a message that names the hub and the cause, never a key or a signature.
import { redactSecrets } from '../observability/redact.js';
import { HUB_ERROR_NAMES, HUB_ERROR_NUMBERS } from '../protocol/error-codes.js';
import { type HubDataAction, type HubRole, roleToAssign } from '../protocol/iot-hub-roles.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { httpStatusOf } from '../runtime/http-status.js';
import { isTransientSocketError } from '../runtime/socket-errors.js';
import { AbortedError } from '../runtime/stop.js';
import type { CredentialProblem } from './token-credential.js';

/**
 * What a caller can do about an error. Whether the client itself retries is decided by the status (see
 * `isRetryable` in retry.ts), not by the kind:
 * - `Throttled`: the hub refused for quota. A 429 is a rate limit the client waits out and retries (with the
 *   hub's Retry-After); a 403 `IotHubQuotaExceeded` (403002) is the hub's daily message quota, used up until
 *   it resets at 00:00 UTC or the hub gets more units, and is final: nothing within a reconcile helps. Both are
 *   `Throttled` because both say "the hub's quota, not this request, is the problem"; tell them apart by
 *   `statusCode` (and `hubErrorCode`).
 * - `InvalidArgument`: the request cannot succeed as sent, e.g. a device that already has the most modules a
 *   device may have (413 `TooManyModulesOnDevice`) or a twin over its size limits (403100).
 * - `Cancelled`: the caller's abort signal fired. When the request had been sent, its outcome is unknown (see
 *   hub-client-api.ts).
 */
export type HubErrorKind =
  /** 403 IotHubUnauthorizedAccess: the Entra identity lacks the role granting the call's data action. */
  | 'Forbidden'
  /** Microsoft Entra ID gave no token: the ServiceAccount token file cannot be read, or the authority refused. */
  | 'CredentialRefused'
  | 'NotFound'
  | 'PreconditionFailed'
  | 'Throttled'
  | 'Unauthorized'
  | 'InvalidArgument'
  | 'Transient'
  | 'Cancelled'
  | 'Configuration';

export interface HubErrorDetails {
  kind: HubErrorKind;
  message: string;
  hubName?: string;
  statusCode?: number;
  /** The hub's numeric code, e.g. 412001, when the answer named a code we know the number of. */
  hubErrorCode?: number;
  /** The hub's code name, e.g. `PreconditionFailed` (the SDK's `ErrorCode:<name>;`). */
  hubErrorName?: string;
  /** A socket or TLS error code such as ECONNRESET or DEPTH_ZERO_SELF_SIGNED_CERT. */
  networkCode?: string;
  /** The wait the hub asked for (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  /** CredentialRefused: which problem, for the status reason. */
  credentialProblem?: CredentialProblem;
  /** Forbidden: the role that grants the call's data action. */
  roleToAssign?: HubRole;
}

export class HubError extends Error {
  readonly kind: HubErrorKind;
  readonly hubName?: string;
  readonly statusCode?: number;
  readonly hubErrorCode?: number;
  readonly hubErrorName?: string;
  readonly networkCode?: string;
  readonly retryAfterMs?: number;
  readonly credentialProblem?: CredentialProblem;
  readonly roleToAssign?: HubRole;

  constructor(details: HubErrorDetails) {
    // Messages are built without secrets; redacting again guards against a hub text that echoes one.
    super(redactSecrets(details.message));
    this.name = 'HubError';
    this.kind = details.kind;
    this.hubName = details.hubName;
    this.statusCode = details.statusCode;
    this.hubErrorCode = details.hubErrorCode;
    this.hubErrorName = details.hubErrorName;
    this.networkCode = details.networkCode;
    this.retryAfterMs = details.retryAfterMs;
    this.credentialProblem = details.credentialProblem;
    this.roleToAssign = details.roleToAssign;
  }

  /** The same error with another message, e.g. with the operation that failed in front. */
  withMessage(message: string): HubError {
    return new HubError({ ...this.details(), message });
  }

  details(): HubErrorDetails {
    return {
      kind: this.kind,
      message: this.message,
      hubName: this.hubName,
      statusCode: this.statusCode,
      hubErrorCode: this.hubErrorCode,
      hubErrorName: this.hubErrorName,
      networkCode: this.networkCode,
      retryAfterMs: this.retryAfterMs,
      credentialProblem: this.credentialProblem,
      roleToAssign: this.roleToAssign,
    };
  }
}

export function isHubError(error: unknown, kind?: HubErrorKind): error is HubError {
  return error instanceof HubError && (kind === undefined || error.kind === kind);
}

export function cancelledError(what: string, hubName?: string): HubError {
  return new HubError({ kind: 'Cancelled', hubName, message: `${what} was cancelled` });
}

/** Numbers of the hub error codes this client meets (Microsoft.Azure.Devices ErrorCode). */

export interface ParsedHubErrorBody {
  name?: string;
  code?: number;
  text?: string;
}

/**
 * The code and text of an error body. The hub has answered in three shapes over the years:
 * `{"Message":"ErrorCode:<Name>;<text>"}` (what the SDK parses), `{"Message":"{\"errorCode\":412001,...}"}`
 * and a top-level `{"ErrorCode":...,"Message":...}`; all are read.
 */
export function parseHubErrorBody(body: unknown): ParsedHubErrorBody {
  const json = typeof body === 'string' ? tryJson(body) : body;
  if (json === null || typeof json !== 'object') return {};
  const record = json as Record<string, unknown>;
  const message = record.Message ?? record.message;
  const result: ParsedHubErrorBody = {};
  if (typeof message === 'string') {
    const coded = /^ErrorCode:([^;]+);([\s\S]*)$/.exec(message);
    const nested = coded ? undefined : tryJson(message);
    if (coded) {
      result.name = coded[1].trim();
      result.text = coded[2].trim();
    } else if (nested !== null && typeof nested === 'object') {
      Object.assign(result, parseHubErrorBody(nested));
    } else {
      result.text = message;
    }
  }
  const topCode = record.ErrorCode ?? record.errorCode;
  if (typeof topCode === 'number') result.code = topCode;
  if (typeof topCode === 'string' && result.name === undefined) {
    if (/^\d+$/.test(topCode)) result.code = Number(topCode);
    else result.name = topCode;
  }
  if (result.name !== undefined && /^\d+$/.test(result.name)) {
    result.code = Number(result.name);
    result.name = undefined;
  }
  if (result.code === undefined && result.name !== undefined) result.code = HUB_ERROR_NUMBERS[result.name];
  if (result.name === undefined && result.code !== undefined) result.name = HUB_ERROR_NAMES.get(result.code);
  return result;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Where an error happened, for its message. */
export interface ErrorContext {
  hubName: string;
  /** What was being done, e.g. `patching the module twin of device d1`. */
  action: string;
  /** The shared access policy the client signs with (a name, never a key). */
  policyName?: string;
  /** When the connection string's own signature expires (epoch ms), for connection strings that carry one. */
  credentialExpiresAt?: number;
  /** The Microsoft Entra credential the client uses, described without secrets (for a token credential). */
  credential?: string;
  /** The data action the call needs, for a 403 to name the role that grants it. */
  dataAction?: HubDataAction;
  /**
   * The client's clock, to turn an HTTP-date Retry-After into a wait and to tell whether the signature above has
   * expired; the system clock when omitted.
   */
  clock?: Pick<Clock, 'now'>;
}

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  response?: { statusCode?: unknown; headers?: Record<string, unknown> };
  responseBody?: unknown;
}

/** Retry-After in delta-seconds or as an HTTP-date; a date is measured from `now`, the client's clock. */
function retryAfterMsOf(headers: Record<string, unknown> | undefined, now: number): number | undefined {
  const value = headers?.['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The hub's words for a Microsoft Entra identity it knows but whose roles do not grant the call: a 401
 * IotHubUnauthorized ("Principal ... is not authorized for POST on /devices/query due to no assigned permissions",
 * as Azure IoT Hub answers), not a refused credential.
 */
const NO_ASSIGNED_PERMISSIONS = /\bis not authorized for \S+ on \S+ due to no assigned permissions\b/i;

function kindOfStatus(status: number, name: string | undefined, text: string | undefined): HubErrorKind {
  switch (status) {
    case 401:
      return text !== undefined && NO_ASSIGNED_PERMISSIONS.test(text) ? 'Forbidden' : 'Unauthorized';
    case 403:
      // 403 is the hub's daily quota (403002; not retried, see HubErrorKind), a role missing for an Entra
      // identity (IotHubUnauthorizedAccess, as some answer it) or a twin over its size limits (403100).
      if (name === 'IotHubUnauthorizedAccess') return 'Forbidden';
      return name === 'IotHubQuotaExceeded' ? 'Throttled' : 'InvalidArgument';
    case 413:
      // A body over the size limit (413001), or a device that already has the most modules (413003).
      return 'InvalidArgument';
    case 404:
      return 'NotFound';
    // 409 (already exists) never leaves the client: ensureSecurityModule answers 'existed'. Like 412 it
    // means "the hub's state is not what you assumed".
    case 409:
    case 412:
      return 'PreconditionFailed';
    case 408:
    case 429:
      return status === 429 ? 'Throttled' : 'Transient';
    default:
      return status >= 500 ? 'Transient' : 'InvalidArgument';
  }
}

/**
 * What to do about hub codes whose own text does not say it, by code name; these answers are final, so the
 * message must say that waiting and retrying will not help. By name only: a body that gives just a number is
 * named through protocol/error-codes.ts when that lists the number (and is InvalidArgument by status anyway).
 */
const CAUSES: Readonly<Record<string, string>> = {
  TooManyModulesOnDevice:
    'the device already has the most modules IoT Hub allows on one device (50); remove a module it no longer uses, then reconcile again (retrying will not help)',
  IotHubQuotaExceeded:
    "the hub's daily message quota is used up (twin reads, writes and queries count against it); it refreshes at the next UTC day (00:00 UTC), or add units to the hub (not retried: waiting within a reconcile will not help)",
};

function unauthorizedCause(context: ErrorContext, now: number): string {
  if (context.credential !== undefined)
    return `the hub refused the Microsoft Entra ID token of ${context.credential}: the hub is in another tenant, or the token expired or is not for IoT Hub`;
  if (context.credentialExpiresAt !== undefined && context.credentialExpiresAt <= now) {
    return `the shared access signature in the connection string expired at ${new Date(context.credentialExpiresAt).toISOString()}`;
  }
  const policy = context.policyName ? `policy '${context.policyName}'` : 'the connection string';
  return `the hub rejected the credentials of ${policy}: the key is wrong, or the policy was deleted or its keys regenerated (revoked), or it lacks the registry permissions`;
}

/** @azure/identity's errors: the credential could not get a token (MSAL's own errors are wrapped in these). */
const IDENTITY_ERRORS = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'CredentialUnavailableError',
]);
const FILE_ERROR = /\b(ENOENT|EACCES|EISDIR|ENOTDIR|EPERM)\b/;

/**
 * A token credential's failure: the token file unreadable, the authority's refusal (its AADSTS code and text,
 * which never hold a secret; the trace and correlation ids are left out), or an authority that did not answer.
 */
function tokenCredentialError(error: unknown, context: ErrorContext, where: string): HubError | undefined {
  const sdk = (error ?? {}) as SdkErrorShape;
  if (typeof sdk.name !== 'string' || !IDENTITY_ERRORS.has(sdk.name)) return undefined;
  const message = typeof sdk.message === 'string' ? sdk.message : '';
  const who = context.credential ?? 'the Microsoft Entra credential';
  const file = FILE_ERROR.exec(message);
  if (file)
    return new HubError({
      kind: 'CredentialRefused',
      hubName: context.hubName,
      credentialProblem: 'TokenFileUnreadable',
      message: `${where} failed: the ServiceAccount token file of ${who} cannot be read (${message.split('\n')[0]}); check the projected token volume and AZURE_FEDERATED_TOKEN_FILE`,
    });
  const refusal = /AADSTS\d+:.*?(?= Trace ID:|\r|\n|$)/.exec(message);
  if (refusal)
    return new HubError({
      kind: 'CredentialRefused',
      hubName: context.hubName,
      credentialProblem: 'AuthorityRefused',
      message: `${where} failed: Microsoft Entra ID refused ${who}: ${refusal[0].trim()}`,
    });
  return new HubError({
    kind: 'Transient',
    hubName: context.hubName,
    message: `${where} failed: no token from the Microsoft Entra authority for ${who}: ${message.split('\n')[0]}`,
  });
}

/** Maps whatever the SDK, the socket or our own code threw into a HubError with a message for people. */
export function toHubError(error: unknown, context: ErrorContext): HubError {
  if (error instanceof HubError) return error;
  const sdk = (error ?? {}) as SdkErrorShape;
  const where = `${context.action} on hub ${context.hubName}`;
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const now = (context.clock ?? systemClock).now();
    const parsed = parseHubErrorBody(sdk.responseBody);
    const kind = kindOfStatus(status, parsed.name, parsed.text);
    const code = parsed.name ? ` ${parsed.name}` : '';
    const cause = parsed.name !== undefined && Object.hasOwn(CAUSES, parsed.name) ? CAUSES[parsed.name] : '';
    const role = kind === 'Forbidden' && context.dataAction ? roleToAssign(context.dataAction) : undefined;
    const text =
      kind === 'Unauthorized'
        ? unauthorizedCause(context, now)
        : role
          ? `${context.credential ?? 'the identity'} lacks data action ${context.dataAction} on the hub: assign it the role '${role}' (or IoT Hub Data Contributor) on the hub${parsed.text ? ` (the hub said: ${parsed.text})` : ''}`
          : cause
            ? `${cause}${parsed.text ? ` (the hub said: ${parsed.text})` : ''}`
            : (parsed.text ?? '');
    return new HubError({
      kind,
      hubName: context.hubName,
      statusCode: status,
      hubErrorCode: parsed.code,
      hubErrorName: parsed.name,
      retryAfterMs: retryAfterMsOf(sdk.response?.headers, now),
      roleToAssign: role,
      message: `${where} failed (${status}${code})${text ? `: ${text}` : ''}`,
    });
  }
  const credentialError = tokenCredentialError(error, context, where);
  if (credentialError) return credentialError;
  const networkCode = typeof sdk.code === 'string' ? sdk.code : undefined;
  const rawMessage = typeof sdk.message === 'string' ? sdk.message : String(error);
  if (error instanceof AbortedError || sdk.name === 'AbortError')
    return cancelledError(where, context.hubName);
  if (networkCode === 'ENOTFOUND') {
    return new HubError({
      kind: 'Configuration',
      hubName: context.hubName,
      networkCode,
      message: `${where} failed: the host name ${context.hubName} does not resolve (ENOTFOUND); check HostName in the connection string`,
    });
  }
  if (networkCode !== undefined && TLS_TRUST_CODES.has(networkCode)) {
    return new HubError({
      kind: 'Configuration',
      hubName: context.hubName,
      networkCode,
      message: `${where} failed: the hub's TLS certificate is not trusted (${networkCode}); give the hub's CA bundle (ca) rather than turning verification off`,
    });
  }
  if (isTransientSocketError(networkCode) || /socket hang up/i.test(rawMessage)) {
    return new HubError({
      kind: 'Transient',
      hubName: context.hubName,
      networkCode: networkCode ?? 'ECONNRESET',
      message: `${where} failed: network error (${networkCode ?? rawMessage})`,
    });
  }
  const sdkName = typeof sdk.name === 'string' ? sdk.name : '';
  if (sdkName === 'ReferenceError' || sdkName === 'ArgumentError' || sdkName === 'TypeError') {
    return new HubError({
      kind: 'InvalidArgument',
      hubName: context.hubName,
      message: `${where} failed: ${rawMessage}`,
    });
  }
  return new HubError({
    kind: 'Transient',
    hubName: context.hubName,
    networkCode,
    message: `${where} failed: ${rawMessage}`,
  });
}

/**
 * Whether a failed call of a whole reconcile is worth retrying as it is (the hub unreachable, throttled, a
 * transient fault), or stops until something changes: the credentials (Unauthorized) or the connection settings
 * (Configuration). The controller backs off on the first and waits for a change of the IoTHub or its Secret on
 * the second.
 */
export function needsChangeToRecover(error: unknown): boolean {
  return isHubError(error, 'Unauthorized') || isHubError(error, 'Configuration');
}
