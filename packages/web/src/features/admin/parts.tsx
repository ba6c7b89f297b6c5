/**
 * Form parts the administration pages share beyond app/forms.tsx: a select, a text area, a
 * checkbox, a confirmation line, and text shown once with a copy button.
 */
import { useId, useState, type ReactNode, type TextareaHTMLAttributes } from 'react';

export interface Option {
  readonly value: string;
  readonly label: string;
}

export function SelectField({ label, value, onValue, options, hint }: { label: string; value: string; onValue: (value: string) => void; options: readonly Option[]; hint?: string }): ReactNode {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(event) => {
          onValue(event.target.value);
        }}
        {...(hint === undefined ? {} : { 'aria-describedby': `${id}-hint` })}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {hint !== undefined && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

interface TextAreaProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'onChange' | 'value'> {
  readonly label: string;
  readonly value: string;
  readonly onValue: (value: string) => void;
  /** Ids of other elements that describe the field (e.g. live findings). */
  readonly describedBy?: string;
}

export function TextAreaField({ label, value, onValue, describedBy, ...area }: TextAreaProps): ReactNode {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        value={value}
        spellCheck={false}
        onChange={(event) => {
          onValue(event.target.value);
        }}
        {...(describedBy === undefined ? {} : { 'aria-describedby': describedBy })}
        {...area}
      />
    </div>
  );
}

export function CheckboxField({ label, checked, onChecked }: { label: string; checked: boolean; onChecked: (checked: boolean) => void }): ReactNode {
  const id = useId();
  return (
    <div className="field checkbox">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        onChange={(event) => {
          onChecked(event.target.checked);
        }}
      />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/** What a change did, announced to screen readers. */
export function Done({ children }: { children: ReactNode }): ReactNode {
  if (children === undefined || children === null || children === '') return null;
  return (
    <p className="notice" role="status">
      {children}
    </p>
  );
}

/** A secret or command shown once: selectable text and a button that copies it. */
export function CopyBox({ label, text }: { label: string; text: string }): ReactNode {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-box">
      <p className="copy-label" id={id}>
        {label}
      </p>
      <pre aria-labelledby={id} tabIndex={0}>
        {text}
      </pre>
      <button
        type="button"
        aria-label={`Copy ${label}`}
        onClick={() => {
          void navigator.clipboard.writeText(text).then(() => {
            setCopied(true);
          });
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

/** Every page of a paginated list operation, for pages that search or pick among them all. */
export async function allPages<Item>(fetchPage: (nextToken: string | undefined) => Promise<{ items: readonly Item[]; next: string | undefined }>): Promise<Item[]> {
  const found: Item[] = [];
  let next: string | undefined;
  // Bounded: a server that kept answering with a token would otherwise loop forever.
  for (let page = 0; page < 100; page++) {
    const result = await fetchPage(next);
    found.push(...result.items);
    next = result.next;
    if (next === undefined) break;
  }
  return found;
}
