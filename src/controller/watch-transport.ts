// The watch requests under client-node's informer (ListWatch), in place of its own Watch, which in 1.4 sends no
// bookmarks and no timeout, swallows parse errors and makes a new https.Agent per watch (leaking sockets on
// every reconnect). This one asks for bookmarks and a server-side timeout (as client-go: 5 to 10 minutes), keeps
// one agent per set of TLS credentials, drops a watch that goes silent (a watchdog), refuses to reconnect in a
// tight loop, and can end a watch as if the server had said 410 Gone, which makes the informer relist.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { AgentPool } from './kube-http.js';

export interface WatchTransportOptions {
  /** Each watch asks the server to end it after a random time between this and twice this (300 s). */
  minTimeoutSeconds?: number;
  /** A watch with no byte for this long is taken for stalled and dropped (bookmarks come about every minute). */
  idleTimeoutMs?: number;
  /** A watch that ends sooner than this after it started counts as a failure, so reconnects back off (1 s). */
  minHealthyMs?: number;
  /** What happened to watches, for logs and tests. */
  onEvent?: (event: WatchTransportEvent) => void;
}

export type WatchTransportEvent =
  | { type: 'connected'; path: string }
  | { type: 'ended'; path: string; afterMs: number }
  | { type: 'stalled'; path: string; silentMs: number }
  | { type: 'parseError'; path: string; line: string }
  | { type: 'failed'; path: string; error: string; status?: number; requested?: boolean };

type Callback = (phase: string, object: unknown, watchObject?: unknown) => void;
type Done = (error: unknown) => void;

interface ActiveWatch {
  path: string;
  end(error: unknown): void;
}

/**
 * An error as the informer reads it: `statusCode` 410 makes it relist instead of stopping. `requested`: a relist
 * this process asked for (forceRelist), not the server's answer.
 */
function statusError(
  message: string,
  statusCode: number,
  requested = false,
): Error & { statusCode: number; requested: boolean } {
  return Object.assign(new Error(message), { statusCode, requested });
}

export class WatchTransport extends Watch {
  private readonly agents = new AgentPool();
  private readonly active = new Set<ActiveWatch>();
  private readonly minTimeoutSeconds: number;
  private readonly idleTimeoutMs: number;
  private readonly minHealthyMs: number;

  constructor(
    config: KubeConfig,
    private readonly options: WatchTransportOptions = {},
  ) {
    super(config);
    this.minTimeoutSeconds = options.minTimeoutSeconds ?? 300;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 150_000;
    this.minHealthyMs = options.minHealthyMs ?? 1000;
  }

  /** Ends every open watch as if the server had answered 410 Gone: their informers list again. */
  forceRelist(reason = 'periodic relist'): void {
    for (const watch of [...this.active]) watch.end(statusError(`${reason}: relisting`, 410, true));
  }

  /** Ends every open watch with a connection error (tests drop watches this way too). */
  dropAll(reason = 'dropped'): void {
    for (const watch of [...this.active]) watch.end(new Error(reason));
  }

  /** Closes the kept connections. */
  close(): void {
    for (const watch of [...this.active]) watch.end(null);
    this.agents.close();
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: Callback,
    done: Done,
  ): Promise<AbortController> {
    const controller = new AbortController();
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    for (const [key, value] of Object.entries(queryParams))
      if (value !== undefined) url.searchParams.set(key, String(value));
    url.searchParams.set('watch', 'true');
    url.searchParams.set('allowWatchBookmarks', 'true');
    const timeoutSeconds = Math.round(this.minTimeoutSeconds * (1 + Math.random()));
    url.searchParams.set('timeoutSeconds', String(timeoutSeconds));

    // Fresh credentials per watch (tokens rotate); the connection pool is shared per TLS identity.
    const init = await this.config.applyToFetchOptions({});
    const headers: Record<string, string> = {};
    (init.headers as unknown as Headers | undefined)?.forEach((value, key) => {
      headers[key] = value;
    });
    const agent = this.agents.agentLike(init.agent as http.Agent | undefined);

    const started = Date.now();
    let lastByteAt = started;
    let finished = false;
    let watchdog: NodeJS.Timeout | undefined;
    let request: http.ClientRequest | undefined;
    const active: ActiveWatch = { path, end: (error) => finish(error) };
    const finish = (error: unknown) => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      this.active.delete(active);
      request?.destroy();
      controller.abort();
      const afterMs = Date.now() - started;
      if (error === null && afterMs < this.minHealthyMs) {
        error = new Error(`the watch of ${path} ended after ${afterMs} ms`);
      }
      if (error) {
        const { statusCode, requested } = error as { statusCode?: number; requested?: boolean };
        this.options.onEvent?.({
          type: 'failed',
          path,
          error: String((error as Error).message ?? error),
          status: statusCode,
          requested,
        });
      } else this.options.onEvent?.({ type: 'ended', path, afterMs });
      done(error);
    };
    controller.signal.addEventListener('abort', () => finish(null), { once: true });
    this.active.add(active);

    // The watchdog runs from the request on: a server that never answers is as stalled as one that stops.
    watchdog = setInterval(
      () => {
        const silentMs = Date.now() - lastByteAt;
        if (silentMs < this.idleTimeoutMs) return;
        this.options.onEvent?.({ type: 'stalled', path, silentMs });
        finish(new Error(`the watch of ${path} was silent for ${Math.round(silentMs / 1000)}s`));
      },
      Math.min(this.idleTimeoutMs, 5000),
    );
    watchdog.unref();
    const lib = url.protocol === 'http:' ? http : https;
    request = lib.request(url, { method: 'GET', headers, agent });
    request.on('error', (error) => finish(error));
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        response.on('end', () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {}
          finish(
            statusError(
              `watch ${path}: ${response.statusCode}: ${message}`.slice(0, 2000),
              response.statusCode ?? 0,
            ),
          );
        });
        response.on('error', (error) => finish(error));
        return;
      }
      this.options.onEvent?.({ type: 'connected', path });
      lastByteAt = Date.now();
      response.on('data', () => {
        lastByteAt = Date.now();
      });
      const lines = createInterface({ input: response, crlfDelay: Number.POSITIVE_INFINITY });
      // readline passes the stream's errors on: unhandled, a reset connection would end the process.
      lines.on('error', (error) => finish(error));
      lines.on('line', (line) => {
        if (finished || line.trim() === '') return;
        let event: { type?: string; object?: unknown };
        try {
          event = JSON.parse(line);
        } catch {
          this.options.onEvent?.({ type: 'parseError', path, line: line.slice(0, 200) });
          // A stream we cannot read is a stream we may have missed events in: start over.
          finish(new Error(`the watch of ${path} sent a line that is not JSON`));
          return;
        }
        if (event.type === 'ERROR') {
          const status = event.object as { code?: number; message?: string } | undefined;
          finish(statusError(`watch ${path}: ${status?.message ?? 'error'}`, status?.code ?? 500));
          return;
        }
        callback(String(event.type), event.object, event);
      });
      response.on('end', () => finish(null));
      response.on('error', (error) => finish(error));
      response.on('close', () => finish(null));
    });
    request.end();
    return controller;
  }
}
