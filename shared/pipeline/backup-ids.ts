/**
 * A backup's id comes from the policy and the scheduled time, so a
 * redelivered tick (same time) names the same backup and makes no second
 * one: `nightly-20261126-0200`.
 */
export function scheduledBackupId(policyName: string, scheduledTime: string): string {
  const t = new Date(scheduledTime);
  if (Number.isNaN(t.getTime())) throw new Error(`Invalid scheduled time "${scheduledTime}"`);
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}-${p(t.getUTCHours())}${p(t.getUTCMinutes())}`;
  return `${policyName}-${stamp}`.slice(0, 63).replace(/-+$/, '');
}

/** Truncates to the minute: Cloud Scheduler fires on minute boundaries, publish times drift by seconds. */
export function scheduledMinute(time: string): string {
  const t = new Date(time);
  t.setUTCSeconds(0, 0);
  return t.toISOString();
}
