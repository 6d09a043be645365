import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

export default defineConfig([
  {
    // The CLI entry: a few lines that enable the compile cache, then load the bundle.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    target: 'node22',
    platform: 'node',
    clean: true,
    external: ['./run.js'],
  },
  {
    // The server, bundled: a cold start reads this file and the chunks it shares with the lazy parts,
    // never node_modules. The HTTP transport, each plugin and the YAML parser are split into chunks
    // loaded on first use: in one file, their Node built-in imports (http, http2, tls, zlib) would be
    // hoisted and loaded at every start (measured: 1.45x -> 1.10x of a minimal SDK server, bench/cold-start.mjs).
    // `index` (the app's own API: main, buildApp, catalog) shares the same chunks. The published
    // package lists none of the bundled modules as dependencies (they are devDependencies), and
    // ships no source maps.
    entry: { run: 'src/run.ts', index: 'src/index.ts' },
    format: ['esm'],
    target: 'node22',
    platform: 'node',
    sourcemap: false,
    splitting: true,
    // Everything is bundled but the heavy backend clients, which load from node_modules at a
    // plugin's first real use (and the Redis client, loaded only when approvals.store.redis is set).
    // @infra-mcp/proxmox and proxmox-api are GPL-3.0: never bundled into this Apache-2.0 file.
    noExternal: [
      /^(?!@aws-sdk\/|@smithy\/|@kubernetes\/client-node|@infra-mcp\/proxmox|proxmox-api|redis$|@redis\/)/,
    ],
    define: { __INFRA_MCP_VERSION__: JSON.stringify(version) },
    banner: {
      js: "import { createRequire as __infraMcpCreateRequire } from 'node:module'; const require = __infraMcpCreateRequire(import.meta.url);",
    },
  },
]);
