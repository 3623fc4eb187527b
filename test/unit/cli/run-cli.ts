import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, as `npm install` links it (`bin.lifeboat`). */
export const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `lifeboat ARGS` as a child process on this Node, with process.env
 * plus `env` (a value of undefined removes the variable). Asynchronous, so
 * that servers living in the test process keep answering meanwhile.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 240_000,
): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A failure message that shows what the CLI said. */
export function explain(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Lines of stderr that are errors (not progress). */
export function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('lifeboat: '));
}

/**
 * CLI runs registered while mocha collects the tests and started together
 * (a few at a time) before the first of them runs: each run costs a Node
 * start-up, so a long table of cases finishes in a fraction of the time.
 */
export class CliBatch {
  private readonly runs: { args: string[]; result?: Promise<CliResult> }[] = [];

  constructor(
    private readonly env: Record<string, string | undefined> = {},
    private readonly parallel = 6,
  ) {}

  /** Registers a run; the returned function resolves to its result once the batch started. */
  add(args: string[]): () => Promise<CliResult> {
    const run: { args: string[]; result?: Promise<CliResult> } = { args };
    this.runs.push(run);
    return () => {
      if (!run.result) throw new Error('CliBatch.start() was not called in a before hook');
      return run.result;
    };
  }

  start(): void {
    let next = 0;
    const slots: Promise<void>[] = [];
    const results = this.runs.map(() => {
      let settle: (r: CliResult) => void = () => undefined;
      let fail: (e: unknown) => void = () => undefined;
      const p = new Promise<CliResult>((resolve, reject) => ([settle, fail] = [resolve, reject]));
      return { p, settle, fail };
    });
    this.runs.forEach((run, i) => (run.result = results[i]!.p));
    const worker = async (): Promise<void> => {
      while (next < this.runs.length) {
        const i = next++;
        await runCli(this.runs[i]!.args, this.env).then(results[i]!.settle, results[i]!.fail);
      }
    };
    for (let i = 0; i < this.parallel; i++) slots.push(worker());
  }
}
