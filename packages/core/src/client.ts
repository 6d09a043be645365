import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ElicitResult, SampleParams, SampleResult } from './plugin.js';
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

/** What the server asks the user (a tool's `ctx.elicit`). */
export interface ElicitRequest {
  message: string;
  requestedSchema: Record<string, unknown>;
}
export type ElicitHandler = (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>;
export type SampleHandler = (params: SampleParams) => SampleResult | Promise<SampleResult>;

/** Answer the server's `elicitation/create` requests (the client must declare `elicitation`). */
export function handleElicitation(client: Client, handler: ElicitHandler): void {
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    const { message, requestedSchema } = req.params as ElicitRequest;
    return (await handler({ message, requestedSchema })) as never;
  });
}

/** Answer the server's `sampling/createMessage` requests (the client must declare `sampling`). */
export function handleSampling(client: Client, handler: SampleHandler): void {
  client.setRequestHandler(
    CreateMessageRequestSchema,
    async (req) => (await handler(req.params as SampleParams)) as never,
  );
}
