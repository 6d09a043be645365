import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';
import type { CallPipeline } from './call.js';
import type { ClientRequestOptions } from './call-context.js';
import { protocolError } from './call-errors.js';
import { ErrorCodes, ToolError } from './errors.js';
import type { LogLevel } from './log.js';
import type { ElicitResult, SampleParams, SampleResult } from './plugin.js';
import type { Registry } from './registry.js';
import type { ReadPipeline } from './resources.js';

/** How a transport relates to the client's `initialize`. */
export interface ConnectOptions {
  /**
   * Stateless HTTP: every request is served by a fresh protocol server that never saw the client's
   * `initialize`, so the client's capabilities are unknown. `ctx.elicit`/`ctx.sample` are then offered
   * anyway (a client without the capability answers "method not found": `client_unsupported`);
   * elicitation for write approvals is used only where the client declared it.
   */
  stateless?: boolean;
}

/** How long an approval prompt waits for the human (the SDK's default request timeout). */
const APPROVAL_PROMPT_TIMEOUT_MS = 60_000;

const APPROVE_SCHEMA = {
  type: 'object',
  properties: { approve: { type: 'boolean', title: 'Apply this change?' } },
  required: ['approve'],
};

/**
 * tools/call as the SDK routes it, with `arguments` of any JSON type: the pipeline says what is
 * wrong with non-object arguments in words, instead of the SDK's raw schema error.
 */
const LenientCallToolRequestSchema = CallToolRequestSchema.extend({
  params: CallToolRequestSchema.shape.params.extend({ arguments: z.unknown().optional() }),
});

export interface SdkWiring {
  name: string;
  version: string;
  instructions?: string;
  registry: Registry;
  calls: CallPipeline;
  reads: ReadPipeline;
}

/** A protocol server bound to the registry: MCP requests in, the pipelines do the work. */
export function sdkServer(w: SdkWiring, options: ConnectOptions = {}): Server {
  const { registry } = w;
  const hasResources = registry.resources.length > 0;
  const hasPrompts = registry.prompts.size > 0;
  const server = new Server(
    { name: w.name, version: w.version },
    {
      capabilities: {
        tools: { listChanged: false },
        ...(hasResources ? { resources: {} } : {}),
        ...(hasPrompts ? { prompts: {} } : {}),
        logging: {},
        ...(registry.completions ? { completions: {} } : {}),
      },
      instructions: w.instructions,
    },
  );
  let level: LogLevel = 'info';
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    level = req.params.level as LogLevel;
    return {};
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: registry.toolList as any }));
  // Registered on Protocol, past Server's own tools/call wrapper, which answers non-object arguments
  // with a raw schema dump before any handler runs; our results are CallToolResults either way.
  Protocol.prototype.setRequestHandler.call(
    server,
    LenientCallToolRequestSchema as unknown as typeof CallToolRequestSchema,
    (async (req: CallToolRequest, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
      const declared = server.getClientCapabilities();
      // known from this connection's initialize; over stateless HTTP that went to another request
      const known = declared !== undefined || !options.stateless;
      // server->client requests go out as part of this request (the SDK relates them to its id)
      const elicitInput = async (
        message: string,
        requestedSchema: object,
        { signal, timeoutMs }: ClientRequestOptions,
      ): Promise<ElicitResult> => {
        const answer = await clientRequest('elicitation', 'elicitation/create', () =>
          extra.sendRequest(
            { method: 'elicitation/create', params: { message, requestedSchema } } as never,
            ElicitResultSchema,
            { signal, timeout: timeoutMs },
          ),
        );
        if (answer.action === 'accept' && answer.content) {
          const check = new AjvJsonSchemaValidator().getValidator(requestedSchema as never)(answer.content);
          if (!check.valid)
            throw new ToolError(
              ErrorCodes.invalidClientAnswer,
              `the client's elicitation answer does not match the requested schema: ${check.errorMessage}`,
              'ask again; the client should validate the form against the schema',
            );
        }
        return {
          action: answer.action,
          ...(answer.content ? { content: answer.content as Record<string, unknown> } : {}),
        };
      };
      const createMessage = async (
        params: SampleParams,
        { signal, timeoutMs }: ClientRequestOptions,
      ): Promise<SampleResult> => {
        const answer = await clientRequest('sampling', 'sampling/createMessage', () =>
          extra.sendRequest({ method: 'sampling/createMessage', params }, CreateMessageResultSchema, {
            signal,
            timeout: timeoutMs,
          }),
        );
        const { role, content, model, stopReason } = answer;
        const result: SampleResult = { role, content, model, ...(stopReason ? { stopReason } : {}) };
        return result;
      };
      return w.calls.call(req.params.name, req.params.arguments ?? {}, {
        caller: (extra.authInfo?.clientId as string | undefined) ?? undefined,
        signal: extra.signal,
        progressToken: req.params._meta?.progressToken,
        sendNotification: (n) => extra.sendNotification(n as any),
        logLevel: level,
        // approvals by elicitation only where the client said it can: otherwise the token flow
        elicit: declared?.elicitation?.form
          ? async (message) => {
              const answer = await elicitInput(message, APPROVE_SCHEMA, {
                signal: extra.signal,
                timeoutMs: APPROVAL_PROMPT_TIMEOUT_MS,
              });
              return answer.action === 'accept' && answer.content?.approve === true;
            }
          : undefined,
        elicitInput: (known ? declared?.elicitation?.form : true) ? elicitInput : undefined,
        createMessage: (known ? declared?.sampling : true) ? createMessage : undefined,
      }) as Promise<any>;
    }) as never,
  );
  if (hasResources) {
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({
      resources: registry.resources
        .filter((r) => r.uri)
        .map((r) => ({
          uri: r.uri!,
          name: r.def.name,
          title: r.def.title,
          description: r.def.description,
          mimeType: r.def.mimeType,
        })),
    }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
      resourceTemplates: registry.resources
        .filter((r) => r.template)
        .map((r) => ({
          uriTemplate: r.def.template!,
          name: r.def.name,
          title: r.def.title,
          description: r.def.description,
          mimeType: r.def.mimeType,
        })),
    }));
    server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) =>
      w.reads.readResource(req.params.uri, extra.signal, extra.authInfo?.clientId as string | undefined),
    );
  }
  if (hasPrompts) {
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({
      prompts: [...registry.prompts.values()].map((p) => ({
        name: p.name,
        title: p.def.title,
        description: p.def.description,
        arguments: p.def.args
          ? Object.entries(p.def.args.shape).map(([name, s]) => ({
              name,
              description: (s as z.ZodType).description,
              required: !(s as z.ZodType).safeParse(undefined).success,
            }))
          : [],
      })),
    }));
    server.setRequestHandler(GetPromptRequestSchema, async (req) => {
      const prompt = registry.prompts.get(req.params.name);
      if (!prompt) throw protocolError(ErrorCode.InvalidParams, `Unknown prompt: ${req.params.name}`);
      const args = prompt.def.args
        ? prompt.def.args.safeParse(req.params.arguments ?? {})
        : { success: true as const, data: {} };
      if (!args.success)
        throw protocolError(
          ErrorCode.InvalidParams,
          `Invalid arguments for prompt ${req.params.name}: ${z.prettifyError(args.error)}`,
        );
      return {
        description: prompt.def.description,
        messages: prompt.def.render(args.data as Record<string, string>).map((m) => ({
          role: m.role,
          content: 'content' in m ? m.content : { type: 'text', text: m.text },
        })) as any,
      };
    });
  }
  if (registry.completions) {
    server.setRequestHandler(CompleteRequestSchema, async (req, extra) =>
      w.reads.complete(
        req.params.ref,
        req.params.argument,
        req.params.context?.arguments,
        extra.signal,
        extra.authInfo?.clientId as string | undefined,
      ),
    );
  }
  return server;
}

/** A server->client request; a client without the capability answers "method not found". */
async function clientRequest<T>(what: string, method: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof McpError && err.code === ErrorCode.MethodNotFound)
      throw new ToolError(
        ErrorCodes.clientUnsupported,
        `the client does not support ${what} (it answered ${method} with: ${err.message})`,
        `this tool needs a client with ${what} support`,
      );
    throw err;
  }
}
