/**
 * S3 and DynamoDB clients, created at first use: the AWS SDK (heavy) is imported lazily, only when
 * a tool of this plugin runs. Region and endpoints come from config only.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { checkAllowed, ErrorCodes, matchesAny, type ToolCtx, ToolError, toolkit } from '@infra-mcp/core';
import type { AwsConfig } from './config.js';

/**
 * An AWS SDK v3 client as this class hands it out. Structural, so that the package's published types
 * do not pull in the SDK's (which need Node's): the SDK stays an optional peer. Tools get the typed
 * clients through {@link s3Of} and {@link dynamodbOf}.
 */
export interface SdkClient {
  send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

async function load<T>(name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (e) {
    throw new ToolError(
      'not_installed',
      `${name} is not installed (${(e as Error).message.split('\n')[0]})`,
      `npm install ${name}`,
    );
  }
}

export class AwsClients {
  private s3Client?: Promise<SdkClient>;
  private ddbClient?: Promise<SdkClient>;
  constructor(readonly config: AwsConfig) {}

  private async credentials() {
    const c = this.config.credentials;
    if (c)
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    const { fromNodeProviderChain } = await load(
      '@aws-sdk/credential-providers',
      () => import('@aws-sdk/credential-providers'),
    );
    return fromNodeProviderChain(this.config.profile ? { profile: this.config.profile } : {});
  }

  s3(): Promise<SdkClient> {
    this.s3Client ??= (async () => {
      const { S3Client } = await load('@aws-sdk/client-s3', () => import('@aws-sdk/client-s3'));
      return new S3Client({
        region: this.config.region,
        endpoint: this.config.endpoints.s3,
        forcePathStyle: this.config.s3ForcePathStyle,
        credentials: await this.credentials(),
        maxAttempts: 2,
      });
    })();
    return this.s3Client;
  }

  dynamodb(): Promise<SdkClient> {
    this.ddbClient ??= (async () => {
      const { DynamoDBClient } = await load(
        '@aws-sdk/client-dynamodb',
        () => import('@aws-sdk/client-dynamodb'),
      );
      return new DynamoDBClient({
        region: this.config.region,
        endpoint: this.config.endpoints.dynamodb,
        credentials: await this.credentials(),
        maxAttempts: 2,
      });
    })();
    return this.ddbClient;
  }

  async close(): Promise<void> {
    (await this.s3Client)?.destroy();
    (await this.ddbClient)?.destroy();
  }
}

/** The typed S3 client of a tool's instance. */
export const s3Of = async (ctx: Ctx) => (await ctx.client.s3()) as unknown as S3Client;
/** The typed DynamoDB client of a tool's instance. */
export const dynamodbOf = async (ctx: Ctx) => (await ctx.client.dynamodb()) as unknown as DynamoDBClient;

export const tool = toolkit<AwsClients, AwsConfig>();
export type Ctx = ToolCtx<AwsClients, AwsConfig>;

export function allowed(ctx: Ctx, what: 'bucket' | 'table', value: string): string {
  return checkAllowed(ctx.config.allow, what, value, {
    where: `aws instance "${ctx.instance}"`,
    configKey: `plugins.aws.allow.${what}`,
  });
}

/**
 * A bucket or table the write tools may change: in the read allow-list and in `writes`. Without a
 * `writes` section the instance is read-only, and the error says which key turns writes on.
 */
export function writable(ctx: Ctx, what: 'bucket' | 'table', value: string): string {
  allowed(ctx, what, value);
  const key = `plugins.aws.writes.${what}`;
  if (!ctx.config.writes)
    throw new ToolError(
      'writes_disabled',
      `aws instance "${ctx.instance}" is read-only: writes are not enabled`,
      `list the ${what}s the write tools may change in ${key} (globs)`,
    );
  if (!matchesAny(value, ctx.config.writes[what]))
    throw new ToolError(
      ErrorCodes.denied,
      `${what} "${value}" is not writable on aws instance "${ctx.instance}" (${key}: ${JSON.stringify(ctx.config.writes[what] ?? [])})`,
      `add it to ${key} or choose a writable ${what}`,
    );
  return value;
}

/** An SDK error as a ToolError: the service's code and message, never a success. */
export function awsError(e: unknown, what: string): ToolError {
  if (e instanceof ToolError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const notFound = status === 404 || /NoSuch|NotFound/.test(err.name ?? '');
  return new ToolError(
    notFound ? 'not_found' : status === 403 ? 'unauthorized' : 'backend_error',
    `${what}: ${err.name ?? 'error'}: ${err.message ?? String(e)}`,
    notFound
      ? 'check the name with the list tools'
      : 'check the aws plugin config (region, endpoints, credentials)',
  );
}
