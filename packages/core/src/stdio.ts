import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { InfraMcpServer } from './server.js';

/** Serve on stdin/stdout. Resolves when the client disconnects. */
export async function serveStdio(app: InfraMcpServer): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  const server = await app.connect(transport);
  const prev = transport.onclose;
  transport.onclose = () => prev?.();
  process.stdin.on('end', () => {
    server.close().catch(() => {});
  });
  await closed;
}
