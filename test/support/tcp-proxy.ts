// A TCP proxy in front of the API server, for tests of what happens to clients when connections drop, hang or
// are refused. TLS passes through untouched (the server's certificate names 127.0.0.1).
import net from 'node:net';

export class TcpProxy {
  private server?: net.Server;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private mode: 'forward' | 'refuse' | 'blackhole' = 'forward';
  /** Connections accepted so far. */
  connections = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  static forServer(server: string): TcpProxy {
    const url = new URL(server);
    return new TcpProxy({ host: url.hostname, port: Number(url.port) });
  }

  async listen(): Promise<string> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Resets every open connection (watches drop; the client sees ECONNRESET or an early end). */
  dropAll(): void {
    for (const { client, upstream } of this.pairs) {
      reset(client);
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** New connections are closed at once, as if the API server were down; open ones are dropped. */
  refuse(): void {
    this.mode = 'refuse';
    this.dropAll();
  }

  /** Open connections stay open but nothing more passes either way: a silent stall. New ones stall too. */
  blackhole(): void {
    this.mode = 'blackhole';
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Back to forwarding new connections (stalled ones are dropped). */
  forward(): void {
    if (this.mode === 'blackhole') this.dropAll();
    this.mode = 'forward';
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    this.connections++;
    if (this.mode === 'refuse') {
      reset(client);
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    if (this.mode === 'blackhole') {
      client.pause();
      return;
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/**
 * Closes `socket` with a TCP reset. Not once its end was asked for (the server closed its side and the pipe passed
 * the end on): libuv refuses a reset while a shutdown is under way, Node then never closes the handle, and the
 * process spins at 100% CPU at exit instead of ending. Such a socket is destroyed plainly.
 */
function reset(socket: net.Socket): void {
  if (socket.writableEnded || socket.destroyed) socket.destroy();
  else socket.resetAndDestroy();
}

/** A copy of a kubeconfig whose server is `server` (the proxy). */
export function kubeconfigVia(kubeconfigText: string, server: string): string {
  return kubeconfigText.replace(/server: \S+/g, `server: ${server}`);
}
