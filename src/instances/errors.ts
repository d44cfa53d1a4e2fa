/**
 * Every failure postfleet reports is one of these: a message that names the
 * offending value, and the exit status to leave with. They are rendered once,
 * at the edge (the oclif command or the compat entry), never printed here.
 */
export class PostfleetError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number } = {}) {
    super(message);
    this.name = 'PostfleetError';
    this.exitCode = options.exitCode ?? 1;
  }
}

export function isPostfleetError(e: unknown): e is PostfleetError {
  return e instanceof PostfleetError;
}
