import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamo } from '../../../packages/infra-ops/test/aws-servers.js';
import { KV_PLUGIN, run } from './cli-helpers.js';
import {
  cleanEnv,
  cliPath,
  type RunningApp,
  requireBuilt,
  startHttpApp,
  tempDir,
} from './helpers/app-process.js';

// Two `infra-mcp --http` processes sharing INFRA_MCP_APPROVAL_SECRET and a DynamoDB table (dynalite).
const TOKEN = 'replica-token-0123456789abcdef';
let ddb: Awaited<ReturnType<typeof startDynamo>>;
let dir: string;
const started: RunningApp[] = [];
beforeAll(async () => {
  requireBuilt(cliPath);
  ddb = await startDynamo();
  dir = tempDir('replicas-ddb');
});
afterAll(async () => {
  for (const s of started) await s.stop();
  await ddb?.close();
});

const secret = randomBytes(24).toString('base64url');
let ids = 0;
async function call(app: RunningApp, name: string, args: Record<string, unknown>): Promise<any> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TOKEN}`,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: ++ids,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  });
  const text = await res.text();
  const line = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .findLast((l) => l.startsWith('data: '))!
        .slice(6);
  return JSON.parse(line).result;
}

describe('replicas sharing a DynamoDB approval store (approvals.store.dynamodb)', () => {
  it('A issues, B executes; one token sent to both at once runs once', async () => {
    const config = join(dir, 'infra-mcp.yaml');
    await writeFile(
      config,
      `approvals:\n  store:\n    dynamodb: { table: team_approvals, endpoint: ${ddb.url}, region: us-east-1 }\n`,
    );
    const replica = async (name: string) => {
      const app = await startHttpApp(['--config', config, '--plugin-module', KV_PLUGIN], {
        cwd: dir,
        env: cleanEnv(dir, {
          INFRA_MCP_TOKENS: `alice:${TOKEN}`,
          INFRA_MCP_APPROVAL_SECRET: secret,
          INFRA_MCP_AUDIT_FILE: `${dir}/audit-${name}.jsonl`,
          INFRA_MCP_AUDIT_KEY: 'k'.repeat(32),
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          KV_URL: 'http://kv.invalid',
        }),
      });
      started.push(app);
      return app;
    };
    const A = await replica('a');
    const B = await replica('b');
    const dry = await call(A, 'kv_set', { key: 'x', value: '1' });
    const onB = await call(B, 'kv_set', { key: 'x', value: '1', approval: dry.structuredContent.approval });
    expect(onB.isError ?? false, JSON.stringify(onB)).toBe(false);
    const replay = await call(A, 'kv_set', {
      key: 'x',
      value: '1',
      approval: dry.structuredContent.approval,
    });
    expect(replay.content[0].text).toMatch(/already used/);
    for (let round = 0; round < 5; round++) {
      const args = { key: `k${round}`, value: 'v' };
      const approval = (await call(A, 'kv_set', args)).structuredContent.approval;
      const both = await Promise.all([
        call(A, 'kv_set', { ...args, approval }),
        call(B, 'kv_set', { ...args, approval }),
      ]);
      expect(
        both.filter((r) => !r.isError),
        `round ${round}`,
      ).toHaveLength(1);
    }
  });

  it('naming both stores, or the Redis env beside a DynamoDB store, is a config error', async () => {
    const both = join(dir, 'both.yaml');
    await writeFile(
      both,
      'approvals:\n  store:\n    redis: { url: "redis://127.0.0.1:6379" }\n    dynamodb: { table: t }\n',
    );
    const r = await run(['config', '--config', both], { env: { HOME: dir }, cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/approvals.store.*name one store: redis or dynamodb/);
    const ddbOnly = join(dir, 'ddb.yaml');
    await writeFile(ddbOnly, 'approvals:\n  store:\n    dynamodb: { table: t }\n');
    const env = await run(['config', '--config', ddbOnly], {
      env: { HOME: dir, INFRA_MCP_APPROVAL_REDIS_URL: 'redis://127.0.0.1:6379' },
      cwd: dir,
    });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toMatch(/INFRA_MCP_APPROVAL_REDIS_URL is set but approvals.store names dynamodb/);
  });
});
