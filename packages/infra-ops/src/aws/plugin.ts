import { definePlugin } from '@infra-mcp/core';
import { dynamodbQueryTool, dynamodbScanTool } from '../tools/aws/dynamodb-read.js';
import { dynamodbTablesTool } from '../tools/aws/dynamodb-tables.js';
import { dynamodbDeleteItemTool, dynamodbPutItemTool } from '../tools/aws/dynamodb-write.js';
import { s3BucketsTool } from '../tools/aws/s3-buckets.js';
import { s3GetTool } from '../tools/aws/s3-get.js';
import { s3ObjectsTool } from '../tools/aws/s3-objects.js';
import { s3DeleteTool, s3PutTool } from '../tools/aws/s3-write.js';
import { VERSION } from '../version.js';
import { AwsClients } from './client.js';
import { awsConfig } from './config.js';

/**
 * S3 and DynamoDB: buckets, objects, text objects (size-capped), tables, query and scan; writes (put and
 * delete of objects and items, each previewed and approved) only where `writes` lists the bucket or
 * table. The AWS SDK is imported at first use. Region and endpoints come from config only.
 *
 *   createServer({ plugins: [aws({ region: 'eu-west-1', allow: { bucket: ['team-*'] } })] })
 */
export const aws = definePlugin({
  id: 'aws',
  title: 'AWS S3 and DynamoDB',
  description:
    'S3 buckets, objects and text objects; DynamoDB tables, query and scan; writes only where enabled',
  version: VERSION,
  config: awsConfig,
  // its own names: the AWS_* variables a shell has for other tools do not switch the plugin on
  env: { INFRA_MCP_AWS_REGION: 'region', INFRA_MCP_AWS_PROFILE: 'profile' },
  instances: true,
  toolsets: {
    s3: { description: 'S3 buckets, objects, text objects', default: true },
    dynamodb: { description: 'DynamoDB tables, query, scan', default: true },
    writes: { description: 'Put and delete S3 objects and DynamoDB items (needs plugins.aws.writes)' },
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
    { ...s3PutTool, toolset: 'writes' },
    { ...s3DeleteTool, toolset: 'writes' },
    { ...dynamodbPutItemTool, toolset: 'writes' },
    { ...dynamodbDeleteItemTool, toolset: 'writes' },
  ],
});
