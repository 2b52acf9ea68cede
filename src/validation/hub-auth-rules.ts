// Which fields an IoTHub's credential kind needs and which it refuses. The schema cannot say it (a structural
// CRD schema has no oneOf over the kinds), so it is judged here, with a message per field.
import type { HubAuth, IoTHubSpec } from '../api/generated/types.js';
import type { ValidationIssue } from './issues.js';
import { checkReference, checkSecretKey } from './resource-rules.js';

type AuthKind = HubAuth['kind'];
type AuthField = Exclude<keyof HubAuth, 'kind'>;

/** Each kind's required and optional fields of spec.auth (the CRD's CEL rules are built from it too: crd-rules.ts). */
export const FIELDS: Record<AuthKind, { required: AuthField[]; optional: AuthField[] }> = {
  ConnectionString: { required: [], optional: [] },
  WorkloadIdentity: { required: ['tenantId', 'clientId'], optional: [] },
  ClientSecret: { required: ['tenantId', 'clientId', 'clientSecretRef'], optional: [] },
  ClientCertificate: { required: ['tenantId', 'clientId', 'clientCertificateRef'], optional: [] },
  ManagedIdentity: { required: [], optional: ['clientId'] },
};

export const CONNECTION_STRING_REQUIRED =
  'is required with a connection string (auth.kind ConnectionString, the default)';
export const HOST_NAME_FROM_CONNECTION_STRING =
  "is taken from the connection string's HostName; remove it, or choose a Microsoft Entra ID auth.kind";
export const hostNameRequired = (kind: AuthKind) =>
  `is required with auth.kind ${kind}: the hub's host name, e.g. NAME.azure-devices.net`;
export const connectionStringNotUsed = (kind: AuthKind) =>
  `is not used with auth.kind ${kind}: remove it (a hub is reached with one credential)`;
export const requiredWithKind = (kind: AuthKind) => `is required with auth.kind ${kind}`;
export const notUsedWithKind = (kind: AuthKind) => `is not used with auth.kind ${kind}: remove it`;

const error = (at: string, message: string): ValidationIssue => ({
  severity: 'error',
  path: at.split('.'),
  message,
});

export function checkHubAuth(spec: IoTHubSpec): ValidationIssue[] {
  const kind: AuthKind = spec.auth?.kind ?? 'ConnectionString';
  const issues: ValidationIssue[] = [];
  if (kind === 'ConnectionString') {
    if (!spec.connectionStringSecretRef)
      issues.push(error('spec.connectionStringSecretRef', CONNECTION_STRING_REQUIRED));
    if (spec.hostName !== undefined) issues.push(error('spec.hostName', HOST_NAME_FROM_CONNECTION_STRING));
  } else {
    if (spec.hostName === undefined) issues.push(error('spec.hostName', hostNameRequired(kind)));
    if (spec.connectionStringSecretRef !== undefined)
      issues.push(error('spec.connectionStringSecretRef', connectionStringNotUsed(kind)));
  }
  const auth = spec.auth;
  if (!auth) return issues;
  const { required, optional } = FIELDS[kind];
  for (const field of required)
    if (auth[field] === undefined) issues.push(error(`spec.auth.${field}`, requiredWithKind(kind)));
  for (const field of Object.keys(auth) as (keyof HubAuth)[]) {
    if (field === 'kind' || required.includes(field) || optional.includes(field)) continue;
    issues.push(error(`spec.auth.${field}`, notUsedWithKind(kind)));
  }
  issues.push(...checkReference(auth.clientSecretRef, 'spec.auth.clientSecretRef'));
  const certificate = auth.clientCertificateRef;
  if (certificate)
    issues.push(
      ...checkReference({ name: certificate.name }, 'spec.auth.clientCertificateRef'),
      ...checkSecretKey(certificate.certificateKey, [
        'spec',
        'auth',
        'clientCertificateRef',
        'certificateKey',
      ]),
      ...checkSecretKey(certificate.privateKeyKey, ['spec', 'auth', 'clientCertificateRef', 'privateKeyKey']),
    );
  return issues;
}
