/** A request the UI answers with an error page of this status (400 bad parameters, 404, 405). */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 404 | 405,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
