import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface DynaliteHandle {
  /** http://127.0.0.1:<port>, for the AWS SDK's `endpoint`. */
  endpoint: string;
  stop(): Promise<void>;
}

/** An in-memory DynamoDB emulator in this process on a free loopback port. */
export async function startDynalite(): Promise<DynaliteHandle> {
  // createTableMs 0: tables are ACTIVE as soon as CreateTable returns, so tests need no waiter.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${address}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // The SDK keeps sockets alive; close() would otherwise wait for the client to drop them.
        server.closeIdleConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
