// From an IoTHub resource to the credentials of its hub: the Secrets it names, in its own namespace only (a
// resource never reaches another namespace's credentials), read through a SecretLookup (secret-reader.ts: by GET,
// only the keys asked for). Every failure has a reason a person can act on, and no message ever holds a key.
import type { HubCredentials } from '../hub/client-options.js';
import { parseHubConnectionString } from '../hub/connection-string.js';
import type { HubTokenAuth } from '../hub/token-credential.js';
import { DEFAULT_ENTRA_SETTINGS, type EntraSettings, entraRefusal } from './entra-access.js';
import type { HubObject } from './kube-objects.js';
import type { KubeCallError } from './kube-writer.js';
import type { SecretLookup } from './secret-reader.js';

export type { SecretLookup } from './secret-reader.js';

export type CredentialsProblem =
  | 'SecretNotFound'
  | 'SecretKeyMissing'
  | 'SecretUnreadable'
  | 'InvalidConnectionString'
  | 'TokenFileUnreadable'
  | 'HubHostNotAllowed'
  | 'IdentityNotAllowed';

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

type Resolved<T> = { ok: true; value: T } | CredentialsFailure;

async function connectionStringOf(
  hub: HubObject,
  lookup: SecretLookup,
): Promise<Resolved<{ connectionString: string; hostName: string }>> {
  const namespace = hub.metadata.namespace;
  const ref = hub.spec.connectionStringSecretRef;
  // validate refuses a ConnectionString hub without it, before credentials are resolved.
  if (!ref)
    return { ok: false, reason: 'SecretNotFound', message: 'spec.connectionStringSecretRef is not set' };
  const connection = await secretValue(lookup, namespace, ref, 'connectionString', 'the connection string');
  if (!connection.ok) return connection;
  try {
    return {
      ok: true,
      value: {
        connectionString: connection.value,
        hostName: parseHubConnectionString(connection.value).hostName,
      },
    };
  } catch (error) {
    return {
      ok: false,
      reason: 'InvalidConnectionString',
      message: `Secret ${namespace}/${ref.name}: ${(error as Error).message}`,
    };
  }
}

/**
 * The Microsoft Entra credential spec.auth describes, with the Secret values it names. The token file, the authority
 * and its CA are the operator's settings (entra-access.ts), never the IoTHub's.
 */
async function tokenAuthOf(
  hub: HubObject,
  lookup: SecretLookup,
  entra: EntraSettings,
): Promise<Resolved<HubTokenAuth>> {
  const namespace = hub.metadata.namespace;
  const auth = hub.spec.auth!;
  const authority = {
    tenantId: auth.tenantId ?? '',
    clientId: auth.clientId ?? '',
    authorityHost: entra.authorityHost,
    authorityCa: entra.authorityCa,
  };
  switch (auth.kind) {
    case 'WorkloadIdentity': {
      const tokenFilePath = entra.tokenFilePath;
      if (!tokenFilePath)
        return {
          ok: false,
          reason: 'TokenFileUnreadable',
          message:
            'no ServiceAccount token file: run the operator with AKS workload identity (the label azure.workload.identity/use: "true" on its pod sets AZURE_FEDERATED_TOKEN_FILE)',
        };
      return { ok: true, value: { kind: 'WorkloadIdentity', ...authority, tokenFilePath } };
    }
    case 'ClientSecret': {
      const secret = await secretValue(
        lookup,
        namespace,
        auth.clientSecretRef!,
        'clientSecret',
        'the client secret',
      );
      if (!secret.ok) return secret;
      return { ok: true, value: { kind: 'ClientSecret', ...authority, clientSecret: secret.value } };
    }
    case 'ClientCertificate': {
      const ref = auth.clientCertificateRef!;
      const certificate = await secretValue(
        lookup,
        namespace,
        { name: ref.name, key: ref.certificateKey },
        'tls.crt',
        'the client certificate',
      );
      if (!certificate.ok) return certificate;
      const key = await secretValue(
        lookup,
        namespace,
        { name: ref.name, key: ref.privateKeyKey },
        'tls.key',
        "the client certificate's private key",
      );
      if (!key.ok) return key;
      return {
        ok: true,
        value: { kind: 'ClientCertificate', ...authority, certificate: `${key.value}\n${certificate.value}` },
      };
    }
    default:
      return {
        ok: true,
        value: { kind: 'ManagedIdentity', clientId: auth.clientId, authorityCa: entra.authorityCa },
      };
  }
}

async function caBundleOf(hub: HubObject, lookup: SecretLookup): Promise<Resolved<string | undefined>> {
  if (!hub.spec.caSecretRef) return { ok: true, value: undefined };
  const bundle = await secretValue(
    lookup,
    hub.metadata.namespace,
    hub.spec.caSecretRef,
    'ca.crt',
    'the CA bundle',
  );
  return bundle.ok ? { ok: true, value: bundle.value } : bundle;
}

export async function resolveHubCredentials(
  hub: HubObject,
  lookup: SecretLookup,
  entra: EntraSettings = DEFAULT_ENTRA_SETTINGS,
): Promise<CredentialsResult> {
  const kind = hub.spec.auth?.kind ?? 'ConnectionString';
  if (kind === 'ConnectionString') {
    const connection = await connectionStringOf(hub, lookup);
    if (!connection.ok) return connection;
    const ca = await caBundleOf(hub, lookup);
    if (!ca.ok) return ca;
    return {
      ok: true,
      credentials: { connectionString: connection.value.connectionString, ca: ca.value },
      hostName: connection.value.hostName,
    };
  }
  const hostName = hub.spec.hostName ?? '';
  // Judged before any Secret is read or token requested.
  const refusal = entraRefusal(entra, kind, hub.metadata.namespace, hostName);
  if (refusal) return { ok: false, ...refusal };
  const auth = await tokenAuthOf(hub, lookup, entra);
  if (!auth.ok) return auth;
  const ca = await caBundleOf(hub, lookup);
  if (!ca.ok) return ca;
  return { ok: true, credentials: { tokenAuth: { hostName, auth: auth.value }, ca: ca.value }, hostName };
}
