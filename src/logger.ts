import pino, { type Logger } from 'pino';

/** JSON logs to stdout; credentials never reach them. */
export function createLogger(level: string, name = 'tramline'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'secret', '*.secret', 'apiKey', '*.apiKey'],
      censor: '[redacted]',
    },
  });
}
