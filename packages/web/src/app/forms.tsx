/** Form parts with labels, hints and error wiring done once, so every page is accessible alike. */
import { useId, type SyntheticEvent, type InputHTMLAttributes, type ReactNode } from 'react';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'onChange' | 'value'> {
  readonly label: string;
  readonly value: string;
  readonly onValue: (value: string) => void;
  /** Shown under the field and read with it. */
  readonly hint?: string;
}

export function TextField({ label, value, onValue, hint, ...input }: FieldProps): ReactNode {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        onChange={(event) => {
          onValue(event.target.value);
        }}
        {...(hint === undefined ? {} : { 'aria-describedby': hintId })}
        {...input}
      />
      {hint !== undefined && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** Six digits from an authenticator app or a mail: numeric keyboard, one-time-code autofill. */
export function CodeField({ label, value, onValue, hint }: { label: string; value: string; onValue: (value: string) => void; hint?: string }): ReactNode {
  return (
    <TextField
      label={label}
      value={value}
      onValue={(text) => {
        onValue(text.replace(/\D/g, '').slice(0, 6));
      }}
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="\d{6}"
      maxLength={6}
      required
      // The code is what the person came to type: focus it as soon as the step appears.
      autoFocus
      {...(hint === undefined ? {} : { hint })}
    />
  );
}

export function Form({ onSubmit, children, label }: { onSubmit: () => void | Promise<void>; children: ReactNode; label?: string }): ReactNode {
  const submit = (event: SyntheticEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void onSubmit();
  };
  return (
    <form onSubmit={submit} {...(label === undefined ? {} : { 'aria-label': label })}>
      {children}
    </form>
  );
}

export function SubmitButton({ pending, disabled = false, children }: { pending: boolean; disabled?: boolean; children: ReactNode }): ReactNode {
  return (
    <button type="submit" className="primary" disabled={pending || disabled} aria-busy={pending}>
      {pending ? 'Working…' : children}
    </button>
  );
}

/** A status line for what loads in the background. */
export function Loading({ what }: { what: string }): ReactNode {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}
