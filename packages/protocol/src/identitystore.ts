/**
 * Service `identitystore`: users, groups and memberships, with AWS Identity Store's operation
 * names and fields. Airlock is one identity store, so IdentityStoreId is optional everywhere
 * (checked when given). CreateUser adds one Airlock field, PasswordSetup.
 */
import { operation } from './operation.js';
import { mfaDevice } from './portal.js';
import { s } from './schema.js';

const UUID = /^([0-9a-f]{10}-|)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const identityStoreId = s.string({ min: 1, max: 36, pattern: /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, doc: 'The identity store, d-0123456789. Optional: Airlock has one.' });
export const resourceId = s.string({ min: 1, max: 47, pattern: UUID, doc: 'A user, group or membership id.' });
/** AWS's pattern for the directory's text: printable characters, tabs, line breaks and spaces; no other control character, no lone surrogate. */
const PRINTABLE = /^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r \u00a0\u3000]+$/u;
const PRINTABLE_DOC = 'Printable characters, spaces, tabs and line breaks; no other control character.';
const sensitive = (max: number, doc = PRINTABLE_DOC) => s.string({ min: 1, max, pattern: PRINTABLE, sensitive: true, doc });
const text = (max: number, doc = PRINTABLE_DOC) => s.string({ min: 1, max, pattern: PRINTABLE, doc });
const maxResults = s.integer({ min: 1, max: 100, doc: 'At most this many items in one page.' });
const nextToken = s.string({ min: 1, max: 65535, doc: 'The token a previous page returned.' });

export const userName = s.string({
  min: 1,
  max: 128,
  pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u,
  doc: 'Unique, case-insensitively; cannot change. Letters, digits, symbols and punctuation, no spaces.',
});

const name = s.struct({
  Formatted: s.optional(sensitive(1024)),
  FamilyName: s.optional(sensitive(1024)),
  GivenName: s.optional(sensitive(1024)),
  MiddleName: s.optional(sensitive(1024)),
  HonorificPrefix: s.optional(sensitive(1024)),
  HonorificSuffix: s.optional(sensitive(1024)),
});
const email = s.struct({
  Value: s.optional(s.string({ min: 1, max: 1024, pattern: /^[^\s@]+@[^\s@]+$/, sensitive: true })),
  Type: s.optional(text(1024)),
  Primary: s.optional(s.boolean()),
});
const phoneNumber = s.struct({ Value: s.optional(sensitive(1024)), Type: s.optional(text(1024)), Primary: s.optional(s.boolean()) });
const address = s.struct({
  StreetAddress: s.optional(sensitive(1024)),
  Locality: s.optional(sensitive(1024)),
  Region: s.optional(sensitive(1024)),
  PostalCode: s.optional(sensitive(1024)),
  Country: s.optional(sensitive(1024)),
  Formatted: s.optional(sensitive(1024)),
  Type: s.optional(text(1024)),
  Primary: s.optional(s.boolean()),
});
const externalId = s.struct({ Issuer: s.required(text(100)), Id: s.required(text(256)) });

export const PASSWORD_SETUPS = ['EMAIL_INVITATION', 'ONE_TIME_PASSWORD', 'NONE'] as const;

/** The profile fields a user has, shared by CreateUser, DescribeUser and ListUsers. */
const profile = {
  Name: s.optional(name),
  DisplayName: s.optional(sensitive(1024)),
  NickName: s.optional(sensitive(1024)),
  ProfileUrl: s.optional(sensitive(1024)),
  Emails: s.optional(s.list(email, { min: 1, max: 1 })),
  Addresses: s.optional(s.list(address, { min: 1, max: 1 })),
  PhoneNumbers: s.optional(s.list(phoneNumber, { min: 1, max: 1 })),
  UserType: s.optional(sensitive(1024)),
  Title: s.optional(sensitive(1024)),
  PreferredLanguage: s.optional(sensitive(1024)),
  Locale: s.optional(sensitive(1024)),
  Timezone: s.optional(sensitive(1024)),
  Attributes: s.optional(
    s.map(s.string({ min: 1, max: 128, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u }), s.string({ max: 256 }), {
      max: 50,
      doc: "Airlock's own: attributes for access control; each becomes aws:PrincipalTag/{key} in the user's sessions (e.g. SSMSessionRunAs=ec2-user).",
    }),
  ),
};

export const user = s.struct({
  IdentityStoreId: s.required(identityStoreId),
  UserId: s.required(resourceId),
  UserName: s.optional(userName),
  ExternalIds: s.optional(s.list(externalId)),
  ...profile,
});

const group = s.struct({
  IdentityStoreId: s.required(identityStoreId),
  GroupId: s.required(resourceId),
  DisplayName: s.optional(sensitive(1024)),
  ExternalIds: s.optional(s.list(externalId)),
  Description: s.optional(sensitive(1024)),
});

const filter = s.struct({ AttributePath: s.required(text(255)), AttributeValue: s.required(sensitive(1024)) });
const attributeOperation = s.struct({ AttributePath: s.required(text(255)), AttributeValue: s.optional(s.document()) });
const alternateIdentifier = s.struct({
  ExternalId: s.optional(externalId),
  UniqueAttribute: s.optional(s.struct({ AttributePath: s.required(text(255)), AttributeValue: s.required(s.document()) })),
});
const memberId = s.struct({ UserId: s.required(resourceId) });
const membership = s.struct({
  IdentityStoreId: s.required(identityStoreId),
  MembershipId: s.optional(resourceId),
  GroupId: s.optional(resourceId),
  MemberId: s.optional(memberId),
});
const store = { IdentityStoreId: s.optional(identityStoreId) };
const page = { MaxResults: s.optional(maxResults), NextToken: s.optional(nextToken) };
const empty = s.struct({});

export const CreateUser = operation({
  service: 'identitystore',
  name: 'CreateUser',
  summary: 'Create a user. With an email, Airlock mails an invitation to set a password (PasswordSetup).',
  input: s.struct({
    ...store,
    UserName: s.required(userName),
    ...profile,
    PasswordSetup: s.optional(
      s.enum(PASSWORD_SETUPS, 'EMAIL_INVITATION (default with an email): mail a link to set a password. ONE_TIME_PASSWORD: return one, to change at first sign-in. NONE: no password yet.'),
    ),
  }),
  output: s.struct({
    UserId: s.required(resourceId),
    IdentityStoreId: s.required(identityStoreId),
    OneTimePassword: s.optional(s.string({ sensitive: true, doc: 'With PasswordSetup ONE_TIME_PASSWORD only.' })),
  }),
});

export const DescribeUser = operation({
  service: 'identitystore',
  name: 'DescribeUser',
  summary: "A user's profile.",
  input: s.struct({ ...store, UserId: s.required(resourceId) }),
  output: user,
});

export const ListUsers = operation({
  service: 'identitystore',
  name: 'ListUsers',
  summary: 'Users, a page at a time; Filters on UserName.',
  input: s.struct({ ...store, ...page, Filters: s.optional(s.list(filter, { max: 1 })) }),
  output: s.struct({ Users: s.required(s.list(user)), NextToken: s.optional(nextToken) }),
});

export const UpdateUser = operation({
  service: 'identitystore',
  name: 'UpdateUser',
  summary: "Change a user's profile: each operation sets (or, without a value, clears) one attribute path.",
  input: s.struct({ ...store, UserId: s.required(resourceId), Operations: s.required(s.list(attributeOperation, { min: 1, max: 100 })) }),
  output: empty,
});

export const DeleteUser = operation({
  service: 'identitystore',
  name: 'DeleteUser',
  summary: 'Delete a user, their memberships, MFA devices and sessions.',
  input: s.struct({ ...store, UserId: s.required(resourceId) }),
  output: empty,
});

export const GetUserId = operation({
  service: 'identitystore',
  name: 'GetUserId',
  summary: 'Find a user id by a unique attribute (UserName or emails.value) or an external id.',
  input: s.struct({ ...store, AlternateIdentifier: s.required(alternateIdentifier) }),
  output: s.struct({ UserId: s.required(resourceId), IdentityStoreId: s.required(identityStoreId) }),
});

export const CreateGroup = operation({
  service: 'identitystore',
  name: 'CreateGroup',
  summary: 'Create a group; its DisplayName is unique.',
  input: s.struct({ ...store, DisplayName: s.required(sensitive(1024)), Description: s.optional(sensitive(1024)) }),
  output: s.struct({ GroupId: s.required(resourceId), IdentityStoreId: s.required(identityStoreId) }),
});

export const DescribeGroup = operation({
  service: 'identitystore',
  name: 'DescribeGroup',
  summary: 'A group.',
  input: s.struct({ ...store, GroupId: s.required(resourceId) }),
  output: group,
});

export const ListGroups = operation({
  service: 'identitystore',
  name: 'ListGroups',
  summary: 'Groups, a page at a time; Filters on DisplayName.',
  input: s.struct({ ...store, ...page, Filters: s.optional(s.list(filter, { max: 1 })) }),
  output: s.struct({ Groups: s.required(s.list(group)), NextToken: s.optional(nextToken) }),
});

export const UpdateGroup = operation({
  service: 'identitystore',
  name: 'UpdateGroup',
  summary: "Change a group's DisplayName or Description.",
  input: s.struct({ ...store, GroupId: s.required(resourceId), Operations: s.required(s.list(attributeOperation, { min: 1, max: 100 })) }),
  output: empty,
});

export const DeleteGroup = operation({
  service: 'identitystore',
  name: 'DeleteGroup',
  summary: 'Delete a group and its memberships.',
  input: s.struct({ ...store, GroupId: s.required(resourceId) }),
  output: empty,
});

export const GetGroupId = operation({
  service: 'identitystore',
  name: 'GetGroupId',
  summary: 'Find a group id by DisplayName or an external id.',
  input: s.struct({ ...store, AlternateIdentifier: s.required(alternateIdentifier) }),
  output: s.struct({ GroupId: s.required(resourceId), IdentityStoreId: s.required(identityStoreId) }),
});

export const CreateGroupMembership = operation({
  service: 'identitystore',
  name: 'CreateGroupMembership',
  summary: 'Add a user to a group.',
  input: s.struct({ ...store, GroupId: s.required(resourceId), MemberId: s.required(memberId) }),
  output: s.struct({ MembershipId: s.required(resourceId), IdentityStoreId: s.required(identityStoreId) }),
});

export const DeleteGroupMembership = operation({
  service: 'identitystore',
  name: 'DeleteGroupMembership',
  summary: 'Remove a user from a group.',
  input: s.struct({ ...store, MembershipId: s.required(resourceId) }),
  output: empty,
});

export const DescribeGroupMembership = operation({
  service: 'identitystore',
  name: 'DescribeGroupMembership',
  summary: 'A membership.',
  input: s.struct({ ...store, MembershipId: s.required(resourceId) }),
  output: membership,
});

export const GetGroupMembershipId = operation({
  service: 'identitystore',
  name: 'GetGroupMembershipId',
  summary: 'The membership id of a user in a group.',
  input: s.struct({ ...store, GroupId: s.required(resourceId), MemberId: s.required(memberId) }),
  output: s.struct({ MembershipId: s.required(resourceId), IdentityStoreId: s.required(identityStoreId) }),
});

export const ListGroupMemberships = operation({
  service: 'identitystore',
  name: 'ListGroupMemberships',
  summary: "A group's memberships.",
  input: s.struct({ ...store, ...page, GroupId: s.required(resourceId) }),
  output: s.struct({ GroupMemberships: s.required(s.list(membership)), NextToken: s.optional(nextToken) }),
});

export const ListGroupMembershipsForMember = operation({
  service: 'identitystore',
  name: 'ListGroupMembershipsForMember',
  summary: "A user's memberships.",
  input: s.struct({ ...store, ...page, MemberId: s.required(memberId) }),
  output: s.struct({ GroupMemberships: s.required(s.list(membership)), NextToken: s.optional(nextToken) }),
});

export const IsMemberInGroups = operation({
  service: 'identitystore',
  name: 'IsMemberInGroups',
  summary: 'Whether a user is in each of the given groups.',
  input: s.struct({ ...store, MemberId: s.required(memberId), GroupIds: s.required(s.list(resourceId, { min: 1, max: 100 })) }),
  output: s.struct({
    Results: s.required(
      s.list(s.struct({ GroupId: s.optional(resourceId), MemberId: s.optional(memberId), MembershipExists: s.optional(s.boolean()) })),
    ),
  }),
});

export const ResetUserPassword = operation({
  service: 'identitystore',
  name: 'ResetUserPassword',
  summary: "Airlock's own: reset a user's password, by a mailed link (EMAIL, valid 24 h) or a one-time password; ends the user's portal sessions.",
  input: s.struct({ ...store, UserId: s.required(resourceId), Mode: s.optional(s.enum(['EMAIL', 'ONE_TIME_PASSWORD'] as const, 'EMAIL (default) or ONE_TIME_PASSWORD.')) }),
  output: s.struct({ OneTimePassword: s.optional(s.string({ sensitive: true })) }),
});

export const ListMfaDevicesForUser = operation({
  service: 'identitystore',
  name: 'ListMfaDevicesForUser',
  summary: "Airlock's own: a user's registered MFA devices (authenticator apps, security keys and passkeys), for an administrator.",
  input: s.struct({ ...store, UserId: s.required(resourceId) }),
  output: s.struct({ Devices: s.required(s.list(mfaDevice)) }),
});

export const DeleteMfaDeviceForUser = operation({
  service: 'identitystore',
  name: 'DeleteMfaDeviceForUser',
  summary: "Airlock's own: remove one of a user's MFA devices (a lost phone); their next sign-in goes as the MFA settings' NoDeviceAction says.",
  input: s.struct({ ...store, UserId: s.required(resourceId), DeviceId: s.required(s.string({ min: 1, max: 64 })) }),
  output: empty,
});

export const IDENTITYSTORE_OPERATIONS = [
  CreateUser,
  DescribeUser,
  ListUsers,
  UpdateUser,
  DeleteUser,
  GetUserId,
  CreateGroup,
  DescribeGroup,
  ListGroups,
  UpdateGroup,
  DeleteGroup,
  GetGroupId,
  CreateGroupMembership,
  DeleteGroupMembership,
  DescribeGroupMembership,
  GetGroupMembershipId,
  ListGroupMemberships,
  ListGroupMembershipsForMember,
  IsMemberInGroups,
  ResetUserPassword,
  ListMfaDevicesForUser,
  DeleteMfaDeviceForUser,
] as const;
