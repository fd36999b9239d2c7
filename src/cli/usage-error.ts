/**
 * Errors that end a command with a message and no stack trace. A `UsageError` is the user's
 * invocation (exit code 2, like a bad option); a `FatalError` is the environment (exit code 1:
 * an unreachable store, a port in use).
 */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class FatalError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalError';
  }
}
