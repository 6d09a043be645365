import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { InfraMcpServer } from './server.js';

/**
 * Serve on stdin/stdout. Resolves when the client disconnects. When stdin ends (a piped script),
 * calls still running finish and their answers are written before the server closes.
 */
export async function serveStdio(app: InfraMcpServer): Promise<void> {
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  const server = await app.connect(transport);
  process.stdin.on('end', () => {
    // let the last lines be parsed and dispatched, then wait for in-flight calls
    setImmediate(() => {
      app
        .idle()
        .then(() => new Promise((resolve) => setImmediate(resolve))) // the SDK sends the last answer
        .then(() => server.close())
        .catch(() => {});
    });
  });
  await closed;
}
