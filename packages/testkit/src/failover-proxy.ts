/**
 * A small TCP load balancer for tests of several nodes, on loopback: each new connection goes to
 * the first backend, in the current order, that accepts it (a dead node refuses; the next is
 * tried), as a balancer with health checks would send it. Bytes are piped both ways untouched,
 * so HTTP and WebSockets pass as they are. The order can change (setOrder) to steer a test.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface FailoverProxy {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** Backends (host:port or http://host:port), tried in this order for each new connection. */
  setOrder(backends: readonly string[]): void;
  /** Which backend each connection went to, in order (for a test to check where agents landed). */
  readonly routed: string[];
  close(): Promise<void>;
}

function hostPort(backend: string): { host: string; port: number } {
  const url = new URL(backend.includes('://') ? backend : `tcp://${backend}`);
  return { host: url.hostname, port: Number(url.port) };
}

export async function startFailoverProxy(backends: readonly string[]): Promise<FailoverProxy> {
  let order = [...backends];
  const routed: string[] = [];
  const open = new Set<Socket>();
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  /** Connects to the first backend from `index` on that accepts; undefined when none does. */
  const dial = (candidates: readonly string[], index: number): Promise<{ socket: Socket; backend: string } | undefined> => {
    const backend = candidates[index];
    if (backend === undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const upstream = connect(hostPort(backend));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        resolve({ socket: upstream, backend });
      });
      upstream.once('error', () => {
        upstream.destroy();
        resolve(dial(candidates, index + 1));
      });
    });
  };

  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    void dial(order, 0).then((found) => {
      if (found === undefined || client.destroyed) {
        found?.socket.destroy();
        client.destroy();
        return;
      }
      const upstream = found.socket;
      routed.push(found.backend);
      track(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    setOrder: (next) => {
      order = [...next];
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
