import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  CancelTaskRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListTasksRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';
import type { CallPipeline } from './call.js';
import type { CallContext, ClientRequestOptions } from './call-context.js';
import { protocolError } from './call-errors.js';
import { ErrorCodes, ToolError } from './errors.js';
import type { LogLevel } from './log.js';
import type { ElicitResult, SampleParams, SampleResult } from './plugin.js';
import type { Registry } from './registry.js';
import type { ReadPipeline } from './resources.js';
import { type Access, grants } from './scopes.js';
import type { TaskControl, Tasks } from './tasks.js';

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
  /** MCP tasks for long calls (tools/call with `task`); without it, tools are only called directly. */
  tasks?: Tasks;
  /** Where a task's call goes (default: `calls`). */
  taskCalls?: CallPipeline;
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
        ...(w.tasks ? { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } : {}),
      },
      instructions: w.instructions,
    },
  );
  let level: LogLevel = 'info';
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    level = req.params.level as LogLevel;
    return {};
  });
  const tools = w.tasks ? listedWithExecution(registry) : registry.toolList;
  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
    // an OAuth caller sees only the tools its token's scopes let it call, as read-only policy hides writes
    const access = accessOf(extra);
    if (!access) return { tools: tools as Tool[] };
    return {
      tools: (tools as Tool[]).filter((t) =>
        grants(access, registry.tools.get(t.name)?.effect ?? 'destructive'),
      ),
    };
  });
  // tasks of a caller the transport does not identify (stdio, in memory) belong to this connection;
  // over stateless HTTP without auth every request is a new connection, and any caller may see them
  const connection = options.stateless ? '' : `connection:${randomUUID()}`;
  // ...and end with it, as a direct call does when its client goes away: nobody could read them again
  const connectionGone = new AbortController();
  server.onclose = () => connectionGone.abort(new Error('the client disconnected'));
  const ownerOf = (extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
    const caller = extra.authInfo?.clientId as string | undefined;
    return caller !== undefined ? `caller:${caller}` : connection;
  };
  // Registered on Protocol, past Server's own tools/call wrapper, which answers non-object arguments
  // with a raw schema dump before any handler runs; our results are CallToolResults either way.
  Protocol.prototype.setRequestHandler.call(
    server,
    LenientCallToolRequestSchema as unknown as typeof CallToolRequestSchema,
    (async (req: CallToolRequest, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
      const declared = server.getClientCapabilities();
      // known from this connection's initialize; over stateless HTTP that went to another request
      const known = declared !== undefined || !options.stateless;
      const name = req.params.name;
      const args = req.params.arguments ?? {};
      const task = w.tasks && req.params.task ? w.tasks : undefined;
      const tool = task ? (registry.tools.get(name) ?? registry.hidden.get(name)) : undefined;
      if (task && tool && taskSupport(tool.def.taskSupport, tool.effect) !== 'optional')
        throw protocolError(
          ErrorCode.MethodNotFound,
          `${name} does not run as a task (execution.taskSupport is "forbidden" in tools/list): call it without "task"`,
        );
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
      const context = (signal: AbortSignal): CallContext => ({
        caller: (extra.authInfo?.clientId as string | undefined) ?? undefined,
        meta: req.params._meta as Record<string, unknown> | undefined,
        access: accessOf(extra),
        signal,
        progressToken: req.params._meta?.progressToken,
        sendNotification: (n) => extra.sendNotification(n as any),
        logLevel: level,
        // approvals by elicitation only where the client said it can: otherwise the token flow
        elicit: declared?.elicitation?.form
          ? async (message) => {
              const answer = await elicitInput(message, APPROVE_SCHEMA, {
                signal,
                timeoutMs: APPROVAL_PROMPT_TIMEOUT_MS,
              });
              return answer.action === 'accept' && answer.content?.approve === true;
            }
          : undefined,
        elicitInput: (known ? declared?.elicitation?.form : true) ? elicitInput : undefined,
        createMessage: (known ? declared?.sampling : true) ? createMessage : undefined,
      });
      if (!task || !tool) return w.calls.call(name, args, context(extra.signal)) as Promise<any>;
      // a task: the call runs on after this answer; tasks/get, tasks/result and tasks/cancel follow it
      const owner = ownerOf(extra);
      const created = await task.start(owner, req.params.task!.ttl, (control) => {
        const signal =
          owner === connection && owner !== ''
            ? AbortSignal.any([control.signal, connectionGone.signal])
            : control.signal;
        return (w.taskCalls ?? w.calls).call(
          name,
          args,
          asTask(context(signal), control, !!options.stateless),
        );
      });
      return { task: created } as any;
    }) as never,
  );
  if (w.tasks) {
    const tasks = w.tasks;
    server.setRequestHandler(GetTaskRequestSchema, async (req, extra) =>
      tasks.get(req.params.taskId, ownerOf(extra)),
    );
    server.setRequestHandler(
      GetTaskPayloadRequestSchema,
      async (req, extra) => (await tasks.result(req.params.taskId, ownerOf(extra), extra.signal)) as any,
    );
    server.setRequestHandler(ListTasksRequestSchema, async (req, extra) =>
      tasks.list(ownerOf(extra), req.params?.cursor),
    );
    server.setRequestHandler(CancelTaskRequestSchema, async (req, extra) =>
      tasks.cancel(req.params.taskId, ownerOf(extra)),
    );
  }
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

/** The scopes of the caller's OAuth access token (the HTTP transport puts them in `authInfo.extra`). */
function accessOf(extra: RequestHandlerExtra<ServerRequest, ServerNotification>): Access | undefined {
  return extra.authInfo?.extra?.access as Access | undefined;
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

/** Task support of a tool: writes and destructive tools (long operations) by default, reads when they opt in. */
export function taskSupport(
  declared: 'optional' | 'forbidden' | undefined,
  effect: string,
): 'optional' | 'forbidden' {
  return declared ?? (effect === 'read' ? 'forbidden' : 'optional');
}

const listings = new WeakMap<object, unknown[]>();

/** tools/list entries with `execution.taskSupport` where a tool runs as a task; computed once per registry. */
function listedWithExecution(registry: Registry): unknown[] {
  let listed = listings.get(registry.toolList);
  if (!listed) {
    listed = registry.toolList.map((listing) => {
      const tool = registry.tools.get(listing.name);
      return tool && taskSupport(tool.def.taskSupport, tool.effect) === 'optional'
        ? { ...listing, execution: { taskSupport: 'optional' } }
        : listing;
    });
    listings.set(registry.toolList, listed);
  }
  return listed;
}

/**
 * A call run as a task: its progress becomes the task's status; an approved long operation waits as
 * long as the task lives instead of the tool's timeout; questions to the client mark the task
 * `input_required` while they wait. Over stateless HTTP the request's stream ends with the task, so
 * nothing more is sent to the client there: no progress notifications, no elicitation or sampling
 * (approvals use tokens; a tool's ctx.elicit is absent).
 */
function asTask(call: CallContext, control: TaskControl, stateless: boolean): CallContext {
  const waiting = <A extends unknown[], R>(fn: ((...a: A) => Promise<R>) | undefined) =>
    fn && !stateless
      ? async (...a: A): Promise<R> => {
          control.status('input_required', 'waiting for the client');
          try {
            return await fn(...a);
          } finally {
            control.status('working');
          }
        }
      : undefined;
  const send = call.sendNotification;
  return {
    ...call,
    runDeadline: control.deadline,
    onProgress: (progress, total, message) =>
      control.status(
        'working',
        message ?? (total !== undefined ? `${progress} of ${total}` : `step ${progress}`),
      ),
    sendNotification: send && !stateless ? (n) => send(n).catch(() => {}) : undefined,
    elicit: waiting(call.elicit),
    elicitInput: waiting(call.elicitInput),
    createMessage: waiting(call.createMessage),
  };
}
