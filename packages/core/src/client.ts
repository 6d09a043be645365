import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { InfraMcpServer } from './server.js';

export type { Client };

/**
 * An MCP client connected in memory to a server (tests, embedding). A separate entry point
 * (`@infra-mcp/core/client`) so a server never loads the SDK's client code.
 */
export async function connectInMemory(
  server: InfraMcpServer,
  capabilities: Record<string, unknown> = {},
): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'infra-mcp-test-client', version: '0.0.0' }, { capabilities });
  await client.connect(clientSide);
  return client;
}
