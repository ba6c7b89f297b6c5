/** A TCP relay whose connections a test can cut at once, as a dropped network would. */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class CutProxy {
  target = 0;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(private readonly server: Server) {}

  /** Listens on a free loopback port; set `target` before the first connection. */
  static async start(): Promise<CutProxy> {
    const server = createServer({ noDelay: true });
    const proxy = new CutProxy(server);
    server.on('connection', (client) => {
      const upstream = connect({ host: '127.0.0.1', port: proxy.target, noDelay: true });
      const pair: [Socket, Socket] = [client, upstream];
      proxy.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = (): void => {
        proxy.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get open(): number {
    return this.pairs.size;
  }

  /** Resets every connection through the proxy. */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
