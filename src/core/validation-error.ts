// The one error type for bad config and resource input: which file, which key, why.
// Its message is the single line an operator sees: `FILE: KEY: REASON`.

export class ValidationError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(key === "" ? `${file}: ${reason}` : `${file}: ${key}: ${reason}`);
    this.name = "ValidationError";
  }
}
