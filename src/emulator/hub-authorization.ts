// Who may call the emulated hub, per request: a shared access signature of one of its policies (unless local
// authentication is disabled, as `az iot hub update --set properties.disableLocalAuth=true` does), or a
// Microsoft Entra access token from the emulator's authority whose principal holds a role granting the
// operation's data action. 401 for a missing, invalid or expired credential and for SAS on a hub without local
// authentication; 403 when the principal lacks the role.
import type { IncomingMessage } from 'node:http';
import { dataActionFor, type HubApiOperation, roleAllows } from '../protocol/iot-hub-roles.js';
import {
  parseSharedAccessSignature,
  sharedAccessSignatureExpiry,
} from '../protocol/shared-access-signature.js';
import { ExpiringCache } from '../runtime/expiring-cache.js';
import type { EntraAuthority } from './entra/authority.js';
import { HubErrorResponse, hubErrors } from './errors.js';
import { type SharedAccessPolicy, verifySharedAccessSignature } from './sas-auth.js';
import type { EmulatorLog } from './server.js';
import type { StatsClass } from './stats.js';

const TOKEN_CACHE_LIMIT = 1000;

export interface HubAuthorizationOptions {
  policies: () => readonly SharedAccessPolicy[];
  /** Host names a SAS token may be scoped to (the connection string's HostName), filled in once listening. */
  audiences: () => readonly string[];
  nowMs: () => number;
  /** False refuses shared access signatures on the hub's API (the admin API still takes the owner's). */
  localAuthentication: () => boolean;
  entra?: EntraAuthority;
  log: EmulatorLog;
}

/** The data-plane operation class of a route, for the permission table (the admin API is not the hub's). */
function hubOperation(operation: StatsClass, pathname: string): HubApiOperation | undefined {
  if (pathname.toLowerCase().startsWith('/statistics/')) return 'statistics';
  switch (operation) {
    case 'registry':
    case 'twinRead':
    case 'twinUpdate':
    case 'query':
    case 'jobs':
      return operation;
    default:
      return undefined;
  }
}

export class HubAuthorization {
  // Tokens already verified, with their expiry: the SDK signs one token per hour and sends it every call.
  private readonly verifiedSignatures: ExpiringCache<true>;

  constructor(private readonly options: HubAuthorizationOptions) {
    this.verifiedSignatures = new ExpiringCache(TOKEN_CACHE_LIMIT, options.nowMs);
  }

  /** Throws the hub's 401 or 403 when the request may not run; `operation` is the route's class. */
  check(request: IncomingMessage, operation: StatsClass, pathname: string): void {
    const header = request.headers.authorization;
    const hubCall = hubOperation(operation, pathname);
    if (header?.startsWith('Bearer ')) {
      this.checkBearer(request, header.slice('Bearer '.length).trim(), hubCall, pathname);
      return;
    }
    if (hubCall !== undefined && !this.options.localAuthentication()) {
      this.options.log('debug', 'request refused', {
        reason: 'local authentication is disabled',
        url: request.url,
      });
      throw hubErrors.localAuthDisabled();
    }
    this.checkSignature(request, header);
  }

  private checkSignature(request: IncomingMessage, header: string | undefined): void {
    if (header && this.verifiedSignatures.get(header)) return;
    const nowSeconds = Math.floor(this.options.nowMs() / 1000);
    // Only the emulator's own names: never the request's Host header, which the client chooses.
    const verdict = verifySharedAccessSignature(header, {
      policies: this.options.policies(),
      audiences: this.options.audiences(),
      nowSeconds,
    });
    if (!verdict.ok) {
      this.options.log('debug', 'request refused', { reason: verdict.reason, url: request.url });
      throw hubErrors.unauthorized();
    }
    // Cached until the expiry that was verified (the parser refuses a token that gives two).
    const expiry = sharedAccessSignatureExpiry(parseSharedAccessSignature(header!)!) ?? 0;
    this.verifiedSignatures.setUntil(header!, true, expiry * 1000);
  }

  private checkBearer(
    request: IncomingMessage,
    token: string,
    hubCall: HubApiOperation | undefined,
    pathname: string,
  ): void {
    const entra = this.options.entra;
    const verdict = entra
      ? entra.verifyAccessToken(token)
      : { ok: false as const, reason: 'no Entra authority' };
    if (!verdict.ok) {
      this.options.log('debug', 'request refused', { reason: verdict.reason, url: request.url });
      throw hubErrors.unauthorized();
    }
    // The admin API is the emulator's own: a valid token is enough.
    if (hubCall === undefined || !entra) return;
    const method = request.method ?? 'GET';
    // A job query reads jobs although it is a POST.
    const action = dataActionFor(hubCall, pathname.endsWith('/query') && hubCall === 'jobs' ? 'GET' : method);
    const roles = entra.directory.rolesOf(verdict.principal);
    if (roles.some((role) => roleAllows(role, action))) return;
    this.options.log('debug', 'request forbidden', {
      principal: verdict.principal,
      action,
      url: request.url,
    });
    // As Azure IoT Hub answers an identity it knows whose roles do not grant the call: 401 IotHubUnauthorized.
    throw new HubErrorResponse(
      401,
      'IotHubUnauthorized',
      `Principal ${verdict.principal} is not authorized for ${method} on ${pathname} due to no assigned permissions`,
    );
  }
}
