export { type ArgocdConfig, argocdConfig } from './argocd/config.js';
export { argocd } from './argocd/plugin.js';
export { resolveUnder } from './paths.js';
export { childEnv, failure, type RunResult, type RunSpec, run, runDetails } from './runner.js';
export { type TerraformConfig, terraformConfig } from './terraform/config.js';
export { terraform } from './terraform/plugin.js';
export { actionOf, type PlanSummary, summarisePlan } from './terraform/summary.js';
export { VERSION } from './version.js';
