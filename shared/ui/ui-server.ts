import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUiHandler, type UiOptions } from './ui-handler.js';

/**
 * Serves the UI on 127.0.0.1 only: the store's contents are for whoever
 * runs it, never for the network. Port 0 (the default) picks a free one.
 */
export async function startUiServer(
  options: UiOptions & { port?: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createUiHandler(options);
  const server = createServer((req, res) => {
    handler(req, res).catch(() => {
      // The handler answers every error with a page; this only guards a broken connection.
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
