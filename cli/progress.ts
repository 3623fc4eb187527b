/**
 * Progress of long work on stderr, at most one line per interval, so that
 * stdout carries only the result. On a terminal the line is rewritten in
 * place; elsewhere (a CI log, a pipe) each update is its own line.
 */
export class Progress {
  private last = 0;
  private pending: string | undefined;
  private shown = false;

  constructor(
    private readonly intervalMs = 500,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Shows `text` if the interval has passed since the last line, else remembers it. */
  update(text: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.pending = text;
      return;
    }
    this.last = now;
    this.pending = undefined;
    this.print(text);
  }

  /** Shows the final state (or the last one held back) and ends the line. */
  done(text?: string): void {
    const final = text ?? this.pending;
    if (final !== undefined) this.print(final);
    if (this.shown && this.stream.isTTY) this.stream.write('\n');
    this.shown = false;
    this.pending = undefined;
  }

  private print(text: string): void {
    this.shown = true;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${text}`);
    else this.stream.write(`${text}\n`);
  }
}
