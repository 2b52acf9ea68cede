// The routing table shape shared by the hub's REST API and the admin API.
import type { IncomingHttpHeaders } from 'node:http';
import type { StatsClass } from './stats.js';

export interface ApiRequest {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
}

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  /** Segments; `:name` captures one (URL-decoded). */
  path: string;
  /** The quota, fault and statistics class of the operation (the Entra authority's requests are not routed here). */
  operation: Exclude<StatsClass, 'entra'>;
  /** Hub operations require `api-version`; the admin API does not. */
  apiVersion: boolean;
  /** Largest body accepted; 256 KiB unless given. */
  maxBodyBytes?: number;
  handle(request: ApiRequest): ApiResult | Promise<ApiResult>;
}

interface CompiledRoute {
  route: Route;
  segments: string[];
}

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
  }

  /** The route for a request and its captured parameters; undefined when no route has that path and method. */
  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
    const parts = pathname.split('/').filter(Boolean);
    for (const { route, segments } of this.compiled) {
      if (route.method !== method || segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      for (let i = 0; i < segments.length && matched; i++) {
        if (segments[i].startsWith(':')) {
          try {
            params[segments[i].slice(1)] = decodeURIComponent(parts[i]);
          } catch {
            matched = false;
          }
        } else if (segments[i].toLowerCase() !== parts[i].toLowerCase()) {
          matched = false;
        }
      }
      if (matched) return { route, params };
    }
    return undefined;
  }
}

export function ok(body?: unknown, headers?: Record<string, string>): ApiResult {
  return { status: 200, body, headers };
}
