// The HTTP layer under client-node's API clients. client-node 1.4 sends requests with node-fetch 2, which pipes
// a response body without listening for its errors: a connection reset while a body is read (an API server
// restarting, a load balancer dropping connections) is an uncaught exception that ends the process. This layer
// rejects the call instead, gives every call a timeout (client-node has none), and keeps one keep-alive
// connection pool per TLS identity rather than a new agent (and TLS handshake) per request.
import http from 'node:http';
import https from 'node:https';
import {
  type ConfigurationOptions,
  createConfiguration,
  type KubeConfig,
  Observable,
  type RequestContext,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
} from '@kubernetes/client-node';

/** One keep-alive agent per TLS identity (CA, client certificate, verification), made from client-node's. */
export class AgentPool {
  private readonly agents = new Map<string, http.Agent>();

  /** The pooled agent with `template`'s TLS options; `template` itself is destroyed (it was never used). */
  agentLike(template: http.Agent | undefined): http.Agent | undefined {
    if (!template) return undefined;
    const options = (template as unknown as { options?: https.AgentOptions }).options ?? {};
    const secure = template instanceof https.Agent;
    const key = JSON.stringify([
      secure,
      options.ca,
      options.cert,
      options.key,
      options.pfx,
      options.rejectUnauthorized,
      options.servername,
    ]);
    let agent = this.agents.get(key);
    if (!agent) {
      const shared = { ...options, keepAlive: true, maxSockets: 32 };
      agent = secure ? new https.Agent(shared) : new http.Agent(shared);
      this.agents.set(key, agent);
    }
    if (agent !== template) template.destroy();
    return agent;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

export interface KubeHttpOptions {
  /** A call that has not completed in this long fails (60 s). Watches do not go through here. */
  timeoutMs?: number;
  agents?: AgentPool;
}

/** client-node's HttpLibrary over node:http(s), with the errors of a response body handled. */
export function kubeHttpLibrary(options: KubeHttpOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const agents = options.agents ?? new AgentPool();
  return wrapHttpLibrary({
    send(request: RequestContext): Promise<ResponseContext> {
      const url = new URL(request.getUrl());
      const lib = url.protocol === 'http:' ? http : https;
      const body = request.getBody();
      return new Promise<ResponseContext>((resolve, reject) => {
        const req = lib.request(url, {
          method: request.getHttpMethod(),
          headers: request.getHeaders(),
          agent: agents.agentLike(request.getAgent()),
          signal: request.getSignal(),
        });
        req.setTimeout(timeoutMs, () =>
          req.destroy(
            new Error(
              `the API server did not answer ${request.getHttpMethod()} ${url.pathname} within ${timeoutMs / 1000}s`,
            ),
          ),
        );
        req.on('error', reject);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            if (!res.complete) {
              reject(
                new Error(
                  `the connection closed before the answer to ${request.getHttpMethod()} ${url.pathname} was complete`,
                ),
              );
              return;
            }
            const data = Buffer.concat(chunks);
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers))
              if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
            resolve(
              new ResponseContext(res.statusCode ?? 0, headers, {
                text: async () => data.toString('utf8'),
                binary: async () => data,
              }),
            );
          });
        });
        if (typeof body === 'string' || Buffer.isBuffer(body)) req.write(body);
        else if (body !== undefined) {
          req.destroy(new Error('form bodies are not supported by this HTTP layer'));
          return;
        }
        req.end();
      });
    },
  });
}

/** An API client of `kc`'s current cluster over kubeHttpLibrary (what kc.makeApiClient does, safely). */
export function makeKubeApi<T>(
  kc: KubeConfig,
  api: new (configuration: ReturnType<typeof createConfiguration>) => T,
  options: KubeHttpOptions = {},
): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      httpApi: kubeHttpLibrary(options),
    }),
  );
}

/**
 * Options for one API call that end it (its request destroyed, the call rejected) when it has not completed within
 * `ms`, however busy its connection: for calls that are worth nothing late, such as a Lease renewal, which
 * client-go bounds the same way.
 */
export function callWithin(ms: number): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
