// An Entra-like authority on the emulator's HTTPS server, answering what @azure/identity (through MSAL node)
// asks: the tenant's OpenID configuration, its signing keys, the token endpoint's client-credentials grant
// (client secret, certificate-signed assertion, federated assertion such as a Kubernetes ServiceAccount
// token), and an App Service-style managed identity endpoint (managed-identity.ts). It signs access tokens with a key of its own,
// which the hub checks (verifyAccessToken). Instance discovery is not served: clients set
// `disableInstanceDiscovery`, as for any authority host that is not a public Azure cloud.
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { IOT_HUB_TOKEN_AUDIENCE } from '../../protocol/iot-hub-roles.js';
import { ExpiringCache } from '../../runtime/expiring-cache.js';
import type { ApiResult } from '../routes.js';
import { json, safeEqual } from './answers.js';
import {
  certificateThumbprints,
  type EntraApplication,
  EntraDirectory,
  type EntraOptions,
  FEDERATION_AUDIENCE,
} from './directory.js';
import { EntraError, entraErrors } from './errors.js';
import { IssuerKeys } from './issuer-keys.js';
import { MANAGED_IDENTITY_PATH, managedIdentityToken } from './managed-identity.js';

export { MANAGED_IDENTITY_PATH } from './managed-identity.js';

import { audiencesOf, type DecodedJwt, decodeJwt, signatureValid, signJwt } from './jwt.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Clock skew tolerated on assertion and token times, as Entra's five minutes. */
const SKEW_SECONDS = 300;

export type AccessTokenVerdict = { ok: true; principal: string; exp: number } | { ok: false; reason: string };

const VERIFIED_TOKEN_LIMIT = 1000;

export class EntraAuthority {
  readonly directory: EntraDirectory;
  /** The X-IDENTITY-HEADER secret of the managed identity endpoint (IDENTITY_HEADER for its clients). */
  readonly identityHeader = randomBytes(24).toString('base64url');
  private readonly signingKey: KeyObject;
  private readonly verifyingKey: KeyObject;
  /**
   * Tokens already verified, with their principal and expiry: a client sends the same token for an hour, and an
   * RSA verification per request (33 µs) is most of what checking one costs.
   */
  private readonly verified = new ExpiringCache<{ principal: string; exp: number }>(
    VERIFIED_TOKEN_LIMIT,
    () => this.nowMs(),
  );
  private readonly publicJwk: Record<string, unknown>;
  private readonly kid: string;
  private readonly issuerKeys: IssuerKeys;
  /** Token requests by client id, granted or not: a test proves a credential was never even tried. */
  private readonly requests = new Map<string, number>();

  /** How many token requests (client-credentials grants, any outcome) named this client id. */
  tokenRequests(clientId: string): number {
    return this.requests.get(clientId) ?? 0;
  }

  constructor(
    options: EntraOptions,
    /** `https://host:port`, filled in once the server listens. */
    private readonly origin: () => string,
    private readonly nowMs: () => number,
  ) {
    this.directory = new EntraDirectory(options);
    this.issuerKeys = new IssuerKeys(this.directory.trustedIssuers);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.signingKey = privateKey;
    this.verifyingKey = publicKey;
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    this.kid = createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
      .digest('base64url');
    this.publicJwk = { ...jwk, kid: this.kid, use: 'sig', alg: 'RS256' };
  }

  private issuer(): string {
    return `${this.origin()}/${this.directory.tenantId}/v2.0`;
  }

  private tokenEndpoint(tenant: string): string {
    return `${this.origin()}/${tenant}/oauth2/v2.0/token`;
  }

  /** Whether a path is the authority's (the hub's own routes never start with a tenant's segments). */
  handles(pathname: string): boolean {
    return (
      pathname === MANAGED_IDENTITY_PATH ||
      /^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token)$/.test(
        pathname,
      )
    );
  }

  async handle(method: string, url: URL, headers: IncomingHttpHeaders, body: string): Promise<ApiResult> {
    try {
      if (url.pathname === MANAGED_IDENTITY_PATH)
        return managedIdentityToken(url, headers, {
          identityHeader: this.identityHeader,
          directory: this.directory,
          nowMs: this.nowMs,
          issue: (principal, resource) => this.issueAccessToken(principal, resource),
        });
      const [, tenant, ...rest] = url.pathname.split('/');
      if (!this.isTenant(tenant)) throw entraErrors.tenantNotFound(tenant);
      const what = rest.join('/');
      if (what === 'v2.0/.well-known/openid-configuration' && method === 'GET')
        return json(200, this.openIdConfiguration(tenant));
      if (what === 'discovery/v2.0/keys' && method === 'GET') return json(200, { keys: [this.publicJwk] });
      if (what === 'oauth2/v2.0/token' && method === 'POST')
        return json(200, await this.token(tenant, new URLSearchParams(body)));
      return json(405, {
        error: 'invalid_request',
        error_description: `${method} is not allowed on ${url.pathname}`,
      });
    } catch (error) {
      if (error instanceof EntraError) return json(error.status, error.body(new Date(this.nowMs())));
      throw error;
    }
  }

  private isTenant(tenant: string): boolean {
    return tenant.toLowerCase() === this.directory.tenantId.toLowerCase();
  }

  private openIdConfiguration(tenant: string): Record<string, unknown> {
    const base = `${this.origin()}/${tenant}`;
    return {
      issuer: this.issuer(),
      token_endpoint: this.tokenEndpoint(tenant),
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
    };
  }

  /** The resource a client-credentials scope names (`https://iothubs.azure.net/.default` and OIDC scopes). */
  private resourceOf(scope: string | null): string {
    const resources = (scope ?? '').split(' ').filter((s) => s.endsWith('/.default'));
    if (resources.length !== 1) throw entraErrors.invalidScope(scope ?? '');
    return resources[0].slice(0, -'/.default'.length);
  }

  private async token(tenant: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const grant = form.get('grant_type') ?? '';
    if (grant !== 'client_credentials') throw entraErrors.unsupportedGrant(grant);
    const clientId = form.get('client_id');
    if (!clientId) throw entraErrors.missingClientId();
    this.requests.set(clientId, (this.requests.get(clientId) ?? 0) + 1);
    const resource = this.resourceOf(form.get('scope'));
    const app = this.directory.application(clientId);
    if (!app) throw entraErrors.applicationNotFound(clientId, tenant);
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (!(app.secrets ?? []).some((s) => safeEqual(s, secret))) throw entraErrors.invalidSecret(clientId);
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== ASSERTION_TYPE) throw entraErrors.invalidAssertionType();
      const decoded = decodeJwt(assertion);
      if (!decoded) throw entraErrors.malformedAssertion();
      if (decoded.claims.iss === app.clientId) this.checkCertificateAssertion(app, decoded, tenant);
      else await this.checkFederatedAssertion(app, decoded);
    } else {
      throw entraErrors.missingCredential();
    }
    return this.issueAccessToken(app.clientId, resource);
  }

  private checkTimes(token: DecodedJwt): void {
    const now = Math.floor(this.nowMs() / 1000);
    const { exp, nbf } = token.claims;
    if (typeof exp !== 'number' || exp + SKEW_SECONDS < now) throw entraErrors.assertionExpired();
    if (typeof nbf === 'number' && nbf - SKEW_SECONDS > now) throw entraErrors.assertionExpired();
  }

  /** An assertion the app signed with a registered certificate's key (ClientCertificateCredential). */
  private checkCertificateAssertion(app: EntraApplication, token: DecodedJwt, tenant: string): void {
    const { header, claims } = token;
    const certificate = (app.certificates ?? []).find((pem) => {
      const prints = certificateThumbprints(pem);
      return prints && (prints.sha256 === header['x5t#S256'] || prints.sha1 === header.x5t);
    });
    if (!certificate) throw entraErrors.certificateNotRegistered(app.clientId);
    if (!signatureValid(token, createPublicKey(certificate))) throw entraErrors.invalidSignature();
    this.checkTimes(token);
    const accepted = [
      this.tokenEndpoint(tenant),
      `${this.origin()}/${tenant}`,
      `${this.origin()}/${tenant}/v2.0`,
    ];
    const audience = audiencesOf(claims).find((a) => accepted.includes(a.replace(/\/$/, '')));
    if (!audience || claims.sub !== app.clientId)
      throw entraErrors.assertionAudience(audiencesOf(claims).join(','));
  }

  /** A token of another issuer the app trusts through a federated credential (WorkloadIdentityCredential). */
  private async checkFederatedAssertion(app: EntraApplication, token: DecodedJwt): Promise<void> {
    const issuer = String(token.claims.iss ?? '');
    const credentials = (app.federatedCredentials ?? []).filter((c) => c.issuer === issuer);
    const trusted = this.issuerKeys.trusted(issuer);
    if (credentials.length === 0 || !trusted) throw entraErrors.assertionIssuer(issuer);
    let key: KeyObject | undefined;
    try {
      key = await this.issuerKeys.key(trusted, token.header.kid);
    } catch {
      throw entraErrors.issuerKeysUnavailable(issuer);
    }
    if (!key || !signatureValid(token, key)) throw entraErrors.invalidSignature();
    this.checkTimes(token);
    const audiences = audiencesOf(token.claims);
    const forAudience = credentials.filter((c) =>
      (c.audiences ?? [FEDERATION_AUDIENCE]).some((a) => audiences.includes(a)),
    );
    if (forAudience.length === 0) throw entraErrors.assertionAudience(audiences.join(','));
    const subject = String(token.claims.sub ?? '');
    if (!forAudience.some((c) => c.subject === subject))
      throw entraErrors.assertionSubject(issuer, subject, audiences.join(','));
  }

  private issueAccessToken(principal: string, resource: string): Record<string, unknown> {
    const now = Math.floor(this.nowMs() / 1000);
    const lifetime = this.directory.accessTokenLifetimeSeconds;
    const claims = {
      aud: resource,
      iss: this.issuer(),
      iat: now,
      nbf: now,
      exp: now + lifetime,
      tid: this.directory.tenantId,
      oid: principal,
      sub: principal,
      appid: principal,
      azp: principal,
      idtyp: 'app',
      ver: '2.0',
      jti: randomUUID(),
    };
    const token = signJwt({ alg: 'RS256', typ: 'JWT', kid: this.kid }, claims, this.signingKey);
    return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token };
  }

  /** Checks a hub request's bearer token: this authority's signature, the IoT Hub audience, its times. */
  verifyAccessToken(token: string): AccessTokenVerdict {
    const now = Math.floor(this.nowMs() / 1000);
    const known = this.verified.get(token);
    if (known) return { ok: true, principal: known.principal, exp: known.exp };
    const verdict = this.checkAccessToken(token, now);
    if (verdict.ok)
      this.verified.setUntil(token, { principal: verdict.principal, exp: verdict.exp }, verdict.exp * 1000);
    return verdict;
  }

  private checkAccessToken(token: string, now: number): AccessTokenVerdict {
    const decoded = decodeJwt(token);
    if (!decoded) return { ok: false, reason: 'the bearer token is not a JWT' };
    if (
      decoded.header.alg !== 'RS256' ||
      decoded.header.kid !== this.kid ||
      !signatureValid(decoded, this.verifyingKey)
    )
      return { ok: false, reason: 'the bearer token is not signed by this authority' };
    if (decoded.claims.iss !== this.issuer())
      return { ok: false, reason: `issuer ${String(decoded.claims.iss)}` };
    if (!audiencesOf(decoded.claims).some((a) => a.replace(/\/$/, '') === IOT_HUB_TOKEN_AUDIENCE))
      return { ok: false, reason: `audience ${String(decoded.claims.aud)} is not ${IOT_HUB_TOKEN_AUDIENCE}` };
    if (typeof decoded.claims.exp !== 'number' || decoded.claims.exp <= now)
      return { ok: false, reason: `the bearer token expired at ${String(decoded.claims.exp)}` };
    if (typeof decoded.claims.nbf === 'number' && decoded.claims.nbf - SKEW_SECONDS > now)
      return { ok: false, reason: 'the bearer token is not valid yet' };
    return { ok: true, principal: String(decoded.claims.oid), exp: decoded.claims.exp };
  }
}
