/**
 * The error catalogue: every error the API answers with, named as AWS names it, with its HTTP
 * status. On the wire an error is `{"__type": code, "message": text}`.
 */

export const ERRORS = {
  ValidationException: 400,
  SerializationException: 400,
  InvalidRequestException: 400,
  NotAuthorizedException: 400,
  CodeMismatchException: 400,
  InvalidPasswordException: 400,
  UnauthorizedException: 401,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ConflictException: 409,
  RequestEntityTooLargeException: 413,
  ThrottlingException: 429,
  AuthorizationPendingException: 400,
  SlowDownException: 400,
  ExpiredTokenException: 400,
  ServiceQuotaExceededException: 402,
  // ssm (fleet): as AWS Systems Manager names them.
  InvalidActivation: 400,
  InvalidActivationId: 400,
  ActivationExpired: 400,
  RegistrationLimitExceeded: 400,
  InvalidPublicKey: 400,
  InstanceAlreadyRegistered: 400,
  InvalidInstanceId: 400,
  InvalidFilterKey: 400,
  InvalidNextToken: 400,
  InvalidInstanceInformationFilterValue: 400,
  InvalidResourceId: 400,
  InvalidResourceType: 400,
  TooManyTagsError: 400,
  ServiceSettingNotFound: 400,
  // ssm (sessions): as AWS Systems Manager names them.
  InvalidDocument: 400,
  InvalidParameters: 400,
  TargetNotConnected: 400,
  DoesNotExistException: 400,
  // ssm (documents): as AWS Systems Manager names them.
  DocumentAlreadyExists: 400,
  InvalidDocumentContent: 400,
  InvalidDocumentSchemaVersion: 400,
  InvalidDocumentVersion: 400,
  InvalidDocumentOperation: 400,
  DuplicateDocumentContent: 400,
  DuplicateDocumentVersionName: 400,
  MaxDocumentSizeExceeded: 400,
  DocumentLimitExceeded: 400,
  DocumentVersionLimitExceeded: 400,
  TooManyUpdates: 429,
  // ssm (fleet), cloud join: Airlock's own, in AWS's shape.
  InvalidIdentityDocument: 400,
  InvalidIdentityDocumentSignature: 400,
  UnsupportedOperationException: 400,
  // ssm (instance properties, inventory): as AWS Systems Manager names them.
  InvalidInstancePropertyFilterValue: 400,
  InvalidFilter: 400,
  InvalidResultAttributeException: 400,
  // ec2: as Amazon EC2 names them.
  'InvalidInstanceID.Malformed': 400,
  'InvalidInstanceID.NotFound': 400,
  InvalidID: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  InvalidPaginationToken: 400,
  TagLimitExceeded: 400,
  // logs: as Amazon CloudWatch Logs names them.
  ResourceAlreadyExistsException: 400,
  InvalidParameterException: 400,
  LimitExceededException: 400,
  // events: as Amazon EventBridge names them (and LimitExceededException above).
  InvalidEventPatternException: 400,
  // cloudtrail: as AWS CloudTrail names them.
  InvalidNextTokenException: 400,
  InvalidTimeRangeException: 400,
  InvalidLookupAttributesException: 400,
  InternalServerException: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  readonly __type: ErrorCode;
  readonly message: string;
}

/** An error meant for the caller: its code and message go on the wire as they are. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): number {
    return ERRORS[this.code];
  }

  toBody(): ErrorBody {
    return { __type: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}
