import { PermanentError } from '../errors.js';

/** Every namespace a drill writes to starts with this: `drill-<id>-`. */
export const drillPrefix = (drillId: string): string => `drill-${drillId}-`;

/** The restore a drill runs; its id is the value of the restore label on every object it creates. */
export const drillRestoreId = (drillId: string): string => `drill-${drillId}`;

/** A namespace name is a DNS label. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Where a drill puts a backed-up namespace; refused when the drilled name would not be a namespace name. */
export function drillNamespace(drillId: string, namespace: string): string {
  const name = `${drillPrefix(drillId)}${namespace}`;
  if (!DNS_LABEL.test(name)) {
    throw new PermanentError(
      `namespace ${namespace} cannot be drilled as ${name}: longer than 63 characters (use a shorter drill id, or leave the namespace out)`,
    );
  }
  return name;
}
