// Errors `hostward` prints as one line and exits with: usage and bad input exit 2,
// refusals and failures from the auth service exit 1.
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const usage = (msg: string) => new CliError(msg, 2);
