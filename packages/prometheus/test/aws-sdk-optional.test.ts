/**
 * The AWS SDK is an optional peer dependency: without it, a SigV4 call that needs the credential
 * chain answers with an error that names the install command; static keys need no SDK at all.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '@infra-mcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  awsSdkLoader,
  clearAwsCredentialCache,
  isMissingPackage,
  resolveAwsCredentials,
} from '../src/aws.js';
import { prometheus } from '../src/index.js';

let dir: string;
const realLoad = awsSdkLoader.load;

beforeAll(async () => {
  // A module outside the workspace that imports the SDK: Node cannot resolve it from there, exactly
  // as in a project that installed @infra-mcp/prometheus without the optional peer.
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-no-aws-sdk-'));
  await writeFile(join(dir, 'load.mjs'), "export * from '@aws-sdk/credential-providers';\n");
  awsSdkLoader.load = () => import(/* @vite-ignore */ pathToFileURL(join(dir, 'load.mjs')).href);
});
afterEach(() => clearAwsCredentialCache());
afterAll(async () => {
  awsSdkLoader.load = realLoad;
  await rm(dir, { recursive: true, force: true });
});

describe('AWS SDK not installed', () => {
  it('resolving credentials from a profile fails with the install command', async () => {
    const err = await resolveAwsCredentials({ region: 'eu-west-1', profile: 'amp' }).catch((e) => e);
    expect(err).toMatchObject({ name: 'ToolError', code: 'aws_sdk_missing' });
    expect(err.message).toContain('@aws-sdk/credential-providers');
    expect(err.hint).toContain('npm install @aws-sdk/credential-providers');
  });

  it('a query over SigV4 answers isError with the install command; static keys still sign', async () => {
    const t = await connect([
      prometheus({
        instances: {
          amp: { url: 'http://127.0.0.1:9/workspaces/ws/', sigv4: { region: 'eu-west-1', profile: 'amp' } },
        },
      } as any),
    ]);
    try {
      const res = await t.call('prometheus_query', { query: 'up' });
      expect(res.isError).toBe(true);
      expect(res.text).toContain('aws_sdk_missing');
      expect(res.text).toContain('npm install @aws-sdk/credential-providers');
    } finally {
      await t.close();
    }
    const keys = await resolveAwsCredentials({
      region: 'eu-west-1',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    });
    expect(keys.accessKeyId).toBe('AKIDEXAMPLE');
  });

  it('a module missing inside the SDK is not mistaken for the SDK missing', () => {
    const inner = Object.assign(new Error("Cannot find package '@smithy/core' imported from /x/y.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(isMissingPackage(inner, '@aws-sdk/credential-providers')).toBe(false);
  });
});
