/**
 * S3 and DynamoDB clients, created at first use: the AWS SDK (heavy) is imported lazily, only when
 * a tool of this plugin runs. Region and endpoints come from config only.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { checkAllowed, type ToolCtx, ToolError, toolkit } from '@infra-mcp/core';
import type { AwsConfig } from './config.js';

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
  private s3Client?: Promise<S3Client>;
  private ddbClient?: Promise<DynamoDBClient>;
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

  s3(): Promise<S3Client> {
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

  dynamodb(): Promise<DynamoDBClient> {
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

export const tool = toolkit<AwsClients, AwsConfig>();
export type Ctx = ToolCtx<AwsClients, AwsConfig>;

export function allowed(ctx: Ctx, what: 'bucket' | 'table', value: string): string {
  return checkAllowed(ctx.config.allow, what, value, {
    where: `aws instance "${ctx.instance}"`,
    configKey: `plugins.aws.allow.${what}`,
  });
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
