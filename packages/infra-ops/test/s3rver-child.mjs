// s3rver in its own process: its continuation tokens use DES, which Node's OpenSSL 3 offers only
// with --openssl-legacy-provider (given to this process alone, not to the tests).
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const s3 = new S3rver({
  port: 0,
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await s3.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', async () => {
  await s3.close();
  process.exit(0);
});
