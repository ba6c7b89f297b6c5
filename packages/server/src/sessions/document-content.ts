/**
 * The content of a Session document, as AWS's schema 1.0 has it, read and checked: each problem
 * is refused with InvalidDocumentContent naming the field at fault (InvalidDocumentSchemaVersion
 * for the schema version). JSON only.
 *
 * - `sessionType`: Standard_Stream (a shell; `inputs` are its preferences), InteractiveCommands
 *   and NonInteractiveCommands (`properties.linux.commands`), Port (`properties.portNumber`,
 *   `host`, `type` LocalPortForwarding).
 * - `parameters`: String or StringList, with default, allowedPattern, allowedValues, maxChars;
 *   `{{ name }}` in the properties stands for the value.
 */
import { ApiError, control, forwarding, logs as logsApi } from '@airlock/protocol';
import { bucketNameProblem } from '../objects/store.js';

export const SESSION_TYPES = ['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands', 'Port'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

export interface DocumentParameter {
  readonly type: 'String' | 'StringList';
  readonly description: string;
  readonly default?: readonly string[];
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
  readonly maxChars?: number;
}

/** Session preferences: SSM-SessionManagerRunShell's inputs (the account's), or a Standard_Stream document's. */
export interface Preferences {
  readonly idleSessionTimeoutMinutes: number;
  readonly maxSessionDurationMinutes: number | null;
  readonly runAsEnabled: boolean;
  readonly runAsDefaultUser: string;
  readonly shellProfileLinux: string;
  readonly shellProfileWindows: string;
  /** Where sessions are recorded (read by recording; kept here as given). */
  readonly s3BucketName: string;
  readonly s3KeyPrefix: string;
  readonly s3EncryptionEnabled: boolean;
  readonly cloudWatchLogGroupName: string;
  readonly cloudWatchEncryptionEnabled: boolean;
  readonly cloudWatchStreamingEnabled: boolean;
  readonly kmsKeyId: string;
}

/** What a document makes of a session. Templates keep their `{{ name }}` until StartSession. */
export type SessionSpec =
  | { readonly sessionType: 'Standard_Stream'; readonly preferences: Preferences }
  | { readonly sessionType: 'InteractiveCommands' | 'NonInteractiveCommands'; readonly commands: string }
  | { readonly sessionType: 'Port'; readonly portNumber: string; readonly host: string | undefined };

export interface DocumentContent {
  readonly description: string;
  readonly parameters: Readonly<Record<string, DocumentParameter>>;
  readonly spec: SessionSpec;
}

/** The preferences a new account has: AWS's defaults (idle timeout 20 minutes, no maximum duration, no Run As, no logging). */
export const DEFAULT_INPUTS = {
  s3BucketName: '',
  s3KeyPrefix: '',
  s3EncryptionEnabled: true,
  cloudWatchLogGroupName: '',
  cloudWatchEncryptionEnabled: true,
  cloudWatchStreamingEnabled: true,
  kmsKeyId: '',
  runAsEnabled: false,
  runAsDefaultUser: '',
  idleSessionTimeout: '20',
  maxSessionDuration: '',
  shellProfile: { windows: '', linux: '' },
} as const;

const INPUT_KEYS = Object.keys(DEFAULT_INPUTS);
const PARAMETER_FIELDS = ['type', 'description', 'default', 'allowedPattern', 'allowedValues', 'maxChars', 'displayType'];
const PARAMETER_NAME = /^[A-Za-z0-9_]{1,255}$/;
/** `{{ name }}`, as AWS's documents refer to their parameters. */
export const REFERENCE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

type Json = Record<string, unknown>;

const bad = (field: string, message: string): ApiError => new ApiError('InvalidDocumentContent', `${field} ${message}`);
function show(value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return (json ?? String(value)).slice(0, 100);
}
const at = (parent: string, key: string): string => (parent === '' ? key : `${parent}.${key}`);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(object: Json, field: string, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw bad(at(field, key), `is not a field of ${field === '' ? 'a Session document' : field}: use ${known.join(', ')}.`);
  }
}

function text(object: Json, field: string, key: string): string | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(at(field, key), `must be a string, not ${show(value)}.`);
  return value;
}

function flag(object: Json, field: string, key: string): boolean | undefined {
  const value = object[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw bad(at(field, key), `must be true or false, not ${show(value)}.`);
}

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) throw bad(field, `must be a non-empty list of strings, not ${show(value)}.`);
  return value;
}

/** A parameter's allowedPattern as a RegExp: with the u flag where it compiles so, else without. */
export function compilePattern(pattern: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(pattern, flags);
    } catch {
      // the next flags
    }
  }
  return undefined;
}

/** Why a value does not suit the parameter; undefined when it does. */
export function parameterProblem(name: string, parameter: DocumentParameter, value: string): string | undefined {
  if (parameter.maxChars !== undefined && value.length > parameter.maxChars) return `${name} is longer than its ${parameter.maxChars} characters.`;
  if (parameter.allowedPattern !== undefined && compilePattern(parameter.allowedPattern)?.test(value) !== true) {
    return `${name} ${show(value)} does not match ${parameter.allowedPattern}.`;
  }
  if (parameter.allowedValues !== undefined && !parameter.allowedValues.includes(value)) return `${name} must be one of ${parameter.allowedValues.join(', ')}.`;
  return undefined;
}

function readParameter(name: string, value: unknown): DocumentParameter {
  const field = `parameters.${name}`;
  if (!PARAMETER_NAME.test(name)) throw bad(field, 'is not a parameter name: letters, digits and _ only.');
  if (!isObject(value)) throw bad(field, `must be an object such as {"type": "String", "allowedPattern": "^[a-z]+$"}, not ${show(value)}.`);
  onlyKeys(value, field, PARAMETER_FIELDS);
  const type = value['type'];
  if (type !== 'String' && type !== 'StringList') throw bad(`${field}.type`, `must be String or StringList${type === undefined ? '' : `, not ${show(type)}`}.`);
  const allowedPattern = text(value, field, 'allowedPattern');
  if (allowedPattern !== undefined && compilePattern(allowedPattern) === undefined) throw bad(`${field}.allowedPattern`, `${show(allowedPattern)} is not a regular expression.`);
  const allowedValues = value['allowedValues'] === undefined ? undefined : strings(value['allowedValues'], `${field}.allowedValues`);
  const maxChars = value['maxChars'] === undefined ? undefined : Number(value['maxChars']);
  if (maxChars !== undefined && (!Number.isInteger(maxChars) || maxChars < 1)) throw bad(`${field}.maxChars`, `must be a whole number of characters, not ${show(value['maxChars'])}.`);
  const given = value['default'];
  const fallback = given === undefined ? undefined : typeof given === 'string' ? [given] : strings(given, `${field}.default`);
  if (type === 'String' && fallback !== undefined && fallback.length !== 1) throw bad(`${field}.default`, 'must be one string: the parameter is a String.');
  const parameter: DocumentParameter = {
    type,
    description: text(value, field, 'description') ?? '',
    ...(fallback === undefined ? {} : { default: fallback }),
    ...(allowedPattern === undefined ? {} : { allowedPattern }),
    ...(allowedValues === undefined ? {} : { allowedValues }),
    ...(maxChars === undefined ? {} : { maxChars }),
  };
  for (const item of fallback ?? []) {
    const problem = parameterProblem(name, parameter, item);
    if (problem !== undefined) throw bad(`${field}.default`, `does not suit the parameter: ${problem}`);
  }
  return parameter;
}

function readParameters(value: unknown): Record<string, DocumentParameter> {
  if (value === undefined) return {};
  if (!isObject(value)) throw bad('parameters', `must be an object of parameters by name, not ${show(value)}.`);
  return Object.fromEntries(Object.entries(value).map(([name, spec]) => [name, readParameter(name, spec)]));
}

/** Refuses `{{ name }}` for a parameter the document does not declare. */
function checkReferences(template: string, field: string, parameters: Readonly<Record<string, DocumentParameter>>): void {
  for (const [, name = ''] of template.matchAll(REFERENCE)) {
    if (!Object.hasOwn(parameters, name)) throw bad(field, `refers to {{ ${name} }}, which is not among the document's parameters${Object.keys(parameters).length === 0 ? '' : ` (${Object.keys(parameters).join(', ')})`}.`);
  }
}

function minutes(inputs: Json, key: string, max: number): number | null {
  const value = inputs[key];
  if (value === '') return null;
  const number = typeof value === 'number' || (typeof value === 'string' && /^\d{1,5}$/.test(value)) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw bad(`inputs.${key}`, `must be a whole number of minutes from 1 to ${max}, as a string such as "20", not ${show(value)}.`);
  }
  return number;
}

/** Longest s3KeyPrefix: room is left in S3's 1,024-byte keys for `/{sessionId}.cast`. */
const MAX_KEY_PREFIX_BYTES = 768;

/**
 * Where recordings go must be a place they can go: found out at UpdateDocument, not at every
 * session's start (a bad bucket name failed them all) or its end (a bad log group lost the record).
 */
function checkDestinations(bucket: string, keyPrefix: string, logGroup: string): void {
  const bucketProblem = bucket === '' ? undefined : bucketNameProblem(bucket);
  if (bucketProblem !== undefined) throw bad('inputs.s3BucketName', bucketProblem);
  if (Buffer.byteLength(keyPrefix) > MAX_KEY_PREFIX_BYTES) throw bad('inputs.s3KeyPrefix', `must be at most ${MAX_KEY_PREFIX_BYTES} bytes long.`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(keyPrefix)) throw bad('inputs.s3KeyPrefix', 'may not hold control characters.');
  if (logGroup !== '' && (!logsApi.LOG_GROUP_NAME.test(logGroup) || logGroup.length > logsApi.MAX_NAME_LENGTH)) {
    throw bad('inputs.cloudWatchLogGroupName', `${show(logGroup)} is not a log group name: 1-${logsApi.MAX_NAME_LENGTH} letters, digits and . - _ / #.`);
  }
}

/** Standard_Stream inputs; what is not given keeps its default. */
export function readPreferences(given: unknown): Preferences {
  if (!isObject(given)) throw bad('inputs', `must be an object of session preferences (${INPUT_KEYS.join(', ')}), not ${show(given)}.`);
  onlyKeys(given, 'inputs', INPUT_KEYS);
  const inputs: Json = { ...DEFAULT_INPUTS, ...given };
  const string = (key: string): string => text(inputs, 'inputs', key) ?? '';
  const bool = (key: string): boolean => flag(inputs, 'inputs', key) ?? false;
  const shellProfile = inputs['shellProfile'];
  if (!isObject(shellProfile)) throw bad('inputs.shellProfile', `must be an object {"linux": "…", "windows": "…"}, not ${show(shellProfile)}.`);
  onlyKeys(shellProfile, 'inputs.shellProfile', ['linux', 'windows']);
  const runAsDefaultUser = string('runAsDefaultUser');
  if (runAsDefaultUser === 'root') throw bad('inputs.runAsDefaultUser', 'cannot be root: sessions never run as root.');
  if (runAsDefaultUser !== '' && !control.OS_USER.test(runAsDefaultUser)) throw bad('inputs.runAsDefaultUser', `${show(runAsDefaultUser)} is not an OS user name (${control.OS_USER.source}).`);
  const idle = minutes(inputs, 'idleSessionTimeout', 60);
  checkDestinations(string('s3BucketName'), string('s3KeyPrefix'), string('cloudWatchLogGroupName'));
  return {
    idleSessionTimeoutMinutes: idle ?? Number(DEFAULT_INPUTS.idleSessionTimeout),
    maxSessionDurationMinutes: minutes(inputs, 'maxSessionDuration', 1440),
    runAsEnabled: bool('runAsEnabled'),
    runAsDefaultUser,
    shellProfileLinux: text(shellProfile, 'inputs.shellProfile', 'linux') ?? '',
    shellProfileWindows: text(shellProfile, 'inputs.shellProfile', 'windows') ?? '',
    s3BucketName: string('s3BucketName'),
    s3KeyPrefix: string('s3KeyPrefix'),
    s3EncryptionEnabled: bool('s3EncryptionEnabled'),
    cloudWatchLogGroupName: string('cloudWatchLogGroupName'),
    cloudWatchEncryptionEnabled: bool('cloudWatchEncryptionEnabled'),
    cloudWatchStreamingEnabled: bool('cloudWatchStreamingEnabled'),
    kmsKeyId: string('kmsKeyId'),
  };
}

function readCommands(properties: Json, parameters: Readonly<Record<string, DocumentParameter>>): string {
  onlyKeys(properties, 'properties', ['linux', 'windows', 'macos']);
  const linux = properties['linux'];
  if (!isObject(linux)) throw bad('properties.linux', `is required, an object such as {"commands": "systemctl status"}: Airlock runs sessions on Linux instances.`);
  onlyKeys(linux, 'properties.linux', ['commands', 'runAsElevated']);
  const given = linux['commands'];
  const commands = typeof given === 'string' ? given : Array.isArray(given) ? strings(given, 'properties.linux.commands').join('\n') : undefined;
  if (commands === undefined || commands.trim() === '') throw bad('properties.linux.commands', `must be the command to run (a string, or a list of lines), not ${show(given)}.`);
  if (flag(linux, 'properties.linux', 'runAsElevated') === true) throw bad('properties.linux.runAsElevated', 'cannot be true: sessions never run as root.');
  checkReferences(commands, 'properties.linux.commands', parameters);
  return commands;
}

function readPort(properties: Json, parameters: Readonly<Record<string, DocumentParameter>>): SessionSpec {
  onlyKeys(properties, 'properties', ['portNumber', 'localPortNumber', 'host', 'type']);
  const portNumber = text(properties, 'properties', 'portNumber');
  if (portNumber === undefined) throw bad('properties.portNumber', 'is required: the port to connect to on the instance, e.g. "{{ portNumber }}" or "22".');
  const host = text(properties, 'properties', 'host');
  const type = text(properties, 'properties', 'type');
  if (type !== undefined && type !== 'LocalPortForwarding') throw bad('properties.type', `must be LocalPortForwarding, not ${show(type)}.`);
  for (const key of ['portNumber', 'localPortNumber', 'host']) checkReferences(text(properties, 'properties', key) ?? '', `properties.${key}`, parameters);
  if (!portNumber.includes('{{') && portNumberProblem(portNumber) !== undefined) throw bad('properties.portNumber', `${show(portNumber)} is not a port from 1 to 65535.`);
  if (host !== undefined && !host.includes('{{') && forwarding.isForbiddenForwardHost(host)) throw bad('properties.host', `${show(host)} is forbidden: link-local and instance metadata addresses are never reached through a session.`);
  return { sessionType: 'Port', portNumber, host };
}

/** Undefined when `value` is a TCP port a session may connect to. */
export function portNumberProblem(value: string): string | undefined {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : 0;
  return port >= 1 && port <= 65_535 ? undefined : `${show(value)} is not a port from 1 to 65535.`;
}

function notFor(document: Json, key: string, message: string): void {
  if (document[key] !== undefined) throw bad(key, message);
}

/** Reads and checks a Session document's content. */
export function readContent(content: string): DocumentContent {
  let document: unknown;
  try {
    document = JSON.parse(content);
  } catch (error) {
    throw new ApiError('InvalidDocumentContent', `Content is not JSON (${error instanceof Error ? error.message : String(error)}): Airlock reads Session documents in JSON only.`);
  }
  if (!isObject(document)) throw bad('Content', 'must be a JSON object with schemaVersion, sessionType and what the session type needs.');
  onlyKeys(document, '', ['schemaVersion', 'description', 'sessionType', 'inputs', 'parameters', 'properties']);
  const schemaVersion = document['schemaVersion'];
  if (schemaVersion === undefined) throw bad('schemaVersion', 'is required: "1.0".');
  if (schemaVersion !== '1.0') throw new ApiError('InvalidDocumentSchemaVersion', `schemaVersion ${show(schemaVersion)} is not supported: Session documents have schemaVersion "1.0".`);
  const sessionType = document['sessionType'];
  if (!SESSION_TYPES.includes(sessionType as SessionType)) throw bad('sessionType', `must be one of ${SESSION_TYPES.join(', ')}${sessionType === undefined ? '' : `, not ${show(sessionType)}`}.`);
  const description = text(document, '', 'description') ?? '';
  const parameters = readParameters(document['parameters']);
  const properties = document['properties'];
  if (sessionType === 'Standard_Stream') {
    notFor(document, 'properties', 'is not for Standard_Stream documents: a shell takes its preferences from inputs.');
    if (document['inputs'] === undefined) throw bad('inputs', 'is required for Standard_Stream documents: the session preferences (idleSessionTimeout, runAsEnabled, shellProfile, …).');
    return { description, parameters, spec: { sessionType, preferences: readPreferences(document['inputs']) } };
  }
  notFor(document, 'inputs', "is for Standard_Stream documents only: other sessions take the account's preferences.");
  if (!isObject(properties)) throw bad('properties', `is required for ${String(sessionType)} documents, an object${properties === undefined ? '' : `, not ${show(properties)}`}.`);
  if (sessionType === 'Port') return { description, parameters, spec: readPort(properties, parameters) };
  return { description, parameters, spec: { sessionType: sessionType as 'InteractiveCommands' | 'NonInteractiveCommands', commands: readCommands(properties, parameters) } };
}
