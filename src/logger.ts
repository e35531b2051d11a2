import pino, { type DestinationStream, type Logger } from 'pino';

/** JSON logs to stdout; credentials never reach them. */
export function createLogger(level: string, name = 'tramline', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'secret', '*.secret', 'apiKey', '*.apiKey'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
