// The signing keys of an issuer Entra trusts for federation (a cluster's service-account issuer), fetched as
// Entra fetches them: its `.well-known/openid-configuration`, then the `jwks_uri` it names. Keys are cached
// and fetched again when a token names a key id not seen yet (the issuer rotated its key).
import type { KeyObject } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import type { TrustedIssuer } from './directory.js';
import { keyFromJwk } from './jwt.js';

const MAX_DOCUMENT_BYTES = 256 * 1024;

function getJson(url: string, ca: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      url,
      {
        ca: ca ? [...tls.rootCertificates, ca] : undefined,
        timeout: 5000,
        // The API server answers its keys only as application/jwk-set+json (406 to application/json alone).
        headers: { Accept: 'application/json, application/jwk-set+json' },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_DOCUMENT_BYTES) request.destroy(new Error(`${url}: document too large`));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`${url} answered ${response.statusCode}`));
            return;
          }
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(error);
          }
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${url}: timed out`)));
    request.on('error', reject);
  });
}

export class IssuerKeys {
  private readonly cache = new Map<string, Map<string, KeyObject>>();

  constructor(private readonly issuers: readonly TrustedIssuer[]) {}

  trusted(issuer: string): TrustedIssuer | undefined {
    return this.issuers.find((t) => t.issuer === issuer);
  }

  /** The issuer's key with this id (or its only key when the token names none); undefined when it has none. */
  async key(issuer: TrustedIssuer, kid: string | undefined): Promise<KeyObject | undefined> {
    let keys = this.cache.get(issuer.issuer);
    if (!keys || (kid !== undefined && !keys.has(kid))) {
      keys = await this.fetchKeys(issuer);
      this.cache.set(issuer.issuer, keys);
    }
    if (kid !== undefined) return keys.get(kid);
    return keys.size === 1 ? [...keys.values()][0] : undefined;
  }

  private async fetchKeys(issuer: TrustedIssuer): Promise<Map<string, KeyObject>> {
    const base = issuer.issuer.endsWith('/') ? issuer.issuer : `${issuer.issuer}/`;
    const discovery = (await getJson(`${base}.well-known/openid-configuration`, issuer.ca)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    if (discovery.issuer !== issuer.issuer || typeof discovery.jwks_uri !== 'string')
      throw new Error(`${base}.well-known/openid-configuration names issuer ${String(discovery.issuer)}`);
    const jwks = (await getJson(discovery.jwks_uri, issuer.ca)) as { keys?: Record<string, unknown>[] };
    const keys = new Map<string, KeyObject>();
    for (const jwk of jwks.keys ?? []) {
      const key = keyFromJwk(jwk);
      if (key) keys.set(typeof jwk.kid === 'string' ? jwk.kid : '', key);
    }
    return keys;
  }
}
