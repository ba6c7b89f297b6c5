/**
 * SCIM's error shape (RFC 7644 §3.12): `{schemas: [Error], status: "400", scimType, detail}`.
 * Code shared with the rest of the server throws ApiErrors; they are translated here, so the
 * directory's own checks (a duplicate name, an unknown id) answer the same through SCIM.
 */
import { ApiError } from '@airlock/protocol';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 Table 9's scimType values that Airlock uses. */
export type ScimType = 'invalidFilter' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'tooMany';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
  }

  toBody(): Record<string, unknown> {
    return { schemas: [ERROR_SCHEMA], status: String(this.status), ...(this.scimType === undefined ? {} : { scimType: this.scimType }), detail: this.detail };
  }
}

export const invalidValue = (detail: string): ScimError => new ScimError(400, detail, 'invalidValue');

const FROM_API: Readonly<Record<string, (message: string) => ScimError>> = {
  ValidationException: (message) => new ScimError(400, message, 'invalidValue'),
  SerializationException: (message) => new ScimError(400, message, 'invalidSyntax'),
  ConflictException: (message) => new ScimError(409, message, 'uniqueness'),
  ResourceNotFoundException: (message) => new ScimError(404, message),
  UnauthorizedException: (message) => new ScimError(401, message),
  ThrottlingException: (message) => new ScimError(429, message),
  RequestEntityTooLargeException: (message) => new ScimError(413, message),
};

/** Any thrown value as a SCIM error; internals are never exposed (500s are logged by the caller). */
export function toScimError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (error instanceof ApiError) return FROM_API[error.code]?.(error.message) ?? new ScimError(error.status, error.message);
  const code = (error as { code?: unknown } | null)?.code;
  // Two creations of one name at once: the loser's insert meets the unique index (SQLite, PostgreSQL).
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505') return new ScimError(409, 'A user or group with that name was made at the same moment; read it and retry.', 'uniqueness');
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ScimError(413, 'The request body is too large.');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ScimError(400, 'Send JSON: Content-Type: application/scim+json.', 'invalidSyntax');
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return new ScimError(statusCode, error instanceof Error ? error.message : 'The request is not valid.', 'invalidSyntax');
  return new ScimError(500, 'The server failed to process the request. It has been logged; retry, and report the request id if it persists.');
}
