// The managed identity endpoint as App Service serves it (api-version 2019-08-01), which @azure/identity's
// ManagedIdentityCredential (through MSAL node) calls when IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
// GET ?resource=&client_id= with the X-IDENTITY-HEADER secret, answered with a token and its expiry in seconds.
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiResult } from '../routes.js';
import { json, safeEqual } from './answers.js';
import type { EntraDirectory } from './directory.js';

export const MANAGED_IDENTITY_PATH = '/_entra/managed-identity';

export interface ManagedIdentityDeps {
  identityHeader: string;
  directory: EntraDirectory;
  nowMs: () => number;
  issue(principal: string, resource: string): Record<string, unknown>;
}

export function managedIdentityToken(
  url: URL,
  headers: IncomingHttpHeaders,
  deps: ManagedIdentityDeps,
): ApiResult {
  const presented = headers['x-identity-header'];
  if (typeof presented !== 'string' || !safeEqual(presented, deps.identityHeader))
    return json(401, {
      error: { code: 'Unauthorized', message: 'The X-IDENTITY-HEADER is missing or wrong' },
    });
  const resource = url.searchParams.get('resource');
  if (!resource) return json(400, { error: { code: 'BadRequest', message: 'resource is required' } });
  const clientId = url.searchParams.get('client_id') ?? undefined;
  const identity = deps.directory.managedIdentity(clientId);
  if (!identity)
    return json(400, {
      error: {
        code: 'BadRequest',
        message: `No managed identity with client id ${clientId ?? '(system-assigned)'} is assigned to this resource`,
      },
    });
  const issued = deps.issue(identity.clientId, resource.replace(/\/\.default$/, ''));
  const expiresOn = Math.floor(deps.nowMs() / 1000) + deps.directory.accessTokenLifetimeSeconds;
  return json(200, {
    access_token: issued.access_token,
    expires_on: String(expiresOn),
    resource,
    token_type: 'Bearer',
    client_id: identity.clientId,
  });
}
