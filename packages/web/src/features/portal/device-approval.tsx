/** Approving an `airlock login` on another device: the code it shows, checked against the one here. */
import { portal } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import { useAction } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Form, SubmitButton, TextField } from '../../app/forms';
import { usePortalUser } from '../../app/identity';
import type { PageProps } from '../../app/router';

export function DeviceApprovalPage({ query }: PageProps): ReactNode {
  const user = usePortalUser();
  const [code, setCode] = useState(query.get('user_code') ?? '');
  const approve = useAction(portal.ApproveDeviceAuthorization);
  const [approved, setApproved] = useState<string>();
  if (approved !== undefined) {
    return (
      <p className="notice" role="status">
        Approved: {approved} is signed in as {user?.UserName}. You can close this page and go back to it.
      </p>
    );
  }
  const submit = async (): Promise<void> => {
    const answer = await approve.run({ UserCode: code.trim().toUpperCase() });
    if (answer !== undefined) setApproved(answer.ClientName ?? 'the device');
  };
  return (
    <Form onSubmit={submit} label="Approve a device sign-in">
      <p>
        A program such as <code>airlock login</code> asks to act as <strong>{user?.UserName}</strong>. Approve only if you started it and it shows the same code.
      </p>
      <TextField label="Code shown by the program" value={code} onValue={setCode} autoComplete="off" required minLength={8} maxLength={9} hint="Eight letters, such as VCFF-PKPP." className="mono" />
      <ErrorMessage error={approve.error} />
      <SubmitButton pending={approve.pending}>Approve</SubmitButton>
    </Form>
  );
}
