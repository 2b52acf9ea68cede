// What the emulated Microsoft Entra tenant knows: app registrations (client secrets, certificates, federated
// credentials), user-assigned managed identities, the issuers it trusts for federation, and the hub's role
// assignments. Role assignments are looked up on every hub request, as Azure RBAC evaluates them at the
// resource (not in the token): removing one takes effect on tokens already issued.
import { createHash, X509Certificate } from 'node:crypto';
import { HUB_ROLES, type HubRole } from '../../protocol/iot-hub-roles.js';

/** The audience Entra expects in a federated assertion (AKS workload identity's default). */
export const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';

export interface FederatedCredential {
  /** The issuer URL exactly as in the assertion's `iss` (a cluster's service-account issuer). */
  issuer: string;
  /** `system:serviceaccount:NAMESPACE:NAME` */
  subject: string;
  /** [api://AzureADTokenExchange] unless given. */
  audiences?: string[];
}

export interface EntraApplication {
  clientId: string;
  /** Client secret values. */
  secrets?: string[];
  /** PEM certificates whose private keys may sign a client assertion. */
  certificates?: string[];
  federatedCredentials?: FederatedCredential[];
}

export interface EntraManagedIdentity {
  clientId: string;
  /** The identity the endpoint answers for when the caller names none (a system-assigned identity). */
  default?: boolean;
}

export interface TrustedIssuer {
  issuer: string;
  /** PEM of the CA that signs the issuer's HTTPS certificate (a local API server's). */
  ca?: string;
}

export interface EntraOptions {
  /** The one tenant (directory) id the authority serves. */
  tenantId: string;
  applications?: EntraApplication[];
  managedIdentities?: EntraManagedIdentity[];
  /** Issuers whose tokens a federated credential may name; their keys are fetched from their discovery document. */
  trustedIssuers?: TrustedIssuer[];
  /** Role assignments on the hub by principal (client id). */
  roleAssignments?: Record<string, HubRole[]>;
  /** Lifetime of an access token; 3600 s by default. */
  accessTokenLifetimeSeconds?: number;
}

export function certificateThumbprints(pem: string): { sha1: string; sha256: string } | undefined {
  try {
    const der = new X509Certificate(pem).raw;
    return {
      sha1: createHash('sha1').update(der).digest('base64url'),
      sha256: createHash('sha256').update(der).digest('base64url'),
    };
  } catch {
    return undefined;
  }
}

export class EntraDirectory {
  readonly tenantId: string;
  readonly accessTokenLifetimeSeconds: number;
  private readonly applications = new Map<string, EntraApplication>();
  private readonly managedIdentities = new Map<string, EntraManagedIdentity>();
  private readonly assignments = new Map<string, Set<HubRole>>();
  readonly trustedIssuers: readonly TrustedIssuer[];

  constructor(options: EntraOptions) {
    this.tenantId = options.tenantId;
    this.accessTokenLifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3600;
    for (const app of options.applications ?? []) this.applications.set(app.clientId.toLowerCase(), app);
    for (const mi of options.managedIdentities ?? [])
      this.managedIdentities.set(mi.clientId.toLowerCase(), mi);
    for (const [principal, roles] of Object.entries(options.roleAssignments ?? {}))
      this.assignRoles(principal, roles);
    this.trustedIssuers = options.trustedIssuers ?? [];
  }

  application(clientId: string): EntraApplication | undefined {
    return this.applications.get(clientId.toLowerCase());
  }

  /** The managed identity named by client id, or the default one when none is named. */
  managedIdentity(clientId: string | undefined): EntraManagedIdentity | undefined {
    if (clientId) return this.managedIdentities.get(clientId.toLowerCase());
    return [...this.managedIdentities.values()].find((mi) => mi.default);
  }

  /** Replaces the roles assigned to a principal on the hub (none removes them all). */
  assignRoles(principal: string, roles: readonly HubRole[]): void {
    for (const role of roles) if (!HUB_ROLES.includes(role)) throw new RangeError(`unknown role ${role}`);
    this.assignments.set(principal.toLowerCase(), new Set(roles));
  }

  rolesOf(principal: string): HubRole[] {
    return [...(this.assignments.get(principal.toLowerCase()) ?? [])];
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Checks Entra options read from a file (the emulator's --entra); throws a RangeError naming the bad field. */
export function checkEntraOptions(value: unknown): EntraOptions {
  const fail = (what: string): never => {
    throw new RangeError(what);
  };
  if (typeof value !== 'object' || value === null) return fail('must be a JSON object');
  const options = value as Record<string, unknown>;
  if (typeof options.tenantId !== 'string' || !options.tenantId) fail('tenantId must be a non-empty string');
  const list = (name: string) => {
    const items = options[name] ?? [];
    if (!Array.isArray(items)) fail(`${name} must be a list`);
    return items as Record<string, unknown>[];
  };
  for (const [i, app] of list('applications').entries()) {
    if (typeof app?.clientId !== 'string') fail(`applications[${i}].clientId must be a string`);
    for (const field of ['secrets', 'certificates'])
      if (app[field] !== undefined && !isStringArray(app[field]))
        fail(`applications[${i}].${field} must be a list of strings`);
    for (const [j, credential] of ((app.federatedCredentials ?? []) as Record<string, unknown>[]).entries())
      if (typeof credential?.issuer !== 'string' || typeof credential.subject !== 'string')
        fail(`applications[${i}].federatedCredentials[${j}] needs an issuer and a subject`);
  }
  for (const [i, identity] of list('managedIdentities').entries())
    if (typeof identity?.clientId !== 'string') fail(`managedIdentities[${i}].clientId must be a string`);
  for (const [i, issuer] of list('trustedIssuers').entries())
    if (typeof issuer?.issuer !== 'string') fail(`trustedIssuers[${i}].issuer must be a string`);
  const assignments = options.roleAssignments ?? {};
  if (typeof assignments !== 'object' || assignments === null) fail('roleAssignments must be an object');
  for (const [principal, roles] of Object.entries(assignments as Record<string, unknown>))
    if (!isStringArray(roles) || roles.some((r) => !HUB_ROLES.includes(r as HubRole)))
      fail(`roleAssignments.${principal} must list roles of ${HUB_ROLES.join(', ')}`);
  const lifetime = options.accessTokenLifetimeSeconds;
  if (lifetime !== undefined && !(Number.isInteger(lifetime) && (lifetime as number) > 0))
    fail('accessTokenLifetimeSeconds must be a positive whole number');
  return options as unknown as EntraOptions;
}
