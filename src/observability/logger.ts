// The process logger: winston, JSON by default, readable on a terminal, every line redacted of secrets.
import winston from 'winston';
import { redactSecrets, redactValue } from './redact.js';

export type LogFormat = 'json' | 'text';
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Defaults to standard error, so that standard output stays for a command's results. */
  stream?: NodeJS.WritableStream;
}

const SPLAT = Symbol.for('splat');

/** Redacts the message and every metadata field, whatever their depth. */
export const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = redactValue(info[key]);
  }
  if (typeof info.message === 'string') info.message = redactSecrets(info.message);
  delete (info as Record<symbol, unknown>)[SPLAT];
  return info;
});

export function levelFromEnvironment(fallback: LogLevel = 'info'): LogLevel {
  const wanted = process.env.LOG_LEVEL?.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(wanted ?? '') ? (wanted as LogLevel) : fallback;
}

export function createLogger(options: LoggerOptions = {}): winston.Logger {
  const stream = options.stream ?? process.stderr;
  const format =
    options.format ??
    (process.env.LOG_FORMAT === 'text' || (stream as { isTTY?: boolean }).isTTY ? 'text' : 'json');
  const shape =
    format === 'json'
      ? winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redactFormat(),
          winston.format.timestamp({ format: 'HH:mm:ss' }),
          winston.format.printf(({ level, message, timestamp, ...meta }) => {
            const extra = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
            return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${extra}`;
          }),
        );
  const logger = winston.createLogger({
    level: options.level ?? levelFromEnvironment(),
    format: shape,
    transports: [new winston.transports.Stream({ stream })],
  });
  skipDisabledLevels(logger);
  return logger;
}

/**
 * Makes a line at a level that is off cost a level check. winston filters levels in its transports, after the
 * logger's format has run: a `debug` line the level drops was still redacted, timestamped and streamed, and the
 * hub client writes one a call. Set on the instance, so that its children (`child()`, made with Object.create)
 * have it too; a line that is written goes through the format, redaction included, as before.
 */
function skipDisabledLevels(logger: winston.Logger): void {
  for (const level of LOG_LEVELS) {
    const write = logger[level] as (...args: unknown[]) => winston.Logger;
    (logger as unknown as Record<LogLevel, unknown>)[level] = function (
      this: winston.Logger | undefined,
      ...args: unknown[]
    ): winston.Logger {
      const self = this ?? logger;
      return self.isLevelEnabled(level) ? write.apply(self, args) : self;
    };
  }
}

export type Logger = winston.Logger;
