import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/unit/infra). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const infraDir = join(repoRoot, 'infra');

export interface InfraTools {
  /** OpenTofu, built from the Go module proxy by local/build-tofu.sh. */
  tofu: string;
  /** hcl2json (local/tofu/hcl2json), built next to it. */
  hcl2json: string;
}

/**
 * Builds (first run, a few minutes) or finds (cached) tofu and hcl2json.
 * A failed build throws with the script's exit status: the infra checks
 * cannot run without them, and must not pass silently.
 */
export function infraTools(): InfraTools {
  const script = join(repoRoot, 'local', 'build-tofu.sh');
  process.stderr.write('[infra] tofu: build-tofu.sh (cached after the first build)\n');
  let tofu: string;
  try {
    tofu = execFileSync('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] })
      .toString()
      .trim();
  } catch (error) {
    throw new Error(`Unable to build OpenTofu with ${script}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { tofu, hcl2json: join(dirname(tofu), 'hcl2json') };
}

/**
 * The environment tofu runs in: no CLI configuration (the machine may point
 * TF_CLI_CONFIG_FILE at a missing file), no telemetry, no colours.
 */
export function tofuEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TF_CLI_CONFIG_FILE: '',
    TF_DATA_DIR: dataDir,
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
    NO_COLOR: '1',
  };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input ?? '',
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: stripAnsi(result.stderr) };
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
