// dom.js: building DOM without HTML strings.
//
// Every page builds its elements with h() and svg(): text always goes in
// as text nodes, never parsed as HTML, so nothing a record holds can run
// as script (the Content-Security-Policy forbids inline script as well).
// No dependencies.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
      else if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

// Append children: strings and numbers become text nodes, arrays are
// flattened, null/undefined/false are skipped.
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

// h('p', { class: 'x', onclick: fn }, 'text', child, [more]) -> <p>
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// The same for SVG elements.
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// The text of an XHTML narrative (Resource.text.div, Composition sections)
// without interpreting it: parsed inertly, only its text is kept.
export function narrativeText(div) {
  if (!div) return '';
  const doc = new DOMParser().parseFromString(div, 'text/html');
  return (doc.body.textContent || '').replace(/\s+/g, ' ').trim();
}

let idSeq = 0;
// A document-unique id with a readable prefix, for label/aria links.
export const uid = (prefix = 'id') => `${prefix}-${++idSeq}`;
