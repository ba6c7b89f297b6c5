// Every operation a policy decides (caller "authorized") is an action the policy engine knows,
// so validating a policy that names it gives no UNKNOWN_ACTION warning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AIRLOCK_ACTIONS } from '@airlock/policy';
import { actionOf, OPERATIONS } from '@airlock/protocol';

test('the policy catalog knows every operation that policies decide', () => {
  const missing = OPERATIONS.filter((spec) => spec.caller === 'authorized')
    .map(actionOf)
    .filter((action) => {
      const [service = '', name = ''] = action.toLowerCase().split(':');
      return AIRLOCK_ACTIONS.services.get(service)?.get(name) === undefined;
    });
  assert.deepEqual(missing, []);
});
