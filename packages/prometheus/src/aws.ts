/**
 * AWS side of SigV4: the `sigv4` option block and credential resolution. The AWS SDK credential
 * providers are imported lazily, at the first signed request, never at server start.
 */
import { example, secret, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { type AwsCredentials, prepareSignedRequest } from './sigv4.js';

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** SigV4 options of one instance. Region and service come from config only, never from a tool argument. */
export const sigv4ConfigSchema = z
  .object({
    region: example(z.string().regex(REGION_RE, 'an AWS region such as eu-west-1'), 'eu-west-1').describe(
      'AWS region of the workspace',
    ),
    service: z.string().min(1).default('aps').describe('Signing service name (aps for AMP)'),
    profile: z
      .string()
      .min(1)
      .optional()
      .describe('Shared-config profile (default: the default credential chain)'),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN')
      .optional()
      .describe('Role to assume (STS) before signing'),
    accessKeyId: secret(z.string().min(1).optional()).describe(
      'Static access key id (tests; prefer a profile or role)',
    ),
    secretAccessKey: secret(z.string().min(1).optional()).describe(
      'Static secret access key (with accessKeyId)',
    ),
    sessionToken: secret(z.string().min(1).optional()).describe('Session token for static temporary keys'),
    controlPlaneUrl: z
      .string()
      .url()
      .optional()
      .describe('AMP control-plane endpoint (default https://aps.<region>.amazonaws.com)'),
  })
  .strict()
  .refine((c) => !c.accessKeyId === !c.secretAccessKey, {
    message: 'accessKeyId and secretAccessKey go together',
    path: ['secretAccessKey'],
  });

export type SigV4Config = z.infer<typeof sigv4ConfigSchema>;

/** Only the fields credential resolution reads (so a plugin's own sigv4 block fits too). */
export type CredentialConfig = Pick<SigV4Config, 'region'> &
  Partial<Pick<SigV4Config, 'profile' | 'roleArn' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>>;

interface Resolved extends AwsCredentials {
  expiration?: Date;
}

type Provider = () => Promise<Resolved>;

/** Refresh temporary credentials this long before they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

const providers = new Map<string, Provider>();
const cache = new Map<
  string,
  { credentials: Resolved; pending?: undefined } | { pending: Promise<Resolved> }
>();

function cacheKey(cfg: CredentialConfig): string {
  return JSON.stringify([cfg.region, cfg.profile ?? null, cfg.roleArn ?? null]);
}

/** The AWS SDK's credential providers: an optional peer dependency, needed only for SigV4 without static keys. */
export const AWS_SDK_PACKAGE = '@aws-sdk/credential-providers';

/** Is `err` the failure to resolve `pkg` itself (not a module it imports)? */
export function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e || typeof e.message !== 'string') return false;
  const notFound =
    e.code === 'ERR_MODULE_NOT_FOUND' ||
    e.code === 'MODULE_NOT_FOUND' ||
    /^Cannot find (package|module)\b/.test(e.message) ||
    /^Failed to (load|resolve) (url|import)\b/i.test(e.message);
  return notFound && (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`));
}

/** The error a SigV4 call answers with when the optional AWS SDK is not installed. */
export function awsSdkMissingError(): ToolError {
  return new ToolError(
    'aws_sdk_missing',
    `SigV4 credentials need the AWS SDK credential providers (${AWS_SDK_PACKAGE}), an optional peer dependency of @infra-mcp/prometheus that is not installed`,
    `install it beside @infra-mcp/prometheus: npm install ${AWS_SDK_PACKAGE} (or pnpm add ${AWS_SDK_PACKAGE}); or set sigv4.accessKeyId and sigv4.secretAccessKey`,
  );
}

/** Imported at the first signed request that needs it; replaceable in tests. */
export const awsSdkLoader = {
  load: (): Promise<typeof import('@aws-sdk/credential-providers')> =>
    import('@aws-sdk/credential-providers'),
};

async function loadAwsSdk(): Promise<typeof import('@aws-sdk/credential-providers')> {
  try {
    return await awsSdkLoader.load();
  } catch (err) {
    if (isMissingPackage(err, AWS_SDK_PACKAGE)) throw awsSdkMissingError();
    throw err;
  }
}

async function createProvider(cfg: CredentialConfig): Promise<Provider> {
  const sdk = await loadAwsSdk();
  const base = cfg.profile ? sdk.fromIni({ profile: cfg.profile }) : sdk.fromNodeProviderChain();
  if (!cfg.roleArn) return base as Provider;
  return sdk.fromTemporaryCredentials({
    params: { RoleArn: cfg.roleArn, RoleSessionName: 'infra-mcp' },
    masterCredentials: base,
    clientConfig: { region: cfg.region },
  }) as Provider;
}

function fresh(c: Resolved, now = Date.now()): boolean {
  return !c.expiration || c.expiration.getTime() - EXPIRY_MARGIN_MS > now;
}

/**
 * Credentials for a sigv4 block: static keys as given; otherwise the profile (`fromIni`) or the
 * default chain, optionally assuming `roleArn`. Cached per (region, profile, role) until shortly
 * before they expire; concurrent callers share one lookup.
 */
export async function resolveAwsCredentials(cfg: CredentialConfig): Promise<AwsCredentials> {
  if (cfg.accessKeyId && cfg.secretAccessKey) {
    return {
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      sessionToken: cfg.sessionToken,
    };
  }
  const key = cacheKey(cfg);
  const hit = cache.get(key);
  if (hit?.pending) return hit.pending;
  if (hit && 'credentials' in hit && fresh(hit.credentials)) return hit.credentials;

  const pending = (async () => {
    let provider = providers.get(key);
    if (!provider) {
      provider = await createProvider(cfg);
      providers.set(key, provider);
    }
    const c = await provider();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration: c.expiration,
    };
  })();
  cache.set(key, { pending });
  try {
    const credentials = await pending;
    cache.set(key, { credentials });
    return credentials;
  } catch (err) {
    cache.delete(key);
    if (err instanceof ToolError && err.code === 'aws_sdk_missing') throw err;
    const source = cfg.roleArn
      ? `assuming role ${cfg.roleArn}`
      : cfg.profile
        ? `profile "${cfg.profile}"`
        : 'the default credential chain';
    throw new ToolError(
      'aws_credentials',
      `could not load AWS credentials from ${source}: ${(err as Error).message}`,
      cfg.profile
        ? `check the profile in ~/.aws/credentials / ~/.aws/config (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE) or run aws sso login`
        : 'set AWS_PROFILE / AWS_ACCESS_KEY_ID+AWS_SECRET_ACCESS_KEY, or configure sigv4.profile or sigv4.roleArn',
    );
  }
}

/** Forget cached credentials and providers (tests; after a credentials file changed). */
export function clearAwsCredentialCache(): void {
  cache.clear();
  providers.clear();
}

export interface SignedFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * fetch() with SigV4: resolves credentials, signs with the configured region and service, and
 * sends exactly the URL that was signed. `fetchImpl` lets a client plug in its own dispatcher
 * (TLS options, timeouts).
 */
export async function sigv4Fetch(
  cfg: CredentialConfig & { service?: string },
  url: URL,
  init: SignedFetchInit = {},
  fetchImpl: (url: URL, init: RequestInit) => Promise<Response> = fetch,
): Promise<Response> {
  const credentials = await resolveAwsCredentials(cfg);
  const method = (init.method ?? 'GET').toUpperCase();
  const signed = prepareSignedRequest(
    { method, url, headers: init.headers ?? {}, body: init.body },
    { region: cfg.region, service: cfg.service ?? 'aps', credentials },
  );
  return fetchImpl(signed.url, { method, headers: signed.headers, body: init.body, signal: init.signal });
}

/** The AMP control-plane endpoint of a sigv4 block (config override, else the regional default). */
export function controlPlaneUrl(cfg: Pick<SigV4Config, 'region'> & { controlPlaneUrl?: string }): URL {
  return new URL(cfg.controlPlaneUrl ?? `https://aps.${cfg.region}.amazonaws.com`);
}
