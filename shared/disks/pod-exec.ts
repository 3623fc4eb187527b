import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in a container. The hooks depend on this, not on the
 * Kubernetes client, so they can be tested without a kubelet. An
 * implementation resolves with the exit code once the command has finished,
 * rejects when it could not run it (no such pod or container, connection
 * lost), and stops waiting (and rejects) when `signal` aborts.
 */
export interface PodExec {
  exec(request: ExecRequest, signal: AbortSignal): Promise<ExecResult>;
}

/** What is kept of a command's output: enough for an error message, not a log store. */
const MAX_OUTPUT = 16 * 1024;

/** The part of the `ws` WebSocket that Exec resolves with and this code uses. */
interface ExecSocket {
  on(event: 'close', listener: () => void): unknown;
  close(): void;
}

/**
 * PodExec through the Kubernetes exec API (`pods/exec`, a WebSocket speaking
 * the channel.k8s.io protocols) with @kubernetes/client-node's Exec. When
 * aborted it closes the WebSocket; the API server then ends the stream, but
 * the process in the container may run on (as with `kubectl exec`): hooks
 * must be commands that are safe to interrupt.
 */
export class KubePodExec implements PodExec {
  private readonly api: Exec;

  constructor(kubeConfig: KubeConfig) {
    this.api = new Exec(kubeConfig);
  }

  async exec(request: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
    signal.throwIfAborted();
    const stdout = new Capture();
    const stderr = new Capture();
    let status: V1Status | undefined;
    const where = `pod ${request.namespace}/${request.pod} container ${request.container}`;
    let socket: ExecSocket;
    try {
      socket = (await this.api.exec(
        request.namespace,
        request.pod,
        request.container,
        request.command,
        stdout,
        stderr,
        null,
        false,
        (s) => (status = s),
      )) as unknown as ExecSocket;
    } catch (error) {
      throw new Error(`cannot exec in ${where}: ${describeConnectError(error)}`, { cause: error });
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        socket.close();
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('close', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    if (!status) throw new Error(`exec in ${where} ended without reporting an exit status`);
    return { exitCode: exitCodeOf(status, where), stdout: stdout.text(), stderr: stderr.text() };
  }
}

/**
 * The exit code carried by the status channel: Success is 0; a failure
 * with reason NonZeroExitCode carries the code in a cause of reason
 * ExitCode; any other failure (the command could not start) is an error.
 */
export function exitCodeOf(status: V1Status, where: string): number {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
  }
  throw new Error(
    `exec in ${where} failed: ${status.message ?? status.reason ?? 'unknown failure'}`,
  );
}

function describeConnectError(error: unknown): string {
  if (error instanceof Error) return error.message;
  // The ws client rejects with its ErrorEvent, whose message says e.g. "Unexpected server response: 404".
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** A Writable that keeps the first MAX_OUTPUT bytes. */
class Capture extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (this.size < MAX_OUTPUT) {
      const part = chunk.subarray(0, MAX_OUTPUT - this.size);
      this.chunks.push(Buffer.from(part));
      this.size += part.length;
    }
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
