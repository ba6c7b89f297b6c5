/**
 * xterm.js makes <style> elements of its own (its theme, the cell sizes) whenever it renders,
 * and the console's Content-Security-Policy takes style elements only with the page's nonce
 * (index.html's `csp-nonce` meta, which the server fills in per answer). So the style elements
 * this page's own scripts create get that nonce as they are made, before they are inserted (a
 * nonce set later does not count). Markup injected into the page is parsed, not created here,
 * and stays refused: the policy still does its job.
 */
let installed = false;

export function stampStyleNonces(): void {
  if (installed) return;
  installed = true;
  const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';
  if (nonce === '' || nonce.startsWith('__')) return;
  const prototype = Document.prototype;
  // Called below with each document as `this`.
  const create: (this: Document, tagName: string, options?: ElementCreationOptions) => HTMLElement = Reflect.get(prototype, 'createElement');
  function createElement(this: Document, tagName: string, options?: ElementCreationOptions): HTMLElement {
    const element = create.call(this, tagName, options);
    if (element instanceof HTMLStyleElement) element.nonce = nonce;
    return element;
  }
  Object.defineProperty(prototype, 'createElement', { value: createElement, configurable: true, writable: true });
}
