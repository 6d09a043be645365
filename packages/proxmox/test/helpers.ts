import { type ConnectOptions, connect, type TestClient } from '@infra-mcp/testing';
import { proxmox } from '../src/index.js';
import { CERT_FILE, type FakeOptions, FakePve, TOKEN_ID, TOKEN_SECRET } from './fake-pve.js';

export async function startFake(opts?: FakeOptions): Promise<FakePve> {
  return new FakePve(opts).start();
}

/** The plugin against the fake (token auth, its CA file), every toolset, plus `extra` options. */
export async function connectTo(
  fake: FakePve,
  extra: Record<string, unknown> = {},
  options: ConnectOptions = {},
): Promise<TestClient> {
  return connect(
    [
      proxmox({
        url: fake.url,
        tokenId: TOKEN_ID,
        tokenSecret: TOKEN_SECRET,
        tls: { caFile: CERT_FILE },
        ...extra,
      }),
    ],
    { pluginConfig: { proxmox: { toolsets: ['all'] } }, ...options },
  );
}

/** Dry run, then the approved call. */
export async function approve(
  t: TestClient,
  tool: string,
  args: Record<string, unknown>,
  opts?: { onprogress?: (p: unknown) => void },
) {
  const dry = await t.call(tool, args);
  if (dry.isError) return dry;
  return t.call(tool, { ...args, approval: dry.structured.approval }, opts);
}
