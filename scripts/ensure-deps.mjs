// Installs the dependencies when node_modules is missing or older than
// package-lock.json, so that `npm run demo` and `npm test` work as the very
// first command on a fresh clone. It runs on whatever Node the machine has
// (the Node 22 the scripts need comes with the install: the pinned `node`
// package), so it is plain JavaScript with no dependencies.
//
// "Older than package-lock.json": npm ci and npm install record what they
// installed in node_modules/.package-lock.json (npm's hidden lockfile). Every
// package there must be the version and tarball package-lock.json names, and
// be on disk; every package in package-lock.json must be there, except
// optional ones npm skips on this platform.
/* global console, process */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// npm runs on the machine's Node here; its warnings that the packages want
// Node 22 are expected (the install brings it), so only errors are shown.
const INSTALL = ['ci', '--no-audit', '--no-fund', '--loglevel=error'];

function packages(file) {
  return JSON.parse(readFileSync(file, 'utf8')).packages || {};
}

/** Why node_modules does not match package-lock.json, or '' when it does. */
function staleness() {
  const hidden = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) {
    return existsSync(join(root, 'node_modules'))
      ? 'node_modules has no record of an npm install (node_modules/.package-lock.json)'
      : 'node_modules is missing';
  }
  const wanted = packages(join(root, 'package-lock.json'));
  const installed = packages(hidden);
  for (const [path, want] of Object.entries(wanted)) {
    if (!path.startsWith('node_modules/')) continue;
    const have = installed[path];
    if (!have) {
      if (want.optional) continue;
      return `${path} is not installed`;
    }
    for (const field of ['version', 'integrity', 'link', 'resolved']) {
      if (field === 'resolved' && !want.link) continue; // registry mirrors differ
      if (want[field] === have[field]) continue;
      return field === 'version'
        ? `${path} is ${have.version}, package-lock.json wants ${want.version}`
        : `${path} ${have.version || ''} differs from package-lock.json (${field})`;
    }
  }
  for (const path of Object.keys(installed)) {
    if (!wanted[path]) return `${path} is not in package-lock.json`;
    if (!existsSync(join(root, path, 'package.json'))) return `${path} is missing`;
  }
  // The pinned Node 22 is put in place by the `node` package's install script.
  const node = join(
    root,
    'node_modules',
    '.bin',
    process.platform === 'win32' ? 'node.cmd' : 'node',
  );
  if (!existsSync(node)) return 'the pinned Node (node_modules/.bin/node) is missing';
  return '';
}

const reason = staleness();
if (reason) {
  console.log(`lifeboat: ${reason}; installing the dependencies first: npm ${INSTALL.join(' ')}`);
  const npm = spawnSync('npm', INSTALL, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (npm.status !== 0) {
    console.error(
      `lifeboat: npm ${INSTALL.join(' ')} failed (${npm.error || `exit ${npm.status}`})`,
    );
    process.exit(1);
  }
  const still = staleness();
  if (still) {
    console.error(`lifeboat: after npm ${INSTALL.join(' ')}, ${still}`);
    process.exit(1);
  }
}
