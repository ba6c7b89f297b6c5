/**
 * xterm.js terminals for the console. The live one is fitted to its container: columns and
 * rows follow the container's size (a window resize, a panel opening) and `onResize` hears
 * them. The replay's keeps the recording's size.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal, type ITerminalInitOnlyOptions, type ITerminalOptions } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { stampStyleNonces } from './style-nonce';

export interface FittedTerminal {
  readonly terminal: Terminal;
  readonly dispose: () => void;
}

const THEME = { background: '#16191f', foreground: '#f3f4f6', cursor: '#f59e0b' };

export function newTerminal(container: HTMLElement, options: ITerminalOptions & ITerminalInitOnlyOptions = {}): Terminal {
  stampStyleNonces();
  const terminal = new Terminal({
    fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace",
    fontSize: 14,
    theme: THEME,
    scrollback: 10_000,
    ...options,
  });
  terminal.open(container);
  return terminal;
}

export function fittedTerminal(container: HTMLElement): FittedTerminal {
  const terminal = newTerminal(container);
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  const refit = (): void => {
    // A hidden container has no size to fit to.
    if (container.clientWidth > 0 && container.clientHeight > 0) fit.fit();
  };
  refit();
  const observer = new ResizeObserver(refit);
  observer.observe(container);
  return {
    terminal,
    dispose: () => {
      observer.disconnect();
      terminal.dispose();
    },
  };
}
