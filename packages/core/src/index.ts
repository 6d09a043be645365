export {
  type AllowList,
  allowListSchema,
  type CheckAllowedOptions,
  checkAllowed,
  checkGlob,
  globListSchema,
} from './allow.js';
export {
  type ApprovalClaim,
  type ApprovalOptions,
  type ApprovalStore,
  Approvals,
  changeHash,
  MemoryApprovalStore,
} from './approval.js';
/** Optional per-call output budget argument; add it to a tool's input to let callers raise or lower the budget. */
export { maxBytesArg } from './args.js';
export {
  AUDIT_LIMITS,
  type AuditCheckpoint,
  type AuditEntry,
  AuditLog,
  type AuditLogOptions,
  type AuditRecord,
  type AuditSink,
  type AuditStatus,
  auditFiles,
  type ChainReport,
  defaultAuditKeyFile,
  defaultAuditPath,
  defaultCheckpointPath,
  JsonlAuditSink,
  type JsonlAuditSinkOptions,
  loadAuditKey,
  MemoryAuditSink,
  type Outcome,
  StderrAuditSink,
  type VerifyOptions,
  type VerifyResult,
  verifyAuditFile,
  verifyAuditSink,
  verifyRecords,
} from './audit.js';
export {
  type Backend,
  type BackendRequest,
  Backends,
  type BreakerOptions,
  type CacheOptions,
  type Clock,
  type ResilienceOptions,
  type RetryOptions,
  systemClock,
} from './backend.js';
export { BREAKER_DEFAULTS, type BreakerState, CircuitBreaker } from './breaker.js';
export { CACHE_DEFAULTS } from './cache.js';
export { type CallLimits, PRESENTATION_ARGS } from './call.js';
export type { CallContext, ClientRequestOptions } from './call-context.js';
export { OutputCapture } from './capture.js';
export {
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
export { originPattern } from './http/cors.js';
export {
  type DiscoveredInstance,
  type InstancesFromContext,
  toInstanceName,
} from './instances.js';
export { LOG_LEVELS, type Logger, type LogLevel, stderrLogger } from './log.js';
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
  type CompletionContext,
  definePlugin,
  definePrompt,
  defineResource,
  defineTool,
  type Effect,
  type ElicitResult,
  type HealthReport,
  isPlugin,
  isPluginFactory,
  type Operation,
  type Plan,
  type Plugin,
  type PluginDefinition,
  type PollOptions,
  type PollStep,
  type PreviewItem,
  type PromptDefinition,
  type ResourceDefinition,
  type SampleParams,
  type SampleResult,
  type SamplingContent,
  type SamplingMessage,
  type SetupContext,
  type StillRunning,
  type ToolContext,
  type ToolCtx,
  type ToolDefinition,
  type ToolResult,
  toolkit,
} from './plugin.js';
export {
  type Decision,
  globToRegExp,
  matchesAny,
  type Policy,
  type PolicyRules,
  policyRulesSchema,
} from './policy.js';
export { isSecretKey, REDACTED, redact, redactString, redactThenCut } from './redact.js';
export {
  MAX_TOOL_NAME,
  portable,
  type RegisteredTool,
  type Registry,
} from './registry.js';
export { MAX_COMPLETIONS } from './resources.js';
export { RETRY_DEFAULTS } from './retry.js';
export { type Access, DEFAULT_SCOPES, type ScopeNames } from './scopes.js';
export type { ConnectOptions } from './sdk.js';
export {
  decryptSecret,
  defaultSecretKeyFile,
  encryptSecret,
  isSecretRef,
  keyFileTooOpen,
  loadSecretKey,
  parseSecretKey,
  resolveSecretRef,
  resolveSecretRefs,
  SECRET_KEY_ENV,
  SECRET_KEY_FILE_ENV,
  type SecretKey,
  type SecretRefContext,
  SecretRefError,
  type SecretReference,
  type SecretRefProblem,
  secretRefContext,
  showReference,
  showReferences,
} from './secret-refs.js';
export { type CreateServerOptions, createServer, InfraMcpServer } from './server.js';
export { serveStdio } from './stdio.js';
export {
  MemoryTaskStore,
  type MemoryTaskStoreOptions,
  type StoredTask,
  type TaskOptions,
  type TaskStore,
} from './tasks.js';
export {
  normalizeFingerprint,
  pinMismatchError,
  type TlsOptions,
  tlsOptionsSchema,
} from './tls.js';
