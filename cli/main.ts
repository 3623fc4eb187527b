#!/usr/bin/env node
// The `lifeboat` entry point: checks the Node version before it loads
// anything else. Imports are hoisted, so the command itself (run.ts, with the
// Google Cloud clients, which fail while loading on Node 20 with a message that
// does not say why) is imported dynamically once the version is known to be
// new enough. Like node-version.ts, this file keeps to syntax old Node parses.
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.version, process.argv[1], process.cwd());
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 2; // ExitCode.Usage (exit-codes.ts loads commander, so not imported here)
} else {
  import('./run.js');
}
