export { type ApiResult, type Params, PrometheusClient } from './client.js';
export { configSchema, type PrometheusConfig } from './config.js';
export { prometheus, VERSION } from './plugin.js';
export { prompts } from './prompts.js';
export { parseDuration, parseTime, resolveRange } from './time.js';
