export { type ApprovalOptions, Approvals, changeHash } from './approval.js';
/** Optional per-call output budget argument; add it to a tool's input to let callers raise or lower the budget. */
export { maxBytesArg } from './args.js';
export {
  type AuditEntry,
  AuditLog,
  type AuditRecord,
  type AuditSink,
  defaultAuditPath,
  GENESIS,
  hashRecord,
  JsonlAuditSink,
  MemoryAuditSink,
  type Outcome,
  StderrAuditSink,
  type VerifyResult,
  verifyAuditFile,
  verifyRecords,
} from './audit.js';
export {
  coerceEnv,
  collectSecrets,
  example,
  formatIssues,
  pluginPolicySchema,
  type ResolvedPluginConfig,
  redactConfig,
  resolvePluginConfig,
  secret,
} from './config.js';
export { ConfigError, ErrorCodes, isToolError, ToolError } from './errors.js';
export { canonicalJson, sha256 } from './hash.js';
export { type Logger, type LogLevel, stderrLogger } from './log.js';
export { Metrics } from './metrics.js';
export {
  byteLength,
  DEFAULT_BUDGET,
  decodeCursor,
  encodeCursor,
  type Fitted,
  fitToBudget,
  humanBytes,
  humanDuration,
  humanNumber,
  renderData,
  table,
  truncateText,
  truncationNotice,
} from './output.js';
export {
  type Answer,
  answerBytes,
  type CursorPosition,
  checkAnswer,
  cursorArg,
  type Echo,
  echo,
  type FitOptions,
  fingerprint,
  fitAnswer,
  fitNotes,
  fitPage,
  fitTail,
  headBytes,
  type ListPageOptions,
  listInput,
  listOutput,
  type Notes,
  nextCursorSchema,
  noteFields,
  offsetSchema,
  openCursor,
  type Page,
  pageFields,
  pageNotice,
  pageRange,
  pager,
  readCursor,
  tailBytes,
} from './page.js';
export {
  type Completer,
  definePlugin,
  definePrompt,
  defineResource,
  defineTool,
  type Effect,
  type ElicitResult,
  type HealthReport,
  isPlugin,
  isPluginFactory,
  type Plan,
  type Plugin,
  type PluginDefinition,
  type PromptDefinition,
  type ResourceDefinition,
  type SampleParams,
  type SampleResult,
  type SamplingContent,
  type SamplingMessage,
  type ToolContext,
  type ToolCtx,
  type ToolDefinition,
  type ToolResult,
  toolkit,
} from './plugin.js';
export {
  type Decision,
  decide,
  globToRegExp,
  isListed,
  matchesAny,
  type Policy,
  type PolicyRules,
  policyRulesSchema,
} from './policy.js';
export { isSecretKey, REDACTED, redact, redactString } from './redact.js';
export {
  buildRegistry,
  MAX_TOOL_NAME,
  portable,
  type RegisteredTool,
  type Registry,
  type RegistryOptions,
  selectToolsets,
} from './registry.js';
export { PluginRuntime } from './runtime.js';
export {
  type CallContext,
  type ClientRequestOptions,
  type ConnectOptions,
  type CreateServerOptions,
  createServer,
  InfraMcpServer,
  MAX_COMPLETIONS,
} from './server.js';
export { serveStdio } from './stdio.js';
export { validatePlugin, validatePlugins } from './validate.js';
