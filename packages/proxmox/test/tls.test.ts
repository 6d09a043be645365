import { connect } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, PveClient, proxmox } from '../src/index.js';
import { CERT_FILE, CERT_FINGERPRINT, type FakePve, TOKEN_ID, TOKEN_SECRET } from './fake-pve.js';
import { startFake } from './helpers.js';

let fake: FakePve;
beforeAll(async () => {
  fake = await startFake();
});
afterAll(() => fake.close());

const cluster = async (tls?: Record<string, unknown>) => {
  const t = await connect([
    proxmox({ url: fake.url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, ...(tls ? { tls } : {}) }),
  ]);
  const r = await t.call('proxmox_cluster');
  await t.close();
  return r;
};

describe('TLS to PVE', () => {
  it('refuses the self-signed certificate by default, sending nothing', async () => {
    const before = fake.requests.length;
    const r = await cluster();
    expect(r.errorCode).toBe('tls_error');
    expect(r.text).toMatch(/self.signed certificate/);
    expect(r.text).toMatch(/tls\.caFile|tls\.fingerprint256/);
    expect(fake.requests.length).toBe(before);
  });

  it('accepts it with its CA file', async () => {
    expect((await cluster({ caFile: CERT_FILE })).isError).toBe(false);
  });

  it('accepts it with its pinned fingerprint, as PVE shows it (colons) or as bare hex', async () => {
    expect((await cluster({ fingerprint256: CERT_FINGERPRINT })).isError).toBe(false);
    expect(
      (await cluster({ fingerprint256: CERT_FINGERPRINT.replace(/:/g, '').toLowerCase() })).isError,
    ).toBe(false);
  });

  it('refuses a wrong fingerprint, naming both, sending nothing', async () => {
    const before = fake.requests.length;
    const wrong = CERT_FINGERPRINT.replace(/^C6/, 'AA');
    const r = await cluster({ fingerprint256: wrong });
    expect(r.errorCode).toBe('tls_error');
    expect(r.text).toMatch(/pin mismatch/);
    expect(r.text).toContain(CERT_FINGERPRINT);
    expect(fake.requests.length).toBe(before);
  });
});

describe('a POST that fails before anything was sent is not an unknown outcome', () => {
  const client = (url: string) =>
    new PveClient(configSchema.parse({ url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET }), 'lab');

  it('refused certificate: tls_error, no request reached the server', async () => {
    const before = fake.requests.length;
    const c = client(fake.url);
    await expect(c.post('/nodes/pve1/qemu/100/status/stop')).rejects.toMatchObject({ code: 'tls_error' });
    c.close();
    expect(fake.requests.length).toBe(before);
  });

  it('connection refused: unreachable', async () => {
    const c = client('https://127.0.0.1:1');
    await expect(c.post('/nodes/pve1/qemu/100/status/stop')).rejects.toMatchObject({ code: 'unreachable' });
    c.close();
  });
});
