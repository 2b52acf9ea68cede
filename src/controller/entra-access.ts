// What the operator's administrator allows IoTHubs to do with Microsoft Entra ID. An IoTHub is written by whoever may
// create one, so nothing that decides where a token goes comes from it: the authority, its CA and the ServiceAccount
// token file are the operator's (flags, or the environment AKS workload identity sets), a token is only ever sent to
// a host the administrator listed, and the operator's own identity (WorkloadIdentity, ManagedIdentity) only serves
// the namespaces the administrator named. Pure: the settings are read once at start (run.ts).
import type { HubAuth } from '../api/generated/types.js';

export const DEFAULT_ENTRA_HUB_HOSTS = ['*.azure-devices.net'];

export interface EntraSettings {
  /** Host patterns a token may be sent to: `*` stands for one or more host characters, or any port after `:`. */
  hubHosts: readonly string[];
  /** Namespaces whose IoTHubs may use the operator's own identity; none by default. */
  identityNamespaces: readonly string[];
  /** The authority host (https://login.microsoftonline.com when absent). */
  authorityHost?: string;
  /** PEM CA bundle the authority's (and the managed identity endpoint's) TLS certificate is checked against too. */
  authorityCa?: string;
  /** The projected ServiceAccount token workload identity exchanges (AZURE_FEDERATED_TOKEN_FILE). */
  tokenFilePath?: string;
}

export const DEFAULT_ENTRA_SETTINGS: EntraSettings = {
  hubHosts: DEFAULT_ENTRA_HUB_HOSTS,
  identityNamespaces: [],
};

const HOST_CHARACTERS = '[A-Za-z0-9.-]+';

function patternRegExp(pattern: string): RegExp {
  const [host, port] = pattern.split(':', 2);
  const literal = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const hostPart = host.split('*').map(literal).join(HOST_CHARACTERS);
  const portPart = port === undefined ? '' : port === '*' ? ':[0-9]+' : `:${literal(port)}`;
  return new RegExp(`^${hostPart}${portPart}$`, 'i');
}

/** A problem in a host pattern given to --entra-hub-hosts, or undefined. */
/** What --entra-authority-host takes: an https:// URL (the chart's values schema uses it too). */
export const AUTHORITY_HOST_URL = /^https:\/\/[^\s/]+/;

/** What --entra-hub-hosts takes (the chart's values schema uses it too). */
export const HOST_PATTERN = /^[A-Za-z0-9.*-]+(:([0-9]{1,5}|\*))?$/;

export function hostPatternError(pattern: string): string | undefined {
  if (!HOST_PATTERN.test(pattern))
    return `'${pattern}' is not a host pattern such as *.azure-devices.net, localhost:* or host:8443`;
  return undefined;
}

export function hubHostAllowed(hostName: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => patternRegExp(pattern).test(hostName));
}

/** Kinds that authenticate as the operator itself rather than with a Secret of the IoTHub's namespace. */
const OPERATOR_IDENTITY: ReadonlySet<HubAuth['kind']> = new Set(['WorkloadIdentity', 'ManagedIdentity']);

export type EntraRefusal = { reason: 'HubHostNotAllowed' | 'IdentityNotAllowed'; message: string };

/** Why this IoTHub may not get a token credential from the operator, or undefined when it may. */
export function entraRefusal(
  settings: EntraSettings,
  kind: HubAuth['kind'],
  namespace: string,
  hostName: string,
): EntraRefusal | undefined {
  if (!hubHostAllowed(hostName, settings.hubHosts))
    return {
      reason: 'HubHostNotAllowed',
      message: `spec.hostName ${hostName} matches none of the operator's --entra-hub-hosts (${settings.hubHosts.join(', ')}): no Microsoft Entra token is sent to it`,
    };
  if (OPERATOR_IDENTITY.has(kind) && !settings.identityNamespaces.includes(namespace))
    return {
      reason: 'IdentityNotAllowed',
      message: `auth.kind ${kind} uses the operator's own identity, which namespace ${namespace} is not in --entra-namespaces for`,
    };
  return undefined;
}
