export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4 };

/** Process log: stderr only (stdout is the stdio transport's wire). */
export function stderrLogger(
  name = 'infra-mcp',
  min: LogLevel = 'info',
  sink?: (level: LogLevel, line: string, data?: unknown) => void,
): Logger {
  const write = (level: LogLevel, message: string, data?: unknown) => {
    sink?.(level, message, data);
    if (ORDER[level] < ORDER[min]) return;
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
