// pages/signin.js: sign in (/ui/signin). Demo personas come from
// /ui/personas.json when the node serves one (docs/ui.md gives the
// format); a real deployment pastes, or redirects here with, a token
// from its identity provider (#access_token=... in the URL fragment).
// The token is kept in sessionStorage for this tab only.
// Depends on the shared modules.

import { h, $, clear, append } from '../dom.js';
import {
  signIn, signOut, decodeClaims, roleLabel, purposeLabel, token, secondsLeft,
} from '../session.js';
import { initPage, notice } from '../shell.js';

const params = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));

// An identity provider (or a sign-in proxy in front of the node) may
// hand the token over in the fragment, which never reaches a server log.
if (fragment.get('access_token')) {
  const tok = fragment.get('access_token');
  history.replaceState(null, '', location.pathname + location.search);
  signIn(tok, '');
  go(decodeClaims(tok));
}

const ctx = await initPage({ requireToken: false, active: 'signin' });
const app = $('#app');

// Where to go once signed in: the page that sent us here, or the
// purpose's home page.
function landing(c) {
  const next = params.get('next');
  if (next && next.startsWith('/ui/') && !next.startsWith('/ui/signin')) return next;
  if (c?.purpose === 'audit') return '/ui/privacy';
  return '/ui/';
}

function go(c) {
  location.assign(landing(c));
}

async function loadPersonas() {
  try {
    const res = await fetch('/ui/personas.json', { cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return { personas: [], nodes: [], missing: true };
    const data = await res.json();
    const personas = Array.isArray(data) ? data : (data.personas || []);
    return { personas: personas.filter((p) => p && p.label && p.token), nodes: data.nodes || [], missing: false };
  } catch {
    return { personas: [], nodes: [], missing: true, broken: true };
  }
}

function nodeUrl(nodes, id) {
  const n = nodes.find((x) => x.id === id);
  const url = n?.ui || n?.url || n?.base || '';
  if (!url) return '';
  const u = new URL(url, location.href);
  return u.origin;
}

function personaCard(p, nodes) {
  const c = decodeClaims(p.token);
  const left = secondsLeft(c);
  const here = !p.node || !ctx.node || p.node === ctx.node;
  const desc = [p.name || c?.name, `${roleLabel(p.role)} (${p.role})`, p.org, purposeLabel(p.purpose)].filter(Boolean).join(' · ');
  const expired = left !== null && left < 0;
  let action;
  if (here) {
    action = h('button', {
      type: 'button', class: 'button persona-button', 'data-persona': p.label, disabled: expired,
      onclick: () => { signIn(p.token, p.label); go(decodeClaims(p.token) || { purpose: p.purpose }); },
    }, 'Sign in as ', h('strong', null, p.label));
  } else {
    const origin = nodeUrl(nodes, p.node);
    action = origin
      ? h('a', { class: 'button secondary persona-button', href: `${origin}/ui/signin#persona=${encodeURIComponent(p.label)}` },
        `Sign in as ${p.label} on node ${p.node}`)
      : h('span', { class: 'hint' }, `On node ${p.node}`);
  }
  return h('li', { class: 'persona' },
    action,
    h('p', { class: 'persona-who' }, desc, p.node ? ` · node ${p.node}` : ''),
    p.description ? h('p', { class: 'hint' }, p.description) : null,
    expired ? h('p', { class: 'field-error' }, 'This demo token has expired: restart the demo for fresh ones.') : null);
}

function pasteForm() {
  const form = h('form', { id: 'token-form', class: 'panel', novalidate: true },
    h('h2', null, 'Sign in with a token'),
    h('div', { class: 'field', id: 'token-field' },
      h('label', { for: 'token' }, 'Bearer token'),
      h('p', { class: 'hint', id: 'token-hint' }, 'A token from your organisation\'s identity provider, signed with a key this node trusts.'),
      h('p', { class: 'field-error', id: 'token-error', hidden: true }),
      h('textarea', { id: 'token', rows: 4, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'token-hint token-error' })),
    h('button', { type: 'submit', class: 'button' }, 'Sign in'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const raw = $('#token').value.trim().replace(/^Bearer\s+/i, '');
    const err = $('#token-error');
    const problem = !raw ? 'Paste a token' : /\s/.test(raw) ? 'A token has no spaces or line breaks' : '';
    const c = raw ? decodeClaims(raw) : null;
    const left = secondsLeft(c);
    const finalProblem = problem || (left !== null && left < 0 ? 'This token has expired' : '');
    err.textContent = finalProblem;
    err.hidden = !finalProblem;
    $('#token-field').classList.toggle('has-error', Boolean(finalProblem));
    $('#token').toggleAttribute('aria-invalid', Boolean(finalProblem));
    if (finalProblem) { $('#token').focus(); return; }
    signIn(raw, c?.name || '');
    go(c);
  });
  return form;
}

async function render() {
  const { personas, nodes, missing, broken } = await loadPersonas();
  const list = h('ul', { class: 'personas', id: 'personas' }, personas.map((p) => personaCard(p, nodes)));
  append(clear(app), [
    h('h1', null, 'Sign in'),
    token() ? h('p', { class: 'notice info' }, 'You are signed in. Choosing someone else signs you out first. ',
      h('button', { type: 'button', class: 'button secondary small', onclick: () => { signOut(); location.reload(); } }, 'Sign out')) : null,
    h('section', { 'aria-labelledby': 'h-personas', class: 'panel' },
      h('h2', { id: 'h-personas' }, 'Demo personas'),
      personas.length
        ? [h('p', null, 'Each persona is a signed token for a member of staff or a patient in the synthetic world. What each sees is decided by the node\'s access policy.'), list]
        : h('p', { class: 'not-available', id: 'no-personas' }, missing
          ? (broken ? 'The demo personas file on this node could not be read.' : 'This node has no demo personas. Sign in with a token from your identity provider.')
          : 'The demo personas file lists nobody.')),
    pasteForm()]);

  // A link from another node's sign-in page names the persona to use.
  const wanted = fragment.get('persona');
  if (wanted) {
    const b = Array.from(document.querySelectorAll('.persona-button')).find((x) => x.dataset.persona === wanted);
    if (b) b.focus();
    else notice(app, 'warning', `No persona called "${wanted}" on this node.`);
  }
}

render();
