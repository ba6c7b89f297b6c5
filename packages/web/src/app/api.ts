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
 * Loads a page's data when it shows and again whenever `key` changes (or on reload()); an
 * `undefined` key waits (e.g. for a choice the user has not made). For data that takes several
 * calls (every page of a list, a list and each item's details); one call is useOperation.
 */
export function useLoad<T>(load: () => Promise<T>, key: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: key !== undefined });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (key === undefined) return;
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
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
    // `load` is a new function at each render; `key` says when what it loads has changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, generation]);
  const reload = useCallback(() => {
    setGeneration((value) => value + 1);
  }, []);
  return { ...state, reload };
}

/** Calls a read operation when the page shows and whenever its input changes (compared as JSON); `undefined` input waits. */
export function useOperation<Op extends AnyOperation>(operation: Op, input: InputOf<Op> | undefined): Loaded<OutputOf<Op>> {
  const key = input === undefined ? undefined : `${operation.service}:${operation.name}:${JSON.stringify(input)}`;
  return useLoad(() => call(operation, input as InputOf<Op>), key);
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
