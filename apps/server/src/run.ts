import { main } from './main.js';

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`infra-mcp: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
