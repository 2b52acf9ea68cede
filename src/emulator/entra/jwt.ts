// Compact JSON Web Tokens (RFC 7519) signed and checked with node:crypto: the algorithms the parties of an Entra
// token exchange use (RS256 for ServiceAccount tokens and access tokens, PS256 and RS256 for certificate
// assertions from MSAL, ES256 for an EC key).
import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
  x5t?: string;
  'x5t#S256'?: string;
  x5c?: string[];
}

export type JwtClaims = Record<string, unknown> & {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
};

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signedPart: string;
  signature: Buffer;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** The algorithm's node:crypto digest and options; undefined for one we do not accept (`none` among them). */
function algorithm(
  alg: string,
): { digest: string; padding?: number; dsaEncoding?: 'ieee-p1363' } | undefined {
  switch (alg) {
    case 'RS256':
      return { digest: 'sha256' };
    case 'PS256':
      return { digest: 'sha256', padding: 6 /* RSA_PKCS1_PSS_PADDING */ };
    case 'ES256':
      return { digest: 'sha256', dsaEncoding: 'ieee-p1363' };
    default:
      return undefined;
  }
}

export function signJwt(header: JwtHeader, claims: JwtClaims, key: KeyObject): string {
  const signedPart = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const alg = algorithm(header.alg);
  if (!alg) throw new Error(`cannot sign with ${header.alg}`);
  const signature = sign(alg.digest, Buffer.from(signedPart), {
    key,
    padding: alg.padding,
    dsaEncoding: alg.dsaEncoding,
  });
  return `${signedPart}.${base64url(signature)}`;
}

/** The parts of a token, unverified; undefined when it is not a compact JWS with JSON header and claims. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as JwtHeader;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as JwtClaims;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null)
      return undefined;
    return {
      header,
      claims,
      signedPart: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

export function signatureValid(token: DecodedJwt, key: KeyObject): boolean {
  const alg = algorithm(token.header.alg);
  if (!alg) return false;
  try {
    return verify(
      alg.digest,
      Buffer.from(token.signedPart),
      {
        key,
        padding: alg.padding,
        dsaEncoding: alg.dsaEncoding,
      },
      token.signature,
    );
  } catch {
    return false;
  }
}

/** A public key from a JWKS entry. */
export function keyFromJwk(jwk: Record<string, unknown>): KeyObject | undefined {
  try {
    return createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

export function audiencesOf(claims: JwtClaims): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
}
