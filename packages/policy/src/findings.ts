/**
 * What validation reports, graded as IAM Access Analyzer grades its findings: an ERROR is
 * something AWS would reject (the document is refused); a WARNING is a likely mistake.
 */

export type FindingType = 'ERROR' | 'WARNING';

export const ERROR_CODES = [
  'INVALID_JSON',
  'DUPLICATE_KEY',
  'POLICY_SIZE_EXCEEDED',
  'INVALID_DOCUMENT',
  'UNKNOWN_ELEMENT',
  'INVALID_VERSION',
  'INVALID_ID',
  'MISSING_STATEMENT',
  'INVALID_STATEMENT',
  'INVALID_SID',
  'DUPLICATE_SID',
  'MISSING_EFFECT',
  'INVALID_EFFECT',
  'MISSING_ACTION',
  'ACTION_AND_NOT_ACTION',
  'INVALID_ACTION',
  'MISSING_RESOURCE',
  'RESOURCE_AND_NOT_RESOURCE',
  'INVALID_RESOURCE',
  'PRINCIPAL_IN_IDENTITY_POLICY',
  'INVALID_CONDITION',
  'INVALID_OPERATOR',
  'INVALID_CONDITION_KEY',
  'INVALID_CONDITION_VALUE',
] as const;

export const WARNING_CODES = [
  'MISSING_VERSION',
  'LITERAL_VARIABLE',
  'UNKNOWN_ACTION',
  'UNSUPPORTED_CONDITION_KEY',
  'LIKE_WITHOUT_WILDCARD',
  'SET_OPERATOR_ON_SINGLE_VALUED_KEY',
  'ALLOW_NOT_ACTION_ALL_RESOURCES',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export type WarningCode = (typeof WARNING_CODES)[number];

/** The grade follows from the code, so a finding cannot be an ERROR with a warning's code. */
export type Finding =
  | { readonly findingType: 'ERROR'; readonly issueCode: ErrorCode; readonly findingDetails: string; readonly path: string }
  | { readonly findingType: 'WARNING'; readonly issueCode: WarningCode; readonly findingDetails: string; readonly path: string };

export function error(issueCode: ErrorCode, path: string, findingDetails: string): Finding {
  return { findingType: 'ERROR', issueCode, findingDetails, path };
}

export function warning(issueCode: WarningCode, path: string, findingDetails: string): Finding {
  return { findingType: 'WARNING', issueCode, findingDetails, path };
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((finding) => finding.findingType === 'ERROR');
}
