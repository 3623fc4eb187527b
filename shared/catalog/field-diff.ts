import jsonPatch from 'fast-json-patch';

/** One field that differs between two versions of an object. */
export interface FieldChange {
  op: 'add' | 'remove' | 'replace';
  /** JSON pointer, e.g. /spec/replicas. */
  path: string;
  /** The value at `path` in the older object (absent for `add`). */
  before?: unknown;
  /** The value at `path` in the newer object (absent for `remove`). */
  after?: unknown;
  /** Set when `before` and `after` are descriptions (such as "(12 bytes)"), not the values. */
  redacted?: true;
}

/**
 * The fields that differ between two manifests, as fast-json-patch's
 * `compare` finds them (add, remove, replace; arrays by index), each with
 * the older value beside the newer so that a reader need not hold both.
 */
export function fieldChanges(before: object, after: object): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const op of jsonPatch.compare(before, after)) {
    if (op.op === 'add') changes.push({ op: 'add', path: op.path, after: op.value as unknown });
    else if (op.op === 'remove')
      changes.push({ op: 'remove', path: op.path, before: valueAt(before, op.path) });
    else if (op.op === 'replace')
      changes.push({
        op: 'replace',
        path: op.path,
        before: valueAt(before, op.path),
        after: op.value as unknown,
      });
    // compare() emits only add, remove and replace (and test, when asked to be invertible).
  }
  return changes;
}

function valueAt(document: object, pointer: string): unknown {
  return jsonPatch.getValueByPointer(document, pointer) as unknown;
}
