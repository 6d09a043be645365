import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sourceAliases, testProjects, workspacePackages } from './tooling/vitest/config.js';

// Every package with a test/ folder is a project (name = package name): a new package needs no
// edit here. One package: `pnpm vitest run --project @infra-mcp/core`.
const root = fileURLToPath(new URL('.', import.meta.url));
const packages = workspacePackages(root);

export default defineConfig({
  test: {
    projects: testProjects(root, packages, sourceAliases(packages)),
    reporters: ['default', './tooling/vitest/summary-reporter.js'],
  },
});
