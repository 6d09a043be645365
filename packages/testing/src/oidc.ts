/// <reference path="./oidc-provider.d.ts" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import Provider from 'oidc-provider';

/**
 * For OAuth tests (`@infra-mcp/testing/oidc`). A real OpenID provider (`oidc-provider`) on loopback: client_credentials grant, resource
 * indicators (RFC 8707), JWT access tokens (RFC 9068) whose audience is the requested resource.
 */
export interface Oidc {
  /** Where it listens; also its issuer unless another issuer was asked for. */
  url: string;
  issuer: string;
  /** A client_credentials token for `resource` with `scope`, fetched over HTTP from the token endpoint. */
  token(client: string, resource: string, scope: string): Promise<string>;
  close(): Promise<void>;
}

export const SCOPES = 'infra-mcp:read infra-mcp:write infra-mcp:destructive';
export const CLIENTS = ['agent-a', 'agent-b'];
const secret = (client: string) => `${client}-secret-0123456789abcdef`;

/** A signing key: ES256, private JWK with a kid. */
export async function signingKey(kid: string): Promise<JWK> {
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

export async function startOidc(options: {
  keys: JWK[];
  issuer?: string;
  ttlSeconds?: number;
}): Promise<Oidc> {
  let handle: ((req: never, res: never) => void) | undefined;
  const server: Server = createServer((req, res) => handle!(req as never, res as never));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.issuer ?? url;
  const provider = new Provider(issuer, {
    jwks: { keys: options.keys },
    scopes: ['openid', ...SCOPES.split(' ')],
    ttl: { ClientCredentials: () => options.ttlSeconds ?? 300 },
    clients: CLIENTS.map((client_id) => ({
      client_id,
      client_secret: secret(client_id),
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: `openid ${SCOPES}`,
      id_token_signed_response_alg: 'ES256',
    })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: SCOPES,
          audience: resource,
          accessTokenTTL: options.ttlSeconds ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  provider.on('server_error', (_ctx: unknown, err: Error) =>
    process.stderr.write(`oidc-provider: ${err.stack}\n`),
  );
  handle = provider.callback();
  return {
    url,
    issuer,
    async token(client, resource, scope) {
      const res = await fetch(`${url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client}:${secret(client)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
      });
      const body = (await res.json()) as {
        access_token?: string;
        error?: string;
        error_description?: string;
      };
      if (!res.ok || !body.access_token)
        throw new Error(`token endpoint: ${res.status} ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
