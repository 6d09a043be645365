import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against sources: one module identity per package, no build needed for unit tests.
    alias: [
      { find: /^@infra-mcp\/core$/, replacement: src('core') },
      { find: /^@infra-mcp\/core\/client$/, replacement: src('core').replace('index.ts', 'client.ts') },
      { find: /^@infra-mcp\/testing$/, replacement: src('testing') },
      { find: /^@infra-mcp\/prometheus$/, replacement: src('prometheus') },
      { find: /^@infra-mcp\/redis$/, replacement: src('redis') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'deploy/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: 'forks',
    reporters: ['default', './tooling/vitest/summary-reporter.js'],
  },
});
