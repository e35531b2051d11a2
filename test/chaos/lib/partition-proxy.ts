import net from 'node:net';

/**
 * A TCP proxy that can stop forwarding without closing anything: a network partition as a process meets
 * it, where connections stay open and every read simply waits (test/helpers/tcp-proxy.ts cuts instead,
 * which the other side notices at once). `heal()` forwards again whatever was held back.
 */
export interface PartitionProxy {
  readonly port: number;
  partition(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startPartitionProxy(target: { host: string; port: number }): Promise<PartitionProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let partitioned = false;
  const join = (p: { client: net.Socket; upstream: net.Socket }): void => {
    p.client.pipe(p.upstream);
    p.upstream.pipe(p.client);
  };
  const split = (p: { client: net.Socket; upstream: net.Socket }): void => {
    p.client.unpipe(p.upstream);
    p.upstream.unpipe(p.client);
    p.client.pause();
    p.upstream.pause();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const p = { client, upstream };
    pairs.add(p);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(p);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    if (partitioned) client.pause();
    else join(p);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    partition() {
      partitioned = true;
      for (const p of pairs) split(p);
    },
    heal() {
      partitioned = false;
      for (const p of pairs) join(p);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
