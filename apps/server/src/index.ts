export { type App, buildApp } from './app.js';
export { type AppConfig, appConfigSchema, type Flags, loadConfig } from './config.js';
export { main } from './main.js';
export { type CatalogEntry, catalog } from './plugins.js';
