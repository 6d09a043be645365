import { definePlugin } from '@infra-mcp/core';
import { dynamodbQueryTool, dynamodbScanTool } from '../tools/aws/dynamodb-read.js';
import { dynamodbTablesTool } from '../tools/aws/dynamodb-tables.js';
import { s3BucketsTool } from '../tools/aws/s3-buckets.js';
import { s3GetTool } from '../tools/aws/s3-get.js';
import { s3ObjectsTool } from '../tools/aws/s3-objects.js';
import { VERSION } from '../version.js';
import { AwsClients } from './client.js';
import { awsConfig } from './config.js';

/**
 * S3 and DynamoDB, read-only: buckets, objects, text objects (size-capped), tables, query and scan.
 * The AWS SDK is imported at first use. Region and endpoints come from config only.
 *
 *   createServer({ plugins: [aws({ region: 'eu-west-1', allow: { bucket: ['team-*'] } })] })
 */
export const aws = definePlugin({
  id: 'aws',
  title: 'AWS S3 and DynamoDB',
  description: 'S3 buckets, objects and text objects; DynamoDB tables, query and scan (read-only)',
  version: VERSION,
  config: awsConfig,
  // its own names: the AWS_* variables a shell has for other tools do not switch the plugin on
  env: { INFRA_MCP_AWS_REGION: 'region', INFRA_MCP_AWS_PROFILE: 'profile' },
  instances: true,
  toolsets: {
    s3: { description: 'S3 buckets, objects, text objects', default: true },
    dynamodb: { description: 'DynamoDB tables, query, scan', default: true },
  },
  setup: async (config) => new AwsClients(config),
  dispose: (c) => c.close(),
  tools: [
    { ...s3BucketsTool, toolset: 's3' },
    { ...s3ObjectsTool, toolset: 's3' },
    { ...s3GetTool, toolset: 's3' },
    { ...dynamodbTablesTool, toolset: 'dynamodb' },
    { ...dynamodbQueryTool, toolset: 'dynamodb' },
    { ...dynamodbScanTool, toolset: 'dynamodb' },
  ],
});
