declare const __INFRA_MCP_VERSION__: string | undefined;

/** Injected at build time from package.json (tsup define); "dev" when run from source. */
export const VERSION: string = typeof __INFRA_MCP_VERSION__ === 'string' ? __INFRA_MCP_VERSION__ : 'dev';
