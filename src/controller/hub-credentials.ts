// From an IoTHub resource to the credentials of its hub: the Secrets it names, in its own namespace only (a
// resource never reaches another namespace's credentials), read from the informer cache. Every failure has a
// reason a person can act on, and no message ever holds a key.
import type { HubCredentials } from '../hub/client-options.js';
import { parseHubConnectionString } from '../hub/connection-string.js';
import type { HubObject, SecretObject } from './kube-objects.js';

export type CredentialsProblem = 'SecretNotFound' | 'SecretKeyMissing' | 'InvalidConnectionString';

export type CredentialsResult =
  | { ok: true; credentials: HubCredentials; hostName: string }
  | { ok: false; reason: CredentialsProblem; message: string };

export type SecretLookup = (namespace: string, name: string) => SecretObject | undefined;

function secretValue(
  lookup: SecretLookup,
  namespace: string,
  ref: { name: string; key?: string },
  defaultKey: string,
  what: string,
): { ok: true; value: string } | { ok: false; reason: CredentialsProblem; message: string } {
  const secret = lookup(namespace, ref.name);
  const key = ref.key ?? defaultKey;
  if (!secret)
    return {
      ok: false,
      reason: 'SecretNotFound',
      message: `Secret ${namespace}/${ref.name} (${what}) does not exist in the IoTHub's namespace`,
    };
  const encoded = secret.data?.[key];
  if (encoded === undefined)
    return {
      ok: false,
      reason: 'SecretKeyMissing',
      message: `Secret ${namespace}/${ref.name} has no key '${key}' (${what}); it has ${
        Object.keys(secret.data ?? {})
          .sort()
          .join(', ') || 'no keys'
      }`,
    };
  return { ok: true, value: Buffer.from(encoded, 'base64').toString('utf8').trim() };
}

export function resolveHubCredentials(hub: HubObject, lookup: SecretLookup): CredentialsResult {
  const namespace = hub.metadata.namespace;
  const connection = secretValue(
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
    const bundle = secretValue(lookup, namespace, hub.spec.caSecretRef, 'ca.crt', 'the CA bundle');
    if (!bundle.ok) return bundle;
    ca = bundle.value;
  }
  return { ok: true, credentials: { connectionString: connection.value, ca }, hostName };
}
