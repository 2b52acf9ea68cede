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
  return winston.createLogger({
    level: options.level ?? levelFromEnvironment(),
    format: shape,
    transports: [new winston.transports.Stream({ stream })],
  });
}

export type Logger = winston.Logger;
