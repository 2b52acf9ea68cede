// From an IoTHub resource to the credentials of its hub: the Secrets it names, in its own namespace only (a
// resource never reaches another namespace's credentials), read through a SecretLookup (secret-reader.ts: by GET,
// only the keys asked for). Every failure has a reason a person can act on, and no message ever holds a key.
import type { HubCredentials } from '../hub/client-options.js';
import { parseHubConnectionString } from '../hub/connection-string.js';
import type { HubObject } from './kube-objects.js';
import type { KubeCallError } from './kube-writer.js';
import type { SecretLookup } from './secret-reader.js';

export type { SecretLookup } from './secret-reader.js';

export type CredentialsProblem =
  | 'SecretNotFound'
  | 'SecretKeyMissing'
  | 'SecretUnreadable'
  | 'InvalidConnectionString';

export type CredentialsFailure = {
  ok: false;
  reason: CredentialsProblem;
  message: string;
  /** The failed read, for a Secret the API server did not answer for (the queue retries when it is back). */
  cause?: KubeCallError;
};

export type CredentialsResult =
  | { ok: true; credentials: HubCredentials; hostName: string }
  | CredentialsFailure;

/** The value of one key of a Secret of the IoTHub's namespace (`what` names it in messages: "the CA bundle"). */
export async function secretValue(
  lookup: SecretLookup,
  namespace: string,
  ref: { name: string; key?: string },
  defaultKey: string,
  what: string,
): Promise<{ ok: true; value: string } | CredentialsFailure> {
  const key = ref.key ?? defaultKey;
  const secret = await lookup(namespace, ref.name, [key]);
  if (!secret.found && secret.unreadable)
    return {
      ok: false,
      reason: 'SecretUnreadable',
      message: `${secret.unreadable.message} (${what})`,
      cause: secret.unreadable,
    };
  if (!secret.found)
    return {
      ok: false,
      reason: 'SecretNotFound',
      message: `Secret ${namespace}/${ref.name} (${what}) does not exist in the IoTHub's namespace`,
    };
  const value = secret.values[key];
  if (value === undefined)
    return {
      ok: false,
      reason: 'SecretKeyMissing',
      message: `Secret ${namespace}/${ref.name} has no key '${key}' (${what}); it has ${
        secret.keyNames.join(', ') || 'no keys'
      }`,
    };
  return { ok: true, value: value.trim() };
}

export async function resolveHubCredentials(
  hub: HubObject,
  lookup: SecretLookup,
): Promise<CredentialsResult> {
  const namespace = hub.metadata.namespace;
  const connection = await secretValue(
    lookup,
    namespace,
    hub.spec.connectionStringSecretRef,
    'connectionString',
    'the connection string',
  );
  if (!connection.ok) return connection;
  let hostName: string;
  try {
    hostName = parseHubConnectionString(connection.value).hostName;
  } catch (error) {
    return {
      ok: false,
      reason: 'InvalidConnectionString',
      message: `Secret ${namespace}/${hub.spec.connectionStringSecretRef.name}: ${(error as Error).message}`,
    };
  }
  let ca: string | undefined;
  if (hub.spec.caSecretRef) {
    const bundle = await secretValue(lookup, namespace, hub.spec.caSecretRef, 'ca.crt', 'the CA bundle');
    if (!bundle.ok) return bundle;
    ca = bundle.value;
  }
  return { ok: true, credentials: { connectionString: connection.value, ca }, hostName };
}
