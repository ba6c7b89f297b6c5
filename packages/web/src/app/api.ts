/**
 * The page's one way to the API: an AirlockClient in cookie mode (the sessions live in HttpOnly
 * cookies this script cannot read; it only echoes the CSRF cookie), and hooks that give pages
 * loading and error states.
 */
import { AirlockClient } from '@airlock/client';
import type { AnyOperation, InputOf, OutputOf } from '@airlock/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';

const CSRF_COOKIE = 'airlock_csrf';

function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export const api = new AirlockClient({ endpointUrl: window.location.origin, browserSession: { csrfToken: () => readCookie(CSRF_COOKIE) } });

export function call<Op extends AnyOperation>(operation: Op, input: InputOf<Op>): Promise<OutputOf<Op>> {
  return api.call(operation, input);
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Calls again (after a change the page made). */
  readonly reload: () => void;
}

/**
 * Calls a read operation when the page shows and whenever its input changes (compared as JSON);
 * `undefined` input waits (e.g. for a choice the user has not made).
 */
export function useOperation<Op extends AnyOperation>(operation: Op, input: InputOf<Op> | undefined): Loaded<OutputOf<Op>> {
  const [state, setState] = useState<{ data: OutputOf<Op> | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: input !== undefined });
  const [generation, setGeneration] = useState(0);
  const key = input === undefined ? undefined : JSON.stringify(input);
  useEffect(() => {
    if (key === undefined) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    call(operation, JSON.parse(key) as InputOf<Op>).then(
      (data) => {
        if (current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (current) setState({ data: undefined, error, loading: false });
      },
    );
    return () => {
      current = false;
    };
  }, [operation, key, generation]);
  const reload = useCallback(() => {
    setGeneration((value) => value + 1);
  }, []);
  return { ...state, reload };
}

export interface Action<Op extends AnyOperation> {
  /** Calls the operation; resolves to its output, or undefined when it failed (see error). */
  readonly run: (input: InputOf<Op>) => Promise<OutputOf<Op> | undefined>;
  readonly pending: boolean;
  readonly error: unknown;
  readonly reset: () => void;
}

/** An operation the user sets off (a form's submit, a button): its pending and error states. */
export function useAction<Op extends AnyOperation>(operation: Op): Action<Op> {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(
    async (input: InputOf<Op>) => {
      setPending(true);
      setError(undefined);
      try {
        return await call(operation, input);
      } catch (failure) {
        if (mounted.current) setError(failure);
        return undefined;
      } finally {
        if (mounted.current) setPending(false);
      }
    },
    [operation],
  );
  const reset = useCallback(() => {
    setError(undefined);
  }, []);
  return { run, pending, error, reset };
}
