// The check the `lifeboat` command makes before it loads anything else
// (main.ts). It runs on whatever Node started the command, so it keeps to
// syntax that Node 12 parses: no `?.`, `??`, top-level await or class fields.

/** package.json `engines.node` (">=22"): the nodejs22 Cloud Functions runtime, which the Google Cloud clients need. */
export const NEEDED_NODE_MAJOR = 22;

/** The Node 22 that `npm ci` brings: package.json devDependencies `node`. */
export const PINNED_NODE = '22.23.3';

/**
 * Nothing when `found` (a `process.version`) is Node 22 or newer; else the
 * one line to print: the version found, the one needed and how to get it.
 * `script` is the file the command was started as (process.argv[1]), shown
 * relative to `cwd` when it lies inside it.
 */
export function nodeVersionProblem(
  found: string,
  script: string | undefined,
  cwd: string,
): string | undefined {
  const match = /^v?(\d+)\./.exec(found);
  if (match && Number(match[1]) >= NEEDED_NODE_MAJOR) return undefined;
  let shown = script || 'dist/cli/main.js';
  const base = cwd.replace(/[\\/]+$/, '');
  if (base && shown.indexOf(base) === 0 && /^[\\/]/.test(shown.slice(base.length))) {
    shown = shown.slice(base.length + 1);
  }
  if (/\s/.test(shown)) shown = JSON.stringify(shown);
  return (
    `lifeboat: needs Node ${NEEDED_NODE_MAJOR} or newer, found ${found}; ` +
    `run it on the pinned Node ${PINNED_NODE} with \`npx -p node@${PINNED_NODE} node ${shown} ...\`` +
    ` or put Node ${NEEDED_NODE_MAJOR} first on the PATH`
  );
}
