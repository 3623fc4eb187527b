import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** pino levels mapped onto Cloud Logging severities. */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Keys whose values never reach a log line, wherever they sit. */
const REDACTED = [
  '*.token',
  '*.password',
  '*.data',
  '*.stringData',
  '*.key',
  '*.secret',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * Structured JSON logs in the shape Cloud Logging parses from stdout:
 * `severity`, `message`, `logging.googleapis.com/labels` and, when known,
 * `logging.googleapis.com/trace`.
 */
export function createLogger(options: {
  level?: string;
  labels?: Record<string, string>;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      messageKey: 'message',
      base: options.labels ? { 'logging.googleapis.com/labels': options.labels } : {},
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A child logger tied to a trace, as Cloud Logging groups lines by it. */
export function withTrace(logger: Logger, project: string, traceId: string | undefined): Logger {
  if (!traceId) return logger;
  return logger.child({ 'logging.googleapis.com/trace': `projects/${project}/traces/${traceId}` });
}
