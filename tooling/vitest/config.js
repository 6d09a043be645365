// Shared vitest setup for every workspace package: found by scanning packages/* and apps/*, so a
// new package's tests run (and its @infra-mcp/* imports resolve to sources) with no edit here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Workspace packages that can hold tests, besides packages/* and apps/* (the deployment's chart and image tests). */
const TOP_LEVEL = ['deploy'];

/** Workspace packages: { dir, name, exports } for each packages/*, apps/* and TOP_LEVEL dir with a package.json. */
export function workspacePackages(repoRoot) {
  const dirs = [
    ...['packages', 'apps'].flatMap((group) =>
      readdirSync(join(repoRoot, group), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(repoRoot, group, e.name)),
    ),
    ...TOP_LEVEL.map((d) => join(repoRoot, d)),
  ];
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return { dir, name: pkg.name, exports: pkg.exports ?? {} };
    });
}

/**
 * `@infra-mcp/x` and `@infra-mcp/x/sub` to their TypeScript sources (dist/NAME.js -> src/NAME.ts):
 * tests run against sources, one module identity per package, no build needed for unit tests.
 */
export function sourceAliases(packages) {
  const aliases = [];
  for (const { dir, name, exports } of packages) {
    if (!name?.startsWith('@infra-mcp/')) continue;
    for (const [subpath, target] of Object.entries(exports)) {
      const file = typeof target === 'string' ? target : target.import;
      const src = join(dir, file.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
      if (!existsSync(src)) continue;
      const spec = subpath === '.' ? name : `${name}/${subpath.replace(/^\.\//, '')}`;
      aliases.push({ find: new RegExp(`^${spec.replace(/[/.-]/g, '\\$&')}$`), replacement: src });
    }
  }
  return aliases;
}

/**
 * One vitest project per package that has a test/ folder. The root stays the repository's (module
 * resolution as in a consumer's install, from the workspace root), each project includes its own tests.
 */
export function testProjects(repoRoot, packages, aliases) {
  return packages
    .filter(({ dir }) => existsSync(join(dir, 'test')))
    .map(({ dir, name }) => ({
      resolve: { alias: aliases },
      test: {
        name,
        root: repoRoot,
        include: [`${relative(repoRoot, dir)}/test/**/*.test.ts`],
        testTimeout: 30_000,
        hookTimeout: 90_000,
        pool: 'forks',
      },
    }));
}
