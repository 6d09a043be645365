export {
  DynamoApprovalStore,
  type DynamoApprovalStoreOptions,
  dynamoApprovalStore,
} from './approvals/dynamodb-store.js';
export { type ArgocdConfig, argocdConfig } from './argocd/config.js';
export { argocd } from './argocd/plugin.js';
export { DynamoAuditSink, type DynamoAuditSinkOptions, dynamoAuditSink } from './audit/dynamodb-sink.js';
export { type AwsConfig, awsConfig } from './aws/config.js';
export { aws } from './aws/plugin.js';
export { type HelmConfig, helmConfig } from './helm/config.js';
export { helm } from './helm/plugin.js';
export { redactYaml } from './helm/redact.js';
export { resolveUnder } from './paths.js';
export { childEnv, failure, type RunResult, type RunSpec, run, runDetails } from './runner.js';
export { type TerraformConfig, terraformConfig } from './terraform/config.js';
export { terraform } from './terraform/plugin.js';
export { actionOf, type PlanSummary, summarisePlan } from './terraform/summary.js';
export { VERSION } from './version.js';
