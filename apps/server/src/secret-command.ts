import {
  ConfigError,
  decryptSecret,
  encryptSecret,
  keyFileTooOpen,
  loadSecretKey,
  SECRET_KEY_ENV,
  type SecretKey,
  SecretRefError,
} from '@infra-mcp/core';

const err = (text: string) => process.stderr.write(`infra-mcp: ${text}\n`);

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Type the secret, then Enter and Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // one trailing newline is the end of the line typed or echoed, not part of the secret
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function key(env: Record<string, string | undefined>, create: boolean): SecretKey {
  const k = loadSecretKey(env, { create });
  if (k.created)
    err(
      `created the secret key file ${k.source} (mode 0600); keep it (and a backup): enc: values need it to start`,
    );
  else if (k.source !== `env ${SECRET_KEY_ENV}` && keyFileTooOpen(k.source))
    err(`warning: ${k.source} is readable by other users; chmod 600 ${k.source}`);
  return k;
}

/**
 * `infra-mcp secret encrypt` (value on stdin, or --value) prints `enc:v1:...`;
 * `infra-mcp secret decrypt-check <enc>` says whether it decrypts, never printing the value.
 */
export async function secretCommand(
  sub: string | undefined,
  rest: string[],
  opts: { value?: string },
  env: Record<string, string | undefined>,
): Promise<number> {
  try {
    if (sub === 'encrypt') {
      if (rest.length)
        throw new ConfigError(
          'secret encrypt: the value comes from stdin (or --value); example: infra-mcp secret encrypt < password.txt',
        );
      let value: string;
      if (opts.value !== undefined) {
        err('warning: --value puts the secret in your shell history and the process list; prefer stdin');
        value = opts.value;
      } else value = await readStdin();
      if (value === '') throw new ConfigError('secret encrypt: the value is empty (nothing on stdin)');
      process.stdout.write(`${encryptSecret(value, key(env, true))}\n`);
      return 0;
    }
    if (sub === 'decrypt-check') {
      const text = rest[0];
      if (!text || rest.length > 1)
        throw new ConfigError(
          "secret decrypt-check: give one value; example: infra-mcp secret decrypt-check 'enc:v1:...'",
        );
      const k = key(env, false);
      decryptSecret(text.trim(), () => k);
      process.stdout.write(`ok: decrypts with the key from ${k.source} (key id ${k.id})\n`);
      return 0;
    }
    throw new ConfigError(
      `unknown secret command "${sub ?? ''}"; use: infra-mcp secret encrypt, infra-mcp secret decrypt-check <enc>`,
    );
  } catch (e) {
    if (e instanceof SecretRefError || (e as Error).name === 'SecretRefError') {
      err(`secret ${sub}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  }
}
