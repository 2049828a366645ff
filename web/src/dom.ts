/** Small DOM helpers: the page builds its few elements by hand, text set as text (never as HTML). */

export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const e = document.querySelector<T>(selector);
  if (!e) throw new Error(`the page has no ${selector}`);
  return e;
}

export function el(tag: string, attrs: Record<string, string> = {}, children: string | (Node | string)[] = []): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (typeof children === 'string') e.textContent = children;
  else for (const c of children) e.append(c);
  return e;
}

export function clear<T extends Element>(e: T): T {
  e.replaceChildren();
  return e;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
