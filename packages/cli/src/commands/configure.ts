/** `airlock configure sso`: name an account and permission set as a profile, as `aws configure sso` does. */
import type { Command } from '../command.js';
import { writeProfile } from '../profiles.js';
import { ENDPOINT_OPTION } from './api.js';

export const configureSso: Command = {
  path: 'configure sso',
  summary: 'Save a profile: an account and a permission set to work as (then --profile NAME or AIRLOCK_PROFILE).',
  options: [
    { name: 'profile', value: '<name>', help: '(required) The profile name.' },
    { name: 'account-id', value: '<12 digits>', help: '(required) The account.' },
    { name: 'role-name', value: '<permission set>', help: '(required) The permission set, as portal list-account-roles names it.' },
    ENDPOINT_OPTION,
  ],
  examples: ['airlock configure sso --profile prod --account-id 111122223333 --role-name ProductionPermissionSet'],
  async run(flags, io) {
    const endpoint = flags.one('endpoint-url');
    const path = await writeProfile(flags.required('profile'), {
      accountId: flags.required('account-id'),
      roleName: flags.required('role-name'),
      ...(endpoint === undefined ? {} : { endpointUrl: endpoint }),
    });
    io.stderr.write(`Saved profile ${flags.required('profile')} in ${path}.\n`);
    return 0;
  },
};
