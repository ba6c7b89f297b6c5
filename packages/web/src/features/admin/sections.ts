/** The administration pages, in the order the admin navigation lists them. */
export const ADMIN_SECTIONS = [
  { label: 'Users', to: '/console/admin/users', about: 'Create users with an invitation, reset passwords, group memberships.' },
  { label: 'Groups', to: '/console/admin/groups', about: 'Groups and their members.' },
  { label: 'Permission sets', to: '/console/admin/permission-sets', about: 'Policies with live validation and a simulator; who has them in which account.' },
  { label: 'Activations', to: '/console/admin/activations', about: 'Codes that register servers as managed instances.' },
  { label: 'Instance tags', to: '/console/admin/instance-tags', about: 'The tags policies see as ssm:resourceTag/KEY.' },
  { label: 'Settings', to: '/console/admin/settings', about: 'MFA, Session Manager preferences, service settings.' },
  { label: 'Event rules', to: '/console/admin/event-rules', about: 'Rules, their targets and recent deliveries.' },
] as const;
