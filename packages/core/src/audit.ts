/** Audit: records, chains, sinks, verification. See the README's "Audit" section. */
export { defaultAuditPath, JsonlAuditSink, type JsonlAuditSinkOptions } from './audit/jsonl-sink.js';
export {
  type AuditCheckpoint,
  type AuditKeyOptions,
  auditKeyDir,
  defaultAuditKeyFile,
  defaultCheckpointPath,
  loadAuditKey,
} from './audit/key.js';
export { acquireLock, type LockOptions } from './audit/lock.js';
export {
  AuditLog,
  type AuditLogOptions,
  type AuditStatus,
  MemoryAuditSink,
  StderrAuditSink,
} from './audit/log.js';
export {
  AUDIT_LIMITS,
  AUDIT_NOTE_TOOL,
  AUDIT_RECORD_VERSION,
  type AuditEntry,
  type AuditNoteOutcome,
  type AuditRecord,
  boundEntry,
  boundToolName,
  GENESIS,
  hashRecord,
  hmacRecord,
  isPlausibleToolName,
  type Outcome,
} from './audit/record.js';
export type { AuditSink } from './audit/sink.js';
export {
  AuditVerifier,
  auditFiles,
  type ChainReport,
  type VerifyOptions,
  type VerifyResult,
  verifyAuditFile,
  verifyAuditSink,
  verifyRecords,
} from './audit/verify.js';
