// A Microsoft Entra ID credential for a hub, from what an IoTHub's spec.auth says (with the Secret values it
// names already read): @azure/identity's credential of that kind. The authority, its CA and the token file are the
// operator's own settings (controller/entra-access.ts), never an IoTHub's: its author could otherwise send the
// operator's ServiceAccount token to a host of their choosing. A private authority's CA is trusted through the
// pipeline's tlsOptions, so the process's trust store is left as it is.
import tls from 'node:tls';
import {
  AzureAuthorityHosts,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';

/** The authority's answers and the token file's problems worth telling apart in a status (HubError.credentialProblem). */
export type CredentialProblem = 'TokenFileUnreadable' | 'AuthorityRefused';

interface Authority {
  tenantId: string;
  clientId: string;
  /** https://login.microsoftonline.com unless given (--entra-authority-host or AZURE_AUTHORITY_HOST). */
  authorityHost?: string;
  /** PEM CA bundle of a private authority (--entra-authority-ca-file). */
  authorityCa?: string;
}

export type HubTokenAuth =
  | ({ kind: 'WorkloadIdentity'; tokenFilePath: string } & Authority)
  | ({ kind: 'ClientSecret'; clientSecret: string } & Authority)
  | ({ kind: 'ClientCertificate'; certificate: string } & Authority)
  | { kind: 'ManagedIdentity'; clientId?: string; authorityCa?: string };

/** A description of the credential for messages: kind, tenant and client id, never a secret. */
export function describeTokenAuth(auth: HubTokenAuth): string {
  if (auth.kind === 'ManagedIdentity')
    return auth.clientId ? `managed identity ${auth.clientId}` : 'the system-assigned managed identity';
  return `${auth.kind === 'WorkloadIdentity' ? 'workload identity' : `app registration (${auth.kind === 'ClientSecret' ? 'client secret' : 'certificate'})`} ${auth.clientId} of tenant ${auth.tenantId}`;
}

const AZURE_HOSTS = new Set<string>(Object.values(AzureAuthorityHosts).map((h) => h.replace(/\/$/, '')));

function pipelineOptions(authorityHost: string | undefined, ca: string | undefined) {
  const extra = ca === undefined ? [] : [ca];
  const host = authorityHost?.replace(/\/$/, '');
  return {
    ...(host !== undefined && { authorityHost: host }),
    // Instance discovery asks login.microsoftonline.com about the authority: only Azure's own hosts are known there.
    disableInstanceDiscovery: host !== undefined && !AZURE_HOSTS.has(host),
    ...(extra.length > 0 && { tlsOptions: { ca: [...tls.rootCertificates, ...extra] } }),
  };
}

export function createTokenCredential(auth: HubTokenAuth): TokenCredential {
  switch (auth.kind) {
    case 'WorkloadIdentity':
      return new WorkloadIdentityCredential({
        tenantId: auth.tenantId,
        clientId: auth.clientId,
        tokenFilePath: auth.tokenFilePath,
        ...pipelineOptions(auth.authorityHost, auth.authorityCa),
      });
    case 'ClientSecret':
      return new ClientSecretCredential(
        auth.tenantId,
        auth.clientId,
        auth.clientSecret,
        pipelineOptions(auth.authorityHost, auth.authorityCa),
      );
    case 'ClientCertificate':
      return new ClientCertificateCredential(
        auth.tenantId,
        auth.clientId,
        { certificate: auth.certificate },
        pipelineOptions(auth.authorityHost, auth.authorityCa),
      );
    case 'ManagedIdentity':
      return new ManagedIdentityCredential({
        ...(auth.clientId !== undefined && { clientId: auth.clientId }),
        ...pipelineOptions(undefined, auth.authorityCa),
      });
  }
}
