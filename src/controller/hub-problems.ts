// Why a hub cannot be used right now, as a reason of the table (src/api/reasons.ts, which says whether waiting can
// help or only a change will) and a message a person can act on. Pure.
import { type Reason, throttlingReason } from '../api/reasons.js';
import { isHubError, needsChangeToRecover } from '../hub/errors.js';
import { formatFieldPath, type ValidationIssue } from '../validation/issues.js';
import { printable } from '../validation/printable-text.js';
import { validateResource } from '../validation/validate-resource.js';
import { asWritten, type HubObject } from './kube-objects.js';

/** The reasons a hub cannot be used for: the IoTHub's own Ready reasons, and its absence. */
export type HubProblemReason = Extract<
  Reason,
  | 'HubNotFound'
  | 'InvalidSpec'
  | 'TierWithoutTwins'
  | 'SecretNotFound'
  | 'SecretKeyMissing'
  | 'SecretUnreadable'
  | 'InvalidConnectionString'
  | 'InvalidHubConfiguration'
  | 'Unauthorized'
  | 'TokenFileUnreadable'
  | 'HubHostNotAllowed'
  | 'IdentityNotAllowed'
  | 'AuthorityRefused'
  | 'HubRoleMissing'
  | 'QuotaExceeded'
  | 'HubThrottled'
  | 'HubUnreachable'
>;

export interface HubProblem {
  reason: HubProblemReason;
  message: string;
  /** The failed call behind it, when the queue should know it (an API server that did not answer: retried when back). */
  cause?: Error;
}

const MAX_MESSAGE_ISSUES = 5;

/** The issues in one line for a condition or Event; control characters in echoed values shown escaped. */
export function issuesText(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, MAX_MESSAGE_ISSUES).map((i) => `${formatFieldPath(i.path)}: ${i.message}`);
  const more = issues.length > MAX_MESSAGE_ISSUES ? `; and ${issues.length - MAX_MESSAGE_ISSUES} more` : '';
  return printable(`${shown.join('; ')}${more}`);
}

/** The IoTHub itself as the shared validator judges it (a Basic tier has no twins). */
export function checkHub(hub: HubObject): HubProblem | undefined {
  const errors = validateResource(asWritten(hub)).issues.filter((i) => i.severity === 'error');
  if (errors.length === 0) return undefined;
  const tier = errors.some((i) => formatFieldPath(i.path) === 'spec.tier');
  return { reason: tier ? 'TierWithoutTwins' : 'InvalidSpec', message: issuesText(errors) };
}

export function hubMissing(hubKey: string): HubProblem {
  return {
    reason: 'HubNotFound',
    message: `IoTHub ${hubKey} does not exist (a resource may only use an IoTHub of its own namespace)`,
  };
}

/** A failed step as a problem: what a person can do about it. */
export function hubProblemOf(error: unknown, hostName: string): HubProblem {
  const message = (error as Error)?.message ?? String(error);
  if (isHubError(error, 'Unauthorized'))
    return { reason: 'Unauthorized', message: `hub ${hostName} refused the credentials: ${message}` };
  if (isHubError(error, 'Forbidden')) return { reason: 'HubRoleMissing', message };
  if (isHubError(error, 'CredentialRefused'))
    return { reason: error.credentialProblem ?? 'AuthorityRefused', message };
  if (needsChangeToRecover(error)) return { reason: 'InvalidHubConfiguration', message };
  if (isHubError(error, 'Throttled')) {
    const reason = throttlingReason(error.statusCode);
    return reason === 'QuotaExceeded'
      ? { reason, message: `hub ${hostName} has used up its daily quota: ${message}` }
      : { reason, message: `hub ${hostName} keeps answering 429: ${message}` };
  }
  return { reason: 'HubUnreachable', message: `hub ${hostName} cannot be reached: ${message}` };
}
