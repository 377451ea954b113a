/**
 * One JSON line per event. Secrets registered at start are masked in every line, whatever field
 * or error message they hide in.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  secrets?: string[];
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const level = options.level ?? 'info';
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));

  const emit = (at: LogLevel, event: string, fields: LogFields = {}) => {
    if (rank[at] < rank[level]) return;
    const record = { time: new Date().toISOString(), level: at, event, ...bound, ...fields };
    write(redact(JSON.stringify(record, errorReplacer), secrets));
  };

  return {
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('[redacted]');
  return result;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    const status = (value as { status?: unknown }).status;
    return { name: value.name, message: value.message, code, status };
  }
  return value;
}

/** A logger that drops everything, for tools and tests that do not care. */
export const silentLogger: Logger = createLogger({ write: () => {} });
