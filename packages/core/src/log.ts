/** MCP (syslog) levels, least to most severe. */
export const LOG_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Severity rank; an unknown level counts as info. */
export function levelRank(level: string | undefined): number {
  const i = LOG_LEVELS.indexOf(level as LogLevel);
  return i < 0 ? 1 : i;
}

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/** Process log: stderr only (stdout is the stdio transport's wire). */
export function stderrLogger(
  name = 'infra-mcp',
  min: LogLevel = 'info',
  sink?: (level: LogLevel, line: string, data?: unknown) => void,
): Logger {
  const write = (level: LogLevel, message: string, data?: unknown) => {
    sink?.(level, message, data);
    if (levelRank(level) < levelRank(min)) return;
    const extra = data === undefined ? '' : ` ${safeJson(data)}`;
    process.stderr.write(`${new Date().toISOString()} ${level} [${name}] ${message}${extra}\n`);
  };
  return {
    debug: (m, d) => write('debug', m, d),
    info: (m, d) => write('info', m, d),
    warn: (m, d) => write('warning', m, d),
    error: (m, d) => write('error', m, d),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
