/**
 * Redaction attacks: literals before patterns, redact before cut, secret option values in config
 * errors, every value of a secret record, and a plugin's own redaction hook (values learned at setup,
 * paths such as a Secret's `data` or an env entry named *PASSWORD*) on every path core scrubs.
 */
import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  definePlugin,
  defineTool,
  redact,
  redactConfig,
  redactThenCut,
  resolvePluginConfig,
  secret,
  ToolError,
} from '../src/index.js';
import { compilePath, secretList } from '../src/redact.js';

const hasWindow = (text: string, secretValue: string) => {
  for (let i = 0; i + 8 <= secretValue.length; i++)
    if (text.includes(secretValue.slice(i, i + 8))) return true;
  return false;
};

const urlPlugin = definePlugin({
  id: 'web',
  title: 'Web',
  description: 'test',
  version: '0.0.0',
  config: z.object({
    url: z.string().url(),
    headers: z.record(z.string(), secret(z.string())).default({}),
    basicAuth: z
      .object({ username: z.string(), password: secret(z.string()) })
      .strict()
      .optional(),
  }),
  env: { WEB_PASSWORD: 'basicAuth.password' },
  setup: async () => ({}),
  tools: [],
});

describe('literal secrets', () => {
  it('a URL password with an unencoded @ is replaced whole, not cut at the first @', () => {
    const c = resolvePluginConfig(urlPlugin({ url: 'http://promuser:p@ssw0rdSecret@prom.local:9090/' }));
    const echoed = 'GET failed for http://promuser:p@ssw0rdSecret@prom.local:9090/api/v1/query';
    const out = redact(echoed, c.secrets);
    expect(out).toBe('GET failed for http://promuser:[REDACTED]@prom.local:9090/api/v1/query');
  });

  it('the base64 user:password of basic credentials is scrubbed without its "Basic " prefix', () => {
    const c = resolvePluginConfig(
      urlPlugin({ url: 'http://x.local/', basicAuth: { username: 'alice', password: 'correct-horse' } }),
    );
    const encoded = Buffer.from('alice:correct-horse').toString('base64');
    expect(redact(`echo: ${encoded}`, c.secrets)).toBe('echo: [REDACTED]');
  });

  it('every value of a secret record is redacted in config output and scrubbed from text', () => {
    const c = resolvePluginConfig(
      urlPlugin({
        url: 'http://x.local/',
        headers: { 'X-Auth-Key': 'xak-0123456789', 'Ocp-Apim-Subscription-Key': 'ocp-9876543210' },
      }),
    );
    expect(redactConfig(urlPlugin().config, c.instances.default)).toMatchObject({
      headers: { 'X-Auth-Key': '[REDACTED]', 'Ocp-Apim-Subscription-Key': '[REDACTED]' },
    });
    expect(redact({ msg: 'got xak-0123456789 and ocp-9876543210' }, c.secrets)).toEqual({
      msg: 'got [REDACTED] and [REDACTED]',
    });
  });

  it('a secret inside a JSON error body (escaped quotes) is still found', () => {
    const out = redact(JSON.stringify({ error: 'bad token tok"en-12345' }), ['tok"en-12345']);
    expect(out).not.toContain('en-12345');
  });
});

describe('redact, then cut', () => {
  it('a token at the end of a 200-character snippet leaves no 8-character window', () => {
    const token = 'tok-ABCDEFGHIJKLMNOPQRST';
    const body = `${'x'.repeat(182)}${token} trailing text`;
    const cutFirst = redact(body.slice(0, 200), [token]); // what the old order did
    expect(hasWindow(cutFirst, token)).toBe(true);
    const snippet = redactThenCut(body, 200, [token]);
    expect(snippet.length).toBeLessThanOrEqual(200);
    expect(hasWindow(snippet, token)).toBe(false);
  });
});

describe('config errors', () => {
  it('do not print the value of a secret option', () => {
    let message = '';
    try {
      resolvePluginConfig(urlPlugin(), {
        file: { url: 'http://x.local/', basicAuth: { username: 'u', password: 8675309123 } },
      });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/basicAuth\.password.*expected string, got number \(value hidden/);
    expect(message).not.toContain('8675309123');
    expect(() =>
      resolvePluginConfig(urlPlugin(), { file: { url: 'http://x.local/', headers: { k: 12345678 } } }),
    ).toThrow(/value hidden/);
  });

  it('nor from an env variable', () => {
    const run = () =>
      resolvePluginConfig(
        definePlugin({
          id: 'n',
          title: 'n',
          description: 'n',
          version: '0',
          config: z.object({ pin: secret(z.number()) }),
          env: { N_PIN: 'pin' },
          setup: async () => ({}),
          tools: [],
        })(),
        { env: { N_PIN: 'abc-secret-pin' } },
      );
    expect(run).toThrow(/value hidden/);
    expect(run).not.toThrow(/abc-secret-pin/);
  });
});

describe('redaction paths', () => {
  it('match at any depth, by key, wildcard and a field filter', () => {
    const list = secretList([], ['data.*', 'env[name=/PASSWORD|TOKEN/i].value']);
    const pod = {
      items: [
        { kind: 'Secret', data: { user: 'YWRtaW4=', pass: 'c2VjcmV0LXZhbHVl' } },
        {
          kind: 'Pod',
          env: [
            { name: 'DB_PASSWORD', value: 'hunter2-db-pass' },
            { name: 'LOG_LEVEL', value: 'debug' },
            { name: 'api_token', value: 12345 },
          ],
        },
      ],
    };
    expect(redact(pod, list)).toEqual({
      items: [
        { kind: 'Secret', data: { user: '[REDACTED]', pass: '[REDACTED]' } },
        {
          kind: 'Pod',
          env: [
            { name: 'DB_PASSWORD', value: '[REDACTED]' },
            { name: 'LOG_LEVEL', value: 'debug' },
            { name: 'api_token', value: '[REDACTED]' },
          ],
        },
      ],
    });
    // values found under a path are scrubbed from later text too
    expect(redact('connect with hunter2-db-pass', list)).toBe('connect with [REDACTED]');
  });

  it('an unreadable path is an error naming it', () => {
    expect(() => compilePath('env[name=PASSWORD].value')).toThrow(
      /env\[name=PASSWORD\]\.value.*not readable/,
    );
    expect(() => compilePath('a..b')).toThrow(/not readable/);
  });
});

describe('a plugin redaction hook on every path', () => {
  const vault = definePlugin({
    id: 'vault',
    title: 'Vault',
    description: 'test',
    version: '0.0.0',
    config: z.object({ kubeconfig: z.string() }),
    redact: {
      values: (c) => [c.kubeconfig.split('token=')[1]],
      paths: ['data.*', 'env[name=/PASSWORD/].value'],
    },
    setup: async (_config, ctx) => {
      ctx.secret('learned-at-setup-7f3a9');
      ctx.log.info('setup read token learned-at-setup-7f3a9');
      return {};
    },
    tools: [
      defineTool({
        name: 'get',
        description: 'get',
        input: z.object({ what: z.string() }),
        output: z.object({ secret: z.any(), env: z.any(), note: z.string() }),
        effect: 'read',
        run: async ({ what }, ctx) => {
          if (what === 'error')
            throw new ToolError('boom', 'backend said learned-at-setup-7f3a9 and cfgtoken-11223344', 'none');
          if (what === 'log')
            ctx.log.info('using learned-at-setup-7f3a9', {
              env: [{ name: 'DB_PASSWORD', value: 'pw-from-log-data' }],
            });
          return {
            data: {
              secret: { data: { password: 'c3VwZXItc2VjcmV0LXZhbHVl' } },
              env: [{ name: 'DB_PASSWORD', value: 'plain-db-password' }],
              note: 'cfg cfgtoken-11223344 and learned-at-setup-7f3a9',
            },
            text: 'env DB_PASSWORD=plain-db-password; data c3VwZXItc2VjcmV0LXZhbHVl',
          };
        },
      }),
    ],
  });

  it('results, text, errors, log notifications, stderr and audit', async () => {
    const stderr: string[] = [];
    const logger = {
      debug: (m: string) => stderr.push(m),
      info: (m: string) => stderr.push(m),
      warn: (m: string) => stderr.push(m),
      error: (m: string) => stderr.push(m),
    };
    const t = await connect([vault({ kubeconfig: 'server=x token=cfgtoken-11223344' })], { logger });
    const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const notes: unknown[] = [];
    t.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      notes.push(n.params);
    });
    await t.client.setLoggingLevel('info');
    const ok = await t.call('vault_get', { what: 'data' });
    expect(ok.isError).toBe(false);
    expect(ok.structured.secret.data.password).toBe('[REDACTED]');
    expect(ok.structured.env[0]).toEqual({ name: 'DB_PASSWORD', value: '[REDACTED]' });
    const err = await t.call('vault_get', { what: 'error' });
    expect(err.errorCode).toBe('boom');
    const log = await t.call('vault_get', { what: 'log' });
    expect(log.isError).toBe(false);
    expect(notes.length).toBeGreaterThan(0);
    const everything = JSON.stringify([ok.raw, err.raw, log.raw, notes, stderr, t.audit.records]);
    for (const s of [
      'learned-at-setup-7f3a9',
      'cfgtoken-11223344',
      'plain-db-password',
      'c3VwZXItc2VjcmV0LXZhbHVl',
      'pw-from-log-data',
    ])
      expect(everything, s).not.toContain(s);
    expect(stderr.join('\n')).toContain('setup read token [REDACTED]');
    await t.close();
  });
});

describe('ctx.secret: a secret found in a tool argument', () => {
  it('is scrubbed from the answer, the error and the audit record of that call', async () => {
    const p = definePlugin({
      id: 'manifests',
      title: 'Manifests',
      description: 'takes a manifest holding a secret',
      version: '0.0.0',
      config: z.object({}),
      setup: async () => ({}),
      tools: [
        defineTool({
          name: 'check',
          description: 'Find the password in a manifest, then fail',
          input: z.object({ manifest: z.string() }),
          output: z.object({}),
          effect: 'read',
          run: async ({ manifest }, ctx) => {
            const pw = /password: (\S+)/.exec(manifest)?.[1];
            ctx.secret(pw);
            throw new ToolError('invalid', `refused: ${manifest}`, 'fix it');
          },
        }),
      ],
    });
    const t = await connect([p()]);
    const r = await t.call('manifests_check', {
      manifest: 'kind: Secret\nstringData:\n  password: pw-1234\n',
    });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('refused');
    expect(JSON.stringify(r.raw)).not.toContain('pw-1234');
    expect(JSON.stringify(t.audit.records)).not.toContain('pw-1234');
    await t.close();
  });
});
