export { PveClient, type RequestOptions } from './client.js';
export { configSchema, type ProxmoxConfig } from './config.js';
export { proxmox, VERSION } from './plugin.js';
