import { pino, type Logger as PinoLogger } from 'pino';
import { currentLogContext } from './log-context.js';

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
 * `severity`, `message`, `logging.googleapis.com/labels` and, during a
 * function invocation (see log-context.ts), its execution id among the
 * labels and its `logging.googleapis.com/trace`.
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
      base: {},
      // Labels come with each line, not as bindings: an invocation adds its execution id to them.
      mixin: () => invocationFields(options.labels),
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** The labels and trace of a line: the logger's labels, and the running invocation's ids. */
function invocationFields(labels: Record<string, string> | undefined): Record<string, unknown> {
  const context = currentLogContext();
  if (!context) return labels ? { 'logging.googleapis.com/labels': labels } : {};
  return {
    'logging.googleapis.com/labels': { ...labels, execution_id: context.executionId },
    'logging.googleapis.com/trace': context.trace,
  };
}
