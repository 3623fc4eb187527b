/**
 * Durations are milliseconds everywhere in the code; this module is where
 * they are read from and written as text ("30s", "2m").
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type DurationUnit = keyof typeof UNIT_MS;

/** A number, an optional unit, spaces allowed around both. */
const DURATION = /^\s*(\d+(?:\.\d+)?)(\s*)(ms|s|m|h)?\s*$/;

/** Which written forms a reader of durations accepts. */
export interface DurationForms {
  /** A number without a unit counts in this unit; absent: the unit is required. */
  bareUnit?: DurationUnit;
  /** Whole numbers only, above zero, the unit written right after the number. */
  strict?: boolean;
}

/**
 * Hook timeout annotations: "500ms", "30s", "1.5m", "1h" or a bare number of
 * seconds (Velero's annotations take Go durations; these are the common forms).
 */
export const ANNOTATION_DURATION: DurationForms = { bareUnit: 's' };

/** Command-line flags: `90s`, `30m`, `2h`, `500ms`; never zero. */
export const FLAG_DURATION: DurationForms = { strict: true };

/** Milliseconds of a written duration, or undefined when `text` is not one in these forms. */
export function parseDuration(
  text: string,
  forms: DurationForms = ANNOTATION_DURATION,
): number | undefined {
  const match = DURATION.exec(text);
  if (!match?.[1]) return undefined;
  const [, number, gap, written] = match;
  const unit = (written as DurationUnit | undefined) ?? forms.bareUnit;
  if (!unit) return undefined;
  const value = Number(number);
  if (forms.strict && (number.includes('.') || gap || value === 0)) return undefined;
  return Math.round(value * UNIT_MS[unit]);
}

/** "30s", "2m" or "250ms": the largest unit that writes `ms` exactly. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
