import { pino } from 'pino';

/**
 * One JSON line per event (pino), with the event name, its fields and the bound ones (job id,
 * process role). Secrets are kept out twice over: credential-shaped fields are censored by path,
 * and every registered secret is masked in the finished line, whatever field or error message it
 * hides in.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

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
  /** Where each line goes (without its newline); stdout by default. */
  write?: (line: string) => void;
  /** Fields on every line, such as the process role and id. */
  base?: LogFields;
}

/** Fields that hold credentials by name, wherever they appear one level down. */
const CREDENTIAL_PATHS = ['token', 'apiKey', 'authorization', '*.token', '*.apiKey', '*.authorization'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const destination = { write: (chunk: string) => write(redact(chunk.trimEnd(), secrets)) };
  const root = pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: serializeError },
      redact: { paths: CREDENTIAL_PATHS, censor: '[redacted]' },
    },
    destination,
  );
  return wrap(root);
}

function wrap(instance: pino.Logger): Logger {
  return {
    debug: (event, fields) => instance.debug(fields ?? {}, event),
    info: (event, fields) => instance.info(fields ?? {}, event),
    warn: (event, fields) => instance.warn(fields ?? {}, event),
    error: (event, fields) => instance.error(fields ?? {}, event),
    child: (fields) => wrap(instance.child(fields)),
  };
}

export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('[redacted]');
  return result;
}

/** Errors as the few fields that help, never a stack or a request body. */
function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { code, status } = value as { code?: unknown; status?: unknown };
  return { name: value.name, message: value.message, code, status };
}

/** A logger that drops everything, for tools and tests that do not care. */
export const silentLogger: Logger = createLogger({ write: () => {} });
