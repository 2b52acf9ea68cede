// Shared access signatures checked as the hub checks them: `SharedAccessSignature sr=&sig=&se=&skn=` where sig
// is base64(HMAC-SHA256(base64-decoded policy key, sr + "\n" + se)) with sr as URL-encoded in the token.
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  parseSharedAccessSignature,
  SHARED_ACCESS_SIGNATURE_PREFIX,
} from '../protocol/shared-access-signature.js';

export interface SharedAccessPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
}

export type SasVerdict = { ok: true; policy: SharedAccessPolicy } | { ok: false; reason: string };

export interface SasCheck {
  policies: readonly SharedAccessPolicy[];
  /** Host names the token may be scoped to (`localhost:8443`); compared case-insensitively. */
  audiences: readonly string[];
  nowSeconds: number;
}

const PREFIX = SHARED_ACCESS_SIGNATURE_PREFIX;

function sign(key: string, resource: string, expiry: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`${resource}\n${expiry}`).digest();
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Checks an Authorization header; the reason says which rule failed (for logs, never for the client). */
export function verifySharedAccessSignature(header: string | undefined, check: SasCheck): SasVerdict {
  if (!header) return { ok: false, reason: 'no Authorization header' };
  const fields = parseSharedAccessSignature(header);
  if (!fields) return { ok: false, reason: 'not a SharedAccessSignature (or a field given twice)' };
  const { sr, sig, se, skn } = fields;
  if (!sr || !sig || !se || !skn) return { ok: false, reason: 'a field of sr, sig, se, skn is missing' };
  if (!/^\d+$/.test(se)) return { ok: false, reason: `expiry ${se} is not a number of seconds` };
  if (Number(se) <= check.nowSeconds) return { ok: false, reason: `the token expired at ${se}` };
  const keyName = safeDecode(skn);
  const policy = check.policies.find((p) => p.keyName === keyName);
  if (!policy) return { ok: false, reason: `no policy named ${keyName}` };
  const resource = safeDecode(sr)?.toLowerCase().replace(/\/+$/, '');
  const audiences = check.audiences.map((a) => a.toLowerCase());
  if (!resource || !audiences.some((a) => resource === a || resource.startsWith(`${a}/`))) {
    return { ok: false, reason: `the token is for ${resource}, not this hub` };
  }
  const signature = Buffer.from(safeDecode(sig) ?? '', 'base64');
  // Signers URL-encode sr before signing; the Node SDK signs a bare host name, which encodes to itself on a
  // real hub but not with a port (`localhost%3A8443`). Either spelling of the same resource is accepted.
  const spellings = new Set([sr, encodeURIComponent(safeDecode(sr) ?? sr)]);
  for (const key of [policy.primaryKey, policy.secondaryKey]) {
    for (const spelling of spellings) {
      const expected = sign(key, spelling, se);
      if (expected.length === signature.length && timingSafeEqual(expected, signature))
        return { ok: true, policy };
    }
  }
  return { ok: false, reason: `the signature does not match policy ${keyName}'s keys` };
}

/** A token as the SDKs build one (sr URL-encoded), valid for `ttlSeconds`. */
export function createSharedAccessSignature(options: {
  resource: string;
  keyName: string;
  key: string;
  expirySeconds: number;
}): string {
  const sr = encodeURIComponent(options.resource);
  const se = String(options.expirySeconds);
  const sig = encodeURIComponent(sign(options.key, sr, se).toString('base64'));
  return `${PREFIX}sr=${sr}&sig=${sig}&se=${se}&skn=${encodeURIComponent(options.keyName)}`;
}
