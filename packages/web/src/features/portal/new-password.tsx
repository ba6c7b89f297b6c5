/** A new password typed twice, with the server's rules stated up front (8 to 128 characters, not common, not your name). */
import { useState, type ReactNode } from 'react';
import { TextField } from '../../app/forms';

export interface PasswordPair {
  readonly password: string;
  readonly setPassword: (value: string) => void;
  readonly again: string;
  readonly setAgain: (value: string) => void;
  readonly mismatch: boolean;
  /** True when both match; otherwise shows the mismatch. */
  readonly check: () => boolean;
}

export function usePasswordPair(): PasswordPair {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  return {
    password,
    setPassword: (value) => {
      setPassword(value);
      setMismatch(false);
    },
    again,
    setAgain: (value) => {
      setAgain(value);
      setMismatch(false);
    },
    mismatch,
    check: () => {
      const same = password === again;
      setMismatch(!same);
      return same;
    },
  };
}

export function NewPasswordFields({ pair, userName }: { pair: PasswordPair; userName?: string }): ReactNode {
  return (
    <>
      {userName !== undefined && <input type="text" name="username" autoComplete="username" value={userName} readOnly hidden />}
      <TextField
        label="New password"
        type="password"
        value={pair.password}
        onValue={pair.setPassword}
        autoComplete="new-password"
        required
        minLength={8}
        maxLength={128}
        hint="8 to 128 characters. A long phrase is best; common passwords and your user name are refused."
      />
      <TextField label="New password again" type="password" value={pair.again} onValue={pair.setAgain} autoComplete="new-password" required maxLength={128} />
      {pair.mismatch && (
        <p className="error" role="alert">
          The two passwords differ. Type the same password twice.
        </p>
      )}
    </>
  );
}
