// The operator's HTTP endpoints: /metrics (Prometheus text) on the metrics address, /healthz (the process
// answers) and /readyz (caches synced; leader or a standby ready to take over) on the probe address.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = () => Promise<{ status: number; body: string; contentType?: string }>;

export interface RunningHttpServer {
  /** `host:port` it listens on (the port chosen when 0 was asked for). */
  address: string;
  close(): Promise<void>;
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
): Promise<RunningHttpServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const handler = request.method === 'GET' ? routes[path] : undefined;
    if (!handler) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    handler().then(
      ({ status, body, contentType }) =>
        response.writeHead(status, { 'content-type': contentType ?? 'text/plain; charset=utf-8' }).end(body),
      (error: unknown) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    address: `${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
