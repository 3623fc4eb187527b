import type { V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../errors.js';
import { ANNOTATION_DURATION, formatDuration, parseDuration } from '../time/duration.js';
import type { CaptureHooks } from './disk-snapshotter.js';
import type { PodExec } from './pod-exec.js';

/**
 * Consistency hooks, declared on pods the way Velero declares them:
 *
 *   pre.hook.backup.lifeboat.dev/container  container to run in (default: the pod's first)
 *   pre.hook.backup.lifeboat.dev/command    JSON array, e.g. ["fsfreeze","--freeze","/var/lib/mysql"]
 *   pre.hook.backup.lifeboat.dev/timeout    e.g. 30s (default 30s)
 *   pre.hook.backup.lifeboat.dev/on-error   Fail (default) or Continue
 *
 * and the same under post.hook.backup.lifeboat.dev/. The pre hook runs
 * before the snapshot is created, the post hook once its creation is done
 * (not once it is READY: see CaptureHooks), even when the snapshot failed.
 */

export const HookPhases = ['pre', 'post'] as const;
export type HookPhase = (typeof HookPhases)[number];
export const OnErrorPolicies = ['Fail', 'Continue'] as const;
export type OnErrorPolicy = (typeof OnErrorPolicies)[number];

export const DEFAULT_HOOK_TIMEOUT_MS = 30_000;

export const hookAnnotation = (
  phase: HookPhase,
  field: 'container' | 'command' | 'timeout' | 'on-error',
): string => `${phase}.hook.backup.lifeboat.dev/${field}`;

export interface Hook {
  phase: HookPhase;
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  timeoutMs: number;
  onError: OnErrorPolicy;
}

/** A declared hook, or why its annotations cannot be used. */
export type HookDeclaration =
  Hook | { phase: HookPhase; namespace: string; pod: string; invalid: string };

/** The pre or post hook a pod declares, if any. */
export function hookOf(pod: V1Pod, phase: HookPhase): HookDeclaration | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const raw = annotations[hookAnnotation(phase, 'command')];
  if (raw === undefined) return undefined;
  const at = { phase, namespace: pod.metadata?.namespace ?? '', pod: pod.metadata?.name ?? '' };
  const command = parseCommand(raw);
  if (!command)
    return {
      ...at,
      invalid: `${hookAnnotation(phase, 'command')} must be a JSON array of strings`,
    };
  const container =
    annotations[hookAnnotation(phase, 'container')] ?? pod.spec?.containers[0]?.name;
  if (!container) return { ...at, invalid: 'the pod has no container to run the hook in' };
  const timeoutText = annotations[hookAnnotation(phase, 'timeout')];
  const timeoutMs =
    timeoutText === undefined
      ? DEFAULT_HOOK_TIMEOUT_MS
      : parseDuration(timeoutText, ANNOTATION_DURATION);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    return {
      ...at,
      invalid: `${hookAnnotation(phase, 'timeout')} "${timeoutText ?? ''}" is not a duration`,
    };
  }
  const onErrorText = annotations[hookAnnotation(phase, 'on-error')] ?? 'Fail';
  const onError = OnErrorPolicies.find((p) => p === onErrorText);
  if (!onError)
    return { ...at, invalid: `${hookAnnotation(phase, 'on-error')} must be Fail or Continue` };
  return { ...at, container, command, timeoutMs, onError };
}

/** A JSON array of strings or, as Velero also accepts, a single command word. */
function parseCommand(raw: string): string[] | undefined {
  const text = raw.trim();
  if (!text.startsWith('[')) return text === '' ? undefined : [text];
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((p) => typeof p === 'string'))
      return parsed;
  } catch {
    // reported as invalid below
  }
  return undefined;
}

/** Pods that mount `claimName` (hooks run in each of them). */
export function podsUsingClaim(pods: V1Pod[], namespace: string, claimName: string): V1Pod[] {
  return pods.filter(
    (p) =>
      p.metadata?.namespace === namespace &&
      (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName),
  );
}

export interface HookRun {
  phase: HookPhase;
  pod: string;
  container?: string;
  command?: string[];
  ok: boolean;
  /** Set when the hook failed: the exit code and stderr, the timeout, or the invalid annotation. */
  error?: string;
  onError: OnErrorPolicy;
}

/** What happened around an action run with hooks. */
export interface Hooked<T> {
  /** The action's result; absent when a pre hook with on-error Fail stopped it, or it threw. */
  result?: T;
  /** What the action threw, if it did. */
  thrown?: unknown;
  /** True when a pre hook with on-error Fail failed, so the action never ran. */
  stopped: boolean;
  runs: HookRun[];
  /** Failed hooks with on-error Fail: these make a backup PartiallyFailed. */
  errors: string[];
  /** Failed hooks with on-error Continue. */
  warnings: string[];
}

/**
 * Runs `action` between the pre and post hooks of `pods`. Pre hooks run in
 * order; one with on-error Fail that fails stops the action. Post hooks run
 * always, in reverse order, whether the action succeeded, failed or never
 * ran: a pre hook that timed out may still have frozen a filesystem, and an
 * unfreeze of a filesystem that is not frozen does no harm.
 */
export async function withHooks<T>(
  pods: V1Pod[],
  exec: PodExec | undefined,
  action: () => Promise<T>,
): Promise<Hooked<T>> {
  const capture = captureHooks(pods, exec);
  const out: Hooked<T> = capture.report;
  if (await capture.hooks.pre()) {
    try {
      out.result = await action();
    } catch (error) {
      out.thrown = error;
    }
  }
  await capture.hooks.post();
  return out;
}

/** The hooks of `pods` as a snapshotter runs them (see CaptureHooks), and what they did. */
export interface Capture {
  hooks: CaptureHooks;
  /** The post hooks, if the pre hooks ran and the post hooks have not: call it last, always. */
  finish(): Promise<void>;
  report: Hooked<never>;
}

/**
 * Pre and post hooks for a snapshotter to run at the capture itself: the
 * pre hooks at most once, and the post hooks at most once and only after
 * the pre hooks (the same order and on-error rules as withHooks). When the
 * snapshotter adopts an existing snapshot and calls neither, no hook runs.
 */
export function captureHooks(pods: V1Pod[], exec: PodExec | undefined): Capture {
  const report: Hooked<never> = { stopped: false, runs: [], errors: [], warnings: [] };
  let preRan = false;
  let postRan = false;
  const post = async (): Promise<void> => {
    if (!preRan || postRan) return;
    postRan = true;
    for (const pod of [...pods].reverse()) await runHook(hookOf(pod, 'post'), exec, report);
  };
  return {
    hooks: {
      pre: async () => {
        if (preRan) return !report.stopped;
        preRan = true;
        for (const pod of pods) {
          const run = await runHook(hookOf(pod, 'pre'), exec, report);
          if (run && !run.ok && run.onError === 'Fail') {
            report.stopped = true;
            break;
          }
        }
        return !report.stopped;
      },
      post,
    },
    finish: post,
    report,
  };
}

async function runHook<T>(
  declared: HookDeclaration | undefined,
  exec: PodExec | undefined,
  out: Hooked<T>,
): Promise<HookRun | undefined> {
  if (!declared) return undefined;
  const run: HookRun =
    'invalid' in declared
      ? {
          phase: declared.phase,
          pod: `${declared.namespace}/${declared.pod}`,
          ok: false,
          error: declared.invalid,
          onError: 'Fail',
        }
      : await execute(declared, exec);
  out.runs.push(run);
  if (!run.ok) {
    const line = `${run.phase} hook in pod ${run.pod}${run.container ? ` container ${run.container}` : ''} failed: ${run.error ?? ''}`;
    (run.onError === 'Fail' ? out.errors : out.warnings).push(line);
  }
  return run;
}

async function execute(hook: Hook, exec: PodExec | undefined): Promise<HookRun> {
  const base = {
    phase: hook.phase,
    pod: `${hook.namespace}/${hook.pod}`,
    container: hook.container,
    command: hook.command,
    onError: hook.onError,
  };
  if (!exec) return { ...base, ok: false, error: 'no exec access to the cluster is configured' };
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`timed out after ${formatDuration(hook.timeoutMs)}`)),
    hook.timeoutMs,
  );
  try {
    const request = {
      namespace: hook.namespace,
      pod: hook.pod,
      container: hook.container,
      command: hook.command,
    };
    // Race the timeout too: an exec that ignores its signal must not hold the backup.
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
        once: true,
      });
    });
    const result = await Promise.race([exec.exec(request, controller.signal), timedOut]);
    if (result.exitCode === 0) return { ...base, ok: true };
    const stderr = result.stderr.trim();
    return {
      ...base,
      ok: false,
      error: `exit code ${result.exitCode}${stderr ? `: ${stderr}` : ''}`,
    };
  } catch (error) {
    return { ...base, ok: false, error: errorMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}
