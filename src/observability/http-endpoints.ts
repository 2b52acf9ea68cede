// The operator's HTTP endpoints: /metrics (Prometheus text) on the metrics address, over HTTPS and for allowed
// callers only unless asked otherwise, /healthz (the process answers) and /readyz (caches synced; leader or a
// standby ready to take over) on the probe address, plain HTTP as kubelet probes them.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessDecision } from './metrics-access.js';
import type { ServingCertificate } from './serving-certificate.js';

export type Handler = () => Promise<{ status: number; body: string; contentType?: string }>;

export interface RunningHttpServer {
  /** `host:port` it listens on (the port chosen when 0 was asked for). */
  address: string;
  /** `http://` or `https://` and the address. */
  url: string;
  /** Serves another certificate from the next connection on (an HTTPS server only). */
  setCertificate(certificate: ServingCertificate): void;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  /** Serve HTTPS with this certificate. */
  tls?: ServingCertificate;
  /** Decides on each request before its handler runs (401, 403 or 500 end it). */
  authorize?: (authorization: string | undefined, method: string, path: string) => Promise<AccessDecision>;
}

/** `:8080`, `0.0.0.0:8080`, `127.0.0.1:0`; "0" turns the endpoint off (undefined). */
export function parseBindAddress(text: string, flag: string): { host: string; port: number } | undefined {
  if (text === '0') return undefined;
  const match = /^(?:\[?([^\]]*)\]?)?:(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535)
    throw new Error(`${flag} must be HOST:PORT or :PORT (0 to turn it off), not '${text}'`);
  return { host: match[1] || '0.0.0.0', port };
}

export async function startHttpServer(
  bind: { host: string; port: number },
  routes: Record<string, Handler>,
  options: HttpServerOptions = {},
): Promise<RunningHttpServer> {
  const listener: http.RequestListener = (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const handler = request.method === 'GET' ? routes[path] : undefined;
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const decided = options.authorize
      ? options.authorize(request.headers.authorization, request.method ?? 'GET', path)
      : Promise.resolve(undefined);
    decided
      .then((decision) => {
        if (decision && decision.status !== 200)
          return { status: decision.status, body: `${decision.message}\n`, contentType: undefined };
        return handler();
      })
      .then(
        ({ status, body, contentType }) =>
          response
            .writeHead(status, { 'content-type': contentType ?? 'text/plain; charset=utf-8' })
            .end(body),
        (error: unknown) =>
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
      );
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    address: `${address.address}:${address.port}`,
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    setCertificate(certificate) {
      if (!(server instanceof https.Server)) throw new Error('a plain HTTP server has no certificate');
      server.setSecureContext({ cert: certificate.cert, key: certificate.key });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
