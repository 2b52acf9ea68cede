// Small pieces the authority's endpoints share.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiResult } from '../routes.js';

/** Compares secrets in constant time (of their hashes, so lengths do not show either). */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** A JSON answer that no cache keeps (tokens are in it). */
export function json(status: number, body: unknown): ApiResult {
  return { status, body, headers: { 'Cache-Control': 'no-store' } };
}
