/** A root of terraform working directories for the stand-in terraform (fixtures/bin/terraform). */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STANDIN = join(import.meta.dirname, 'fixtures', 'bin', 'terraform');
export const FIXTURES = join(import.meta.dirname, 'fixtures', 'terraform-json');
if (!existsSync(join(FIXTURES, '110_basic', 'plan.json')))
  throw new Error(`terraform fixtures missing: ${FIXTURES} (see test/fixtures/README.md)`);

export interface Standin {
  plan?: string;
  state?: string;
  serial?: number;
  lineage?: string;
  fail?: Record<string, string>;
  sleepMs?: Record<string, number>;
  hugeBytes?: number;
  unformatted?: string[];
  applied?: string[];
}

export function workspace() {
  const root = mkdtempSync(join(tmpdir(), 'infra-ops-tf-'));
  const planDir = mkdtempSync(join(tmpdir(), 'infra-ops-plans-'));
  return {
    root,
    planDir,
    /** A configuration directory `name` under the root answering as `standin` says. */
    dir(name: string, standin: Standin): string {
      const d = join(root, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'standin.json'), JSON.stringify(standin));
      return name;
    },
    set(name: string, standin: Standin): void {
      writeFileSync(join(root, name, 'standin.json'), JSON.stringify(standin));
    },
    read(name: string): Standin {
      return JSON.parse(readFileSync(join(root, name, 'standin.json'), 'utf8'));
    },
    /** The calls the stand-in saw in `name`: argv, cwd, env. */
    calls(name: string): { argv: string[]; cwd: string; env: Record<string, string> }[] {
      const f = join(root, name, '.calls.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  };
}
