/** A page that throws while rendering shows what happened instead of a blank screen; the next navigation starts afresh. */
import { Component, type ReactNode } from 'react';
import { ErrorMessage } from './errors';

export class PageErrorBoundary extends Component<{ readonly children: ReactNode }, { readonly error: unknown }> {
  override state: { readonly error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error };
  }

  override render(): ReactNode {
    return this.state.error === undefined ? this.props.children : <ErrorMessage error={this.state.error} />;
  }
}
