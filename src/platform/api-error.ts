// An error answer from the auth service (status 0: it could not be reached), in its own
// module so the CLI's error handling does not load the API client to recognise it.

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
