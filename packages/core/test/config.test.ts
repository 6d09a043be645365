import { describe, expect, it } from 'vitest';
import { ConfigError, redactConfig, resolvePluginConfig } from '../src/index.js';
import { kv } from './fixture-plugin.js';

const resolve = (file: unknown, env: Record<string, string> = {}, options?: any) =>
  resolvePluginConfig(kv(options), { file, fileName: 'infra-mcp.yaml', env });

describe('plugin config', () => {
  it('rejects an unknown key, naming the file, the key and the known keys', () => {
    expect(() => resolve({ url: 'http://x', colour: 'red' })).toThrow(ConfigError);
    expect(() => resolve({ url: 'http://x', colour: 'red' })).toThrow(
      /infra-mcp.yaml: unknown key "plugins.kv.colour"; known keys here: url, password, timeoutMs/,
    );
  });

  it('rejects a wrong type with the expected type and an example', () => {
    expect(() => resolve({ url: 'http://x', timeoutMs: 'soon' })).toThrow(
      /infra-mcp.yaml: "plugins.kv.timeoutMs": expected number, got string "soon"; example: timeoutMs: 30/,
    );
  });

  it('names a missing required option', () => {
    expect(() => resolve({})).toThrow(
      /"plugins.kv.url": required option is missing \(expected string\); example: url: "text"/,
    );
  });

  it('validates env values the same way, naming the variable', () => {
    expect(() => resolve({ url: 'http://x' }, { KV_TIMEOUT_MS: 'abc' })).toThrow(
      /env KV_TIMEOUT_MS: .*expected number/,
    );
  });

  it('precedence: env beats file beats code options beats defaults', () => {
    expect(resolve({}, {}, { url: 'http://code' }).instances.default).toMatchObject({
      url: 'http://code',
      timeoutMs: 1000,
    });
    expect(resolve({ url: 'http://file' }, {}, { url: 'http://code' }).instances.default!.url).toBe(
      'http://file',
    );
    expect(
      resolve({ url: 'http://file' }, { KV_URL: 'http://env', KV_TIMEOUT_MS: '5' }).instances.default,
    ).toMatchObject({ url: 'http://env', timeoutMs: 5 });
  });

  it('supports named instances; env applies to the first', () => {
    const c = resolve(
      { instances: { prod: { url: 'http://prod' }, dev: { url: 'http://dev' } } },
      { KV_PASSWORD: 'pw-from-env' },
    );
    expect(Object.keys(c.instances)).toEqual(['prod', 'dev']);
    expect(c.instances.prod!.password).toBe('pw-from-env');
    expect(c.secrets).toEqual(['pw-from-env']);
  });

  it('redacts options marked secret', () => {
    const c = resolve({ url: 'http://x', password: 'hunter22' });
    expect(redactConfig(kv().config, c.instances.default)).toMatchObject({
      url: 'http://x',
      password: '[REDACTED]',
    });
  });
});

describe('secrets in config', () => {
  it('collects marked options, credential-looking keys at any depth and URL passwords', async () => {
    const { collectSecrets } = await import('../src/config.js');
    const { z } = await import('zod');
    const schema = z.object({
      url: z.string(),
      headers: z.record(z.string(), z.string()),
      password: z.string(),
    });
    const secrets = collectSecrets(schema, {
      url: 'https://admin:s3cr3t%21@prom.local/',
      headers: { 'X-Api-Key': 'key-123456', 'X-Scope-OrgID': 'team-a' },
      password: 'pw-123456',
    });
    // the URL password as written and decoded, and the base64 `admin:s3cr3t!` a Basic header carries
    expect(secrets.sort()).toEqual([
      Buffer.from('admin:s3cr3t!').toString('base64'),
      'key-123456',
      'pw-123456',
      's3cr3t!',
      's3cr3t%21',
    ]);
  });
});
