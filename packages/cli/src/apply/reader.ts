/**
 * Reads a setup file and checks all of it before anything is sent: the YAML itself, unknown
 * keys, types and limits (taken from the API's own shapes in @airlock/protocol), names that
 * refer to groups, users or permission sets the file does not define, policy files that cannot
 * be read or that the policy analyzer finds ERRORs in. Every problem is reported, each with the
 * line and the path of the value at fault.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { analyzePolicy } from '@airlock/policy';
import { identitystore, organizations, portal, ssoAdmin, validate, type AnyShape, type StringShape } from '@airlock/protocol';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { environmentValue } from '../environment.js';
import { readIdentitySource } from './identity-source.js';
import {
  durationSeconds,
  formatPath,
  SetupError,
  type AssignmentSpec,
  type GroupSpec,
  type MfaSpec,
  type MfaType,
  type Path,
  type PermissionSetSpec,
  type PolicySpec,
  type Problem,
  type Setup,
  type UserSpec,
} from './model.js';

/** A member's shape in an operation's input, so the file's limits are the API's. */
function member(shape: AnyShape, name: string): AnyShape {
  const struct = shape.kind === 'list' ? shape.member : shape;
  const found = struct.kind === 'structure' ? struct.members[name] : undefined;
  if (found === undefined) throw new Error(`@airlock/protocol has no member ${name}`);
  return found.shape;
}

function listMember(shape: AnyShape): AnyShape {
  if (shape.kind !== 'list') throw new Error('@airlock/protocol: expected a list');
  return shape.member;
}

const createUser = identitystore.CreateUser.input;
const createPermissionSet = ssoAdmin.CreatePermissionSet.input;
const putMfa = portal.PutMfaSettings.input;
const attributesShape = member(createUser, 'Attributes');
const tagsShape = member(createPermissionSet, 'Tags');

const SHAPES = {
  groupName: member(identitystore.CreateGroup.input, 'DisplayName'),
  groupDescription: member(identitystore.CreateGroup.input, 'Description'),
  userName: identitystore.userName,
  displayName: member(createUser, 'DisplayName'),
  givenName: member(member(createUser, 'Name'), 'GivenName'),
  familyName: member(member(createUser, 'Name'), 'FamilyName'),
  email: member(member(createUser, 'Emails'), 'Value'),
  attributeKey: attributesShape.kind === 'map' ? attributesShape.key : attributesShape,
  attributeValue: attributesShape.kind === 'map' ? attributesShape.value : attributesShape,
  permissionSetName: member(createPermissionSet, 'Name'),
  permissionSetDescription: member(createPermissionSet, 'Description'),
  sessionDuration: member(createPermissionSet, 'SessionDuration'),
  relayState: member(createPermissionSet, 'RelayState'),
  tagKey: member(tagsShape, 'Key'),
  tagValue: member(tagsShape, 'Value'),
  managedPolicyArn: member(ssoAdmin.AttachManagedPolicyToPermissionSet.input, 'ManagedPolicyArn'),
  mfaMode: member(putMfa, 'MfaMode'),
  mfaType: listMember(member(putMfa, 'AllowedMfaTypes')),
  noDeviceAction: member(putMfa, 'NoDeviceAction'),
  trustedDeviceDays: member(putMfa, 'TrustedDeviceDays'),
  accountId: organizations.accountId,
} as const;

/** What a value should look like, said instead of the API's regular expression. */
const HINTS = new Map<AnyShape, string>([
  [SHAPES.userName, 'a user name is letters, digits, symbols and punctuation, without spaces'],
  [SHAPES.email, 'not an email address'],
  [SHAPES.permissionSetName, 'a permission set name is letters, digits and + = , . @ _ -'],
  [SHAPES.sessionDuration, 'a session duration is written as ISO 8601: PT1H, PT8H, PT1H30M'],
  [SHAPES.managedPolicyArn, 'a managed policy is arn:aws:iam::aws:policy/NAME, or just NAME'],
  [SHAPES.attributeKey, 'an attribute name is letters, digits, spaces and _ . : / = + - @'],
]);

const MAX_ATTRIBUTES = attributesShape.kind === 'map' ? (attributesShape.max ?? 50) : 50;
const MAX_TAGS = tagsShape.kind === 'list' ? (tagsShape.max ?? 75) : 75;
const MAX_INLINE_POLICY = 32_768;
/** `ReadOnlyAccess` in a file means arn:aws:iam::aws:policy/ReadOnlyAccess. */
const MANAGED_POLICY_PREFIX = 'arn:aws:iam::aws:policy/';

const KEYS = {
  top: ['mfa', 'groups', 'users', 'permissionSets', 'assignments', 'identitySource'],
  mfa: ['mode', 'allowedTypes', 'noDeviceAction', 'trustedDeviceDays'],
  group: ['name', 'description'],
  user: ['userName', 'displayName', 'givenName', 'familyName', 'email', 'groups', 'attributes'],
  permissionSet: ['name', 'description', 'sessionDuration', 'relayState', 'policyFile', 'managedPolicies', 'tags'],
  assignment: ['permissionSet', 'account', 'group', 'user'],
} as const;

/** Reads `file` and the policy files it names (relative to it). Throws SetupError listing every problem. */
export async function readSetup(file: string): Promise<Setup> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SetupError([{ location: file, path: '', message: `cannot read the file: ${reason(error)}` }]);
  }
  const base = dirname(resolve(file));
  return parseSetup(text, file, (policyFile) => readFile(resolve(base, policyFile), 'utf8'));
}

/** Checks a setup file's text; `readPolicy` reads a policy file named in it. */
export async function parseSetup(text: string, file: string, readPolicy: (policyFile: string) => Promise<string>): Promise<Setup> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SetupError(
      doc.errors.map((error) => {
        const position = error.linePos?.[0];
        const message = firstLine(error.message).replace(/ at line \d+, column \d+:?$/, '');
        return { location: position === undefined ? file : `${file}:${position.line}:${position.col}`, path: '', message: `not valid YAML: ${message}` };
      }),
    );
  }
  const checker = new Checker(doc, lineCounter, file);
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (value === null || value === undefined) {
    throw new SetupError([{ location: file, path: '', message: `the file is empty; it needs at least one of ${KEYS.top.join(', ')}` }]);
  }
  const setup = await readTop(checker, value, file, readPolicy);
  if (checker.problems.length > 0) throw new SetupError(checker.sorted());
  return setup;
}

async function readTop(c: Checker, value: unknown, file: string, readPolicy: (policyFile: string) => Promise<string>): Promise<Setup> {
  const top = c.mapping(value, [], KEYS.top, 'the file') ?? {};
  const mfa = top['mfa'] === undefined || top['mfa'] === null ? undefined : readMfa(c, top['mfa']);
  const groups = c.list(top['groups'], ['groups']).map((item, index) => readGroup(c, item, ['groups', index]));
  const users = c.list(top['users'], ['users']).map((item, index) => readUser(c, item, ['users', index]));
  const permissionSets = await Promise.all(
    c.list(top['permissionSets'], ['permissionSets']).map((item, index) => readPermissionSet(c, item, ['permissionSets', index], readPolicy)),
  );
  const assignments = c.list(top['assignments'], ['assignments']).map((item, index) => readAssignment(c, item, ['assignments', index]));
  const identitySource = top['identitySource'] === undefined || top['identitySource'] === null ? undefined : await readIdentitySource(c, top['identitySource'], readPolicy, environmentValue);

  c.checkReferences();
  const emails = new Map<string, number>();
  users.forEach((user, index) => {
    if (user === undefined) return;
    const earlier = emails.get(user.email.toLowerCase());
    if (earlier === undefined) emails.set(user.email.toLowerCase(), index);
    else c.fail(['users', index, 'email'], `${user.email} is already the email of users[${earlier}]; each user needs their own (it is how they sign in and get their codes)`);
  });
  const assignmentKeys = new Map<string, string>();
  assignments.forEach((assignment, index) => {
    if (assignment === undefined) return;
    const key = [assignment.permissionSet, assignment.account, assignment.principalType, assignment.principalName].join('\n').toLowerCase();
    const earlier = assignmentKeys.get(key);
    if (earlier !== undefined) c.fail(['assignments', index], `the same assignment is already made at ${earlier}`);
    else assignmentKeys.set(key, formatPath(['assignments', index]));
  });

  return {
    file,
    ...(mfa === undefined ? {} : { mfa }),
    groups: groups.filter(defined),
    users: users.filter(defined),
    permissionSets: permissionSets.filter(defined),
    assignments: assignments.filter(defined),
    ...(identitySource === undefined ? {} : { identitySource }),
  };
}

function readMfa(c: Checker, value: unknown): MfaSpec | undefined {
  const path = ['mfa'];
  const map = c.mapping(value, path, KEYS.mfa, 'mfa');
  if (map === undefined) return undefined;
  const mode = c.string(map, path, 'mode', SHAPES.mfaMode, true);
  const noDeviceAction = c.string(map, path, 'noDeviceAction', SHAPES.noDeviceAction, true);
  const allowedTypes =
    map['allowedTypes'] === undefined
      ? ['AUTHENTICATOR_APP']
      : c.list(map['allowedTypes'], [...path, 'allowedTypes']).map((item, index) => c.leaf(SHAPES.mfaType, item, [...path, 'allowedTypes', index]));
  if (map['allowedTypes'] !== undefined && allowedTypes.length === 0) c.fail([...path, 'allowedTypes'], 'must name at least one MFA type (AUTHENTICATOR_APP, SECURITY_KEY)');
  const days = c.integer(map, path, 'trustedDeviceDays', SHAPES.trustedDeviceDays);
  if (mode === undefined || noDeviceAction === undefined || !allowedTypes.every(defined)) return undefined;
  return {
    mode: mode as MfaSpec['mode'],
    allowedTypes: allowedTypes as MfaType[],
    noDeviceAction: noDeviceAction as MfaSpec['noDeviceAction'],
    ...(days === undefined ? {} : { trustedDeviceDays: days }),
  };
}

function readGroup(c: Checker, value: unknown, path: Path): GroupSpec | undefined {
  const map = c.mapping(value, path, KEYS.group, 'a group');
  if (map === undefined) return undefined;
  const name = c.string(map, path, 'name', SHAPES.groupName, true);
  if (name !== undefined) c.define('group', name, [...path, 'name']);
  const description = c.string(map, path, 'description', SHAPES.groupDescription);
  if (name === undefined) return undefined;
  return { name, ...(description === undefined ? {} : { description }) };
}

function readUser(c: Checker, value: unknown, path: Path): UserSpec | undefined {
  const map = c.mapping(value, path, KEYS.user, 'a user');
  if (map === undefined) return undefined;
  const userName = c.string(map, path, 'userName', SHAPES.userName, true);
  if (userName !== undefined) c.define('user', userName, [...path, 'userName']);
  const email = c.string(map, path, 'email', SHAPES.email, true);
  const displayName = c.string(map, path, 'displayName', SHAPES.displayName);
  const givenName = c.string(map, path, 'givenName', SHAPES.givenName);
  const familyName = c.string(map, path, 'familyName', SHAPES.familyName);
  const groups = c.list(map['groups'], [...path, 'groups']).map((item, index) => c.leaf(SHAPES.groupName, item, [...path, 'groups', index]));
  const listed = new Set<string>();
  groups.forEach((group, index) => {
    if (group === undefined) return;
    if (listed.has(group.toLowerCase())) c.fail([...path, 'groups', index], `group "${group}" is listed twice`);
    listed.add(group.toLowerCase());
    c.refer([...path, 'groups', index], group, 'group');
  });
  const attributes = c.stringMap(map['attributes'], [...path, 'attributes'], SHAPES.attributeKey, SHAPES.attributeValue, MAX_ATTRIBUTES);
  if (userName === undefined || email === undefined) return undefined;
  return {
    userName,
    email,
    ...(displayName === undefined ? {} : { displayName }),
    ...(givenName === undefined ? {} : { givenName }),
    ...(familyName === undefined ? {} : { familyName }),
    groups: groups.filter(defined),
    attributes,
  };
}

async function readPermissionSet(c: Checker, value: unknown, path: Path, readPolicy: (policyFile: string) => Promise<string>): Promise<PermissionSetSpec | undefined> {
  const map = c.mapping(value, path, KEYS.permissionSet, 'a permission set');
  if (map === undefined) return undefined;
  const name = c.string(map, path, 'name', SHAPES.permissionSetName, true);
  if (name !== undefined) c.define('permission set', name, [...path, 'name']);
  const description = c.string(map, path, 'description', SHAPES.permissionSetDescription);
  const sessionDuration = c.string(map, path, 'sessionDuration', SHAPES.sessionDuration);
  if (sessionDuration !== undefined) {
    const seconds = durationSeconds(sessionDuration);
    if (seconds < 3600 || seconds > 12 * 3600) c.fail([...path, 'sessionDuration'], `${sessionDuration} is not from PT1H to PT12H`);
  }
  const relayState = c.string(map, path, 'relayState', SHAPES.relayState);
  const managedPolicies = c
    .list(map['managedPolicies'], [...path, 'managedPolicies'])
    .map((item, index) => c.leaf(SHAPES.managedPolicyArn, typeof item === 'string' && !item.startsWith('arn:') ? `${MANAGED_POLICY_PREFIX}${item}` : item, [...path, 'managedPolicies', index]));
  managedPolicies.forEach((arn, index) => {
    if (arn !== undefined && managedPolicies.indexOf(arn) !== index) c.fail([...path, 'managedPolicies', index], `${arn} is listed twice`);
  });
  const tags = c.stringMap(map['tags'], [...path, 'tags'], SHAPES.tagKey, SHAPES.tagValue, MAX_TAGS);
  const policyFile = c.string(map, path, 'policyFile', { kind: 'string', min: 1 });
  const policy = policyFile === undefined ? undefined : await readPolicyFile(c, [...path, 'policyFile'], policyFile, name ?? '', readPolicy);
  if (name === undefined) return undefined;
  return {
    name,
    ...(description === undefined ? {} : { description }),
    ...(sessionDuration === undefined ? {} : { sessionDuration }),
    ...(relayState === undefined ? {} : { relayState }),
    ...(policy === undefined ? {} : { policy }),
    managedPolicies: managedPolicies.filter(defined),
    tags,
  };
}

async function readPolicyFile(c: Checker, path: Path, file: string, name: string, readPolicy: (policyFile: string) => Promise<string>): Promise<PolicySpec | undefined> {
  let text: string;
  try {
    text = await readPolicy(file);
  } catch (error) {
    c.fail(path, `cannot read the policy file ${file}: ${reason(error)}`);
    return undefined;
  }
  if (text.length > MAX_INLINE_POLICY) {
    c.fail(path, `${file} has ${text.length} characters; an inline policy may have at most ${MAX_INLINE_POLICY}`);
    return undefined;
  }
  const { findings } = analyzePolicy(text, name === '' ? {} : { name });
  const errors = findings.filter((finding) => finding.findingType === 'ERROR');
  for (const finding of errors) {
    c.fail(path, `${file}: ${finding.issueCode}${finding.path === '' ? '' : ` at ${finding.path}`}: ${finding.findingDetails}`);
  }
  if (errors.length > 0) return undefined;
  return { file, text, document: JSON.parse(text) as unknown, warnings: findings.filter((finding) => finding.findingType === 'WARNING') };
}

function readAssignment(c: Checker, value: unknown, path: Path): AssignmentSpec | undefined {
  const map = c.mapping(value, path, KEYS.assignment, 'an assignment');
  if (map === undefined) return undefined;
  const permissionSet = c.string(map, path, 'permissionSet', SHAPES.permissionSetName, true);
  if (permissionSet !== undefined) c.refer([...path, 'permissionSet'], permissionSet, 'permission set');
  let account: string | undefined;
  const rawAccount = map['account'];
  if (typeof rawAccount === 'number') {
    // YAML reads 123456789012 as a number (and 012345678901 as one without its leading zero).
    if (/^\d{12}$/.test(String(rawAccount))) account = String(rawAccount);
    else c.fail([...path, 'account'], `${String(rawAccount)} is not a 12-digit account id; quote account ids ('012345678901') so YAML keeps their leading zeros`);
  } else {
    account = c.string(map, path, 'account', { kind: 'string', min: 1, max: 50 }, true);
  }
  const group = c.string(map, path, 'group', SHAPES.groupName);
  const user = c.string(map, path, 'user', SHAPES.userName);
  if (group !== undefined) c.refer([...path, 'group'], group, 'group');
  if (user !== undefined) c.refer([...path, 'user'], user, 'user');
  if (group !== undefined && user !== undefined) c.fail([...path, 'user'], 'give group or user, not both');
  if (group === undefined && user === undefined && map['group'] === undefined && map['user'] === undefined) c.fail(path, 'needs a group or a user');
  const principalName = group ?? user;
  if (permissionSet === undefined || account === undefined || principalName === undefined) return undefined;
  return {
    permissionSet,
    account,
    principalType: group === undefined ? 'USER' : 'GROUP',
    principalName,
    path,
    accountLocation: c.location([...path, 'account']),
  };
}

type Kind = 'group' | 'user' | 'permission set';

class Checker {
  readonly problems: (Problem & { readonly offset: number })[] = [];
  /** Names the file defines, by kind, keyed without case (as the server compares them) → where. */
  private readonly names: Record<Kind, Map<string, { name: string; at: string }>> = { group: new Map(), user: new Map(), 'permission set': new Map() };
  private readonly references: { path: Path; name: string; kind: Kind }[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  fail(path: Path, message: string, atKey = false): void {
    const offset = this.offset(path, atKey);
    this.problems.push({ location: this.locationOf(offset), path: formatPath(path), message, offset: offset ?? Number.MAX_SAFE_INTEGER });
  }

  sorted(): Problem[] {
    return [...this.problems].sort((a, b) => a.offset - b.offset).map(({ offset: _offset, ...problem }) => problem);
  }

  location(path: Path): string {
    return this.locationOf(this.offset(path, false));
  }

  private locationOf(offset: number | undefined): string {
    if (offset === undefined) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** Where the value at `path` starts in the text (or its key, or the nearest enclosing value). */
  private offset(path: Path, atKey: boolean): number | undefined {
    let node: unknown = this.doc.contents;
    let found: unknown = node;
    for (const [index, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && item.key.value === segment);
        if (pair === undefined) break;
        node = atKey && index === path.length - 1 ? pair.key : (pair.value ?? pair.key);
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (node === undefined) break;
      } else {
        break;
      }
      found = node;
    }
    const range = (found as { range?: readonly number[] | null } | null | undefined)?.range;
    return range?.[0];
  }

  /** A mapping with only the known keys; reports any other. */
  mapping(value: unknown, path: Path, known: readonly string[], what: string): Record<string, unknown> | undefined {
    if (!isPlainObject(value)) {
      this.fail(path, `${what} must be a mapping (key: value), not ${kindOf(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const near = closest(key, known);
      this.fail([...path, key], `unknown key${near === undefined ? '' : ` (did you mean ${near}?)`}; the keys of ${what} are ${known.join(', ')}`, true);
    }
    return value;
  }

  /** A list; absent or empty (`groups:`) is an empty list. */
  list(value: unknown, path: Path): readonly unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.fail(path, `must be a list, not ${kindOf(value)}`);
      return [];
    }
    return value;
  }

  /** Checks a value against an API shape; returns it when it fits. */
  leaf(shape: AnyShape, value: unknown, path: Path): string | undefined {
    const [problem] = validate(shape, value);
    if (problem !== undefined) {
      this.fail(path, tidy(problem.message, shape, value));
      return undefined;
    }
    return value as string;
  }

  string(map: Record<string, unknown>, path: Path, key: string, shape: AnyShape | StringShape, required = false): string | undefined {
    const value = map[key];
    if (value === undefined || value === null) {
      if (required) this.fail([...path, key], 'is required');
      return undefined;
    }
    return this.leaf(shape, value, [...path, key]);
  }

  integer(map: Record<string, unknown>, path: Path, key: string, shape: AnyShape): number | undefined {
    const value = map[key];
    if (value === undefined || value === null) return undefined;
    const [problem] = validate(shape, value);
    if (problem !== undefined) {
      this.fail([...path, key], tidy(problem.message, shape, value));
      return undefined;
    }
    return value as number;
  }

  /** A mapping of strings to strings (attributes, tags). */
  stringMap(value: unknown, path: Path, keyShape: AnyShape, valueShape: AnyShape, max: number): Record<string, string> {
    if (value === undefined || value === null) return {};
    if (!isPlainObject(value)) {
      this.fail(path, `must be a mapping (key: value), not ${kindOf(value)}`);
      return {};
    }
    const entries = Object.entries(value);
    if (entries.length > max) this.fail(path, `has ${entries.length} entries; at most ${max} are allowed`);
    const result: Record<string, string> = {};
    for (const [key, item] of entries) {
      const [keyProblem] = validate(keyShape, key);
      if (keyProblem !== undefined) this.fail([...path, key], `the key ${tidy(keyProblem.message, keyShape, key)}`, true);
      const text = this.leaf(valueShape, item, [...path, key]);
      if (keyProblem === undefined && text !== undefined) result[key] = text;
    }
    return result;
  }

  /** A group, user or permission set the file defines; a second one with the same name is a problem. */
  define(kind: Kind, name: string, path: Path): void {
    const earlier = this.names[kind].get(name.toLowerCase());
    if (earlier === undefined) this.names[kind].set(name.toLowerCase(), { name, at: formatPath(path.slice(0, -1)) });
    else this.fail(path, `${kind} "${name}" is already defined at ${earlier.at} (names are compared without case)`);
  }

  /** A name that must be defined elsewhere in the file; checked once all is read. */
  refer(path: Path, name: string, kind: Kind): void {
    this.references.push({ path, name, kind });
  }

  checkReferences(): void {
    for (const { path, name, kind } of this.references) {
      if (this.names[kind].has(name.toLowerCase())) continue;
      const defined = [...this.names[kind].values()].map((entry) => entry.name);
      const near = closest(name, defined);
      const hint = near === undefined ? (defined.length === 0 ? ` (the file defines no ${kind}s)` : '') : ` (did you mean "${near}"?)`;
      this.fail(path, `no ${kind} "${name}" is defined${hint}`);
    }
  }
}

/** The API's validation message, without its "the request" subject and with the shape's doc for a pattern. */
function tidy(message: string, shape: AnyShape, value: unknown): string {
  let text = message.replace(/^the request /, '').replace(/\.$/, '');
  const hint = HINTS.get(shape);
  if (text.startsWith('must match ') && hint !== undefined) text = `${JSON.stringify(value)}: ${hint}`;
  if (text.startsWith('must be a string, not ')) text += typeof value === 'number' || typeof value === 'boolean' ? `; quote it ('${String(value)}')` : '';
  return text;
}

/** The known word nearest to `word`, when one is close enough to be what was meant. */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 4)) && (best === undefined || distance < best.distance)) best = { word: candidate, distance };
  }
  return best?.word;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  return typeof value === 'number' || typeof value === 'boolean' ? `${typeof value} ${String(value)}` : typeof value;
}

function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function reason(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return 'no such file';
  return error instanceof Error ? error.message : String(error);
}
