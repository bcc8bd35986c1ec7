// api.js: the node's own FHIR API, as the signed-in user.
//
// Every request goes to this origin's /fhir with the session's bearer
// token (and, for a patient whose record needs one, X-Access-Reason).
// Errors come back as ApiError carrying the OperationOutcome and the
// access rule that refused (issue[0].details.coding[0].code). What the
// node can do is read once from /fhir/metadata (no token needed), so
// pages can tell a feature this node lacks from a failure.
// Depends on session.js.

import { token } from './session.js';

const BASE = '/fhir';
const RULE_SYSTEM = 'https://carerecord.example/CodeSystem/access-rule';

export class ApiError extends Error {
  constructor(status, outcome, fallback) {
    const issue = outcome?.issue?.[0];
    const msg = issue?.details?.text || issue?.diagnostics || fallback || `the node answered ${status}`;
    super(msg);
    this.name = 'ApiError';
    this.status = status;
    this.outcome = outcome || null;
    this.issueCode = issue?.code || '';
    const coding = issue?.details?.coding?.find((c) => c.system === RULE_SYSTEM) || issue?.details?.coding?.[0];
    this.rule = coding?.code || '';
    this.expression = issue?.expression?.[0] || '';
  }
}

// A path under /fhir from what a Bundle link or a caller gives: an
// absolute URL (the node's base URL may name another host than the one
// the browser used) keeps only its path and query.
function toPath(p) {
  if (/^https?:\/\//.test(p)) {
    const u = new URL(p);
    return u.pathname + u.search;
  }
  return p.startsWith('/') ? p : `${BASE}/${p}`;
}

// One request. Resolves to { status, json, headers } for 2xx answers and
// 304; throws ApiError otherwise (TypeError when the node is unreachable).
// Options: method, body (object: sent as FHIR JSON), reason (the
// X-Access-Reason header value), headers, auth (false: no token).
export async function request(path, { method = 'GET', body, reason, headers = {}, auth = true, signal } = {}) {
  const h = { Accept: 'application/fhir+json', ...headers };
  const tok = token();
  if (auth && tok) h.Authorization = `Bearer ${tok}`;
  if (reason) h['X-Access-Reason'] = reason;
  if (body !== undefined) h['Content-Type'] = 'application/fhir+json';
  const res = await fetch(toPath(path), {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await res.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  if (!res.ok) throw new ApiError(res.status, json?.resourceType === 'OperationOutcome' ? json : null, text.slice(0, 200));
  return { status: res.status, json, headers: res.headers };
}

export const get = async (path, opts) => (await request(path, opts)).json;

// A searchset or $everything, every page: resolves to { resources,
// outcomes } where outcomes are the OperationOutcome entries (items
// withheld, nodes that did not answer). At most 'maxPages' pages.
export async function getAll(path, { maxPages = 50, ...opts } = {}) {
  const resources = [];
  const outcomes = [];
  let next = path;
  for (let page = 0; next && page < maxPages; page++) {
    const b = await get(next, opts);
    for (const e of b?.entry || []) {
      const r = e.resource;
      if (!r) continue;
      if (r.resourceType === 'OperationOutcome' && (e.search?.mode === 'outcome' || !e.search)) outcomes.push(r);
      else resources.push(r);
    }
    next = b?.link?.find((l) => l.relation === 'next')?.url || null;
  }
  return { resources, outcomes };
}

// ---- what this node offers --------------------------------------------------

let capPromise = null;

// The CapabilityStatement, fetched once per page (no token needed).
export function capabilities() {
  if (!capPromise) capPromise = get('metadata', { auth: false }).catch((e) => { capPromise = null; throw e; });
  return capPromise;
}

const restOf = (cap) => cap?.rest?.find((r) => r.mode === 'server') || cap?.rest?.[0] || {};

export function hasType(cap, type) {
  return (restOf(cap).resource || []).some((r) => r.type === type);
}

// True when the node declares operation 'name' (without '$') at system
// level or on any resource type.
export function hasOperation(cap, name) {
  const rest = restOf(cap);
  const named = (ops) => (ops || []).some((o) => o.name === name || o.name === `$${name}` ||
    (o.definition || '').endsWith(`/${name}`));
  return named(rest.operation) || (rest.resource || []).some((r) => named(r.operation));
}

// This node's id, as its CapabilityStatement describes it ("... node X").
export function nodeId(cap) {
  const m = /\bnode\s+(\S+)\s*$/.exec(cap?.implementation?.description || '');
  return m ? m[1] : '';
}
