/** Stable error codes: the API contract documented in the README. */
export const ERROR_CODES = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  invalid_json: 400,
  invalid_body: 400,
  invalid_payload: 400,
  label_too_long: 400,
  invalid_request: 400,
  unprocessable_alerts: 422,
  storage_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_CODES[this.code];
  }
}
