/**
 * Shell-style globs as used in every filter and rule: `*` matches any run
 * of characters (also none), `?` exactly one, everything else itself; the
 * whole value must match, case-sensitively. Neither wildcard matches a line
 * terminator (the semantics of the regular expressions this replaces), so a
 * value's line terminators must meet the same ones in the pattern.
 *
 * The classic two-pointer algorithm: on a mismatch it backtracks only to
 * the last `*` seen, so a match costs at most O(pattern × value) steps and
 * never the exponential time a backtracking regular expression can take
 * (`*a*a*a*a*a*a*a*a*a*a*b` against a long run of `a`s).
 */
export function globMatch(pattern: string, value: string): boolean {
  if (!LINE_TERMINATOR.test(pattern) && !LINE_TERMINATOR.test(value)) {
    return lineMatch(pattern, value);
  }
  const patternLines = pattern.split(LINE_TERMINATORS);
  const valueLines = value.split(LINE_TERMINATORS);
  return (
    patternLines.length === valueLines.length &&
    patternLines.every((p, i) =>
      i % 2 === 1 ? p === valueLines[i] : lineMatch(p, valueLines[i] ?? ''),
    )
  );
}

/** Any of the globs matches. */
export function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => globMatch(p, value));
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
/** Splits keeping each terminator as its own element (odd indexes). */
const LINE_TERMINATORS = /([\n\r\u2028\u2029])/;

/** A glob against a value, neither holding a line terminator. */
function lineMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1; // index in pattern just after the last '*'
  let resume = 0; // how far into value that '*' reaches
  while (v < value.length) {
    const c = pattern[p];
    if (c === '*') {
      star = ++p;
      resume = v;
    } else if (p < pattern.length && (c === '?' || c === value[v])) {
      p++;
      v++;
    } else if (star >= 0) {
      // Let the last '*' take one more character and try the rest again.
      p = star;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
