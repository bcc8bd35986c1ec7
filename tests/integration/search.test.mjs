// search.test.mjs: FHIR R4 search semantics, case by case, against a fixed
// data set (https://hl7.org/fhir/R4/search.html).
//
// Every case names the exact resources it must return: token (system|code,
// |code, system|, :not, :text, code elements with or without their system),
// string (starts-with, case and accent folding, :exact, :contains, escaped
// commas), date (every prefix, partial dates as ranges, periods, time
// zones), quantity (prefixes, implicit precision, units), reference
// (Type/id, bare id, absolute URL, :Type, :identifier), uri, :missing, OR
// and AND, chains, _has, _id, _lastUpdated; then _sort, _include /
// _revinclude (with :iterate), _summary=count, _total, _elements, _count,
// Prefer: handling=lenient, POST _search, and the 400s for bad searches.
// Each GET case is also run as POST /fhir/T/_search with the same
// parameters as a form body, which must give the same result.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNode, fhir, assertOutcome, putResources, entryRefs, linkUrl, sleep, NHS_SYSTEM,
} from './lib.mjs';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const MRN = 'https://example.org/mrn';
const GENDER = 'http://hl7.org/fhir/administrative-gender';

let node;
let lastUpdatedCut;   // an instant between prl1 and prl2

// Patients:
// | id | family   | given        | gender  | birthDate  | other
// | pa | Éclair   | Zoë, Marie   | female  | 1980-05-17 | NHS 9434765919 + MRN A-1, London N19 5NF, active, GP pr1, org org1
// | pb | Eclipse  | Adam         | male    | 1980-06-01 | MRN B-2, Leeds, active false
// | pc | Smith    | Anne         | female  | 1975       | identifier X1 (no system), died 2020-01-01
// | pd | Smithson | John         | other   | 2001-02-03 | link to pa
// | pe | O'Brien  | Siobhán      | unknown | 1990-01-01 |
// | pf | Lee,Ann  |              |         |            |
//
// Observations:
// | id | subject           | status      | code                             | value          | effective
// | o1 | pa                | final       | loinc 8867-4 "Heart rate"        | 72 /min        | 2024-02-10T10:00:00Z
// | o2 | pa                | amended     | loinc 29463-7 "Body weight"      | 70.5 kg        | 2024-03-01 .. 2024-03-05
// | o3 | pb                | final       | snomed 271649006                 | 1.5 mmol/L     | 2023-12-31
// | o4 | pc                | preliminary | text "Mood"                      | "Feeling good" | 2024-02-29T23:30:00+00:00
// | o5 | identifier of pa  | final       | loinc 8867-4                     | 100 /min       | (none)
// | o6 | pd                | final       | loinc 6690-2 + LOCAL1 (no system)| 1.55 10*3/uL   | 2024-03-03T12:00:00Z
// | o7 | BASE/Patient/pb   | cancelled   | loinc 8310-5                     | 37.2 Cel       | 2022-06-15
function dataset(base) {
  const qty = (value, code, unit = code) => ({ value, unit, system: UCUM, code });
  return [
    { resourceType: 'Practitioner', id: 'pr1', name: [{ family: 'House', given: ['Gregory'] }], identifier: [{ system: 'https://example.org/gmc', value: 'G1' }] },
    { resourceType: 'Practitioner', id: 'pr2', name: [{ family: 'Quinn' }] },
    { resourceType: 'Organization', id: 'org1', name: 'Whittington Health', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RKE' }] },
    { resourceType: 'Organization', id: 'org2', name: 'Whittington Community', partOf: { reference: 'Organization/org1' } },
    {
      resourceType: 'Patient', id: 'pa', active: true,
      meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'], tag: [{ system: 'http://example.org/tags', code: 'vip' }] },
      identifier: [{ system: NHS_SYSTEM, value: '9434765919' }, { system: MRN, value: 'A-1' }],
      name: [{ family: 'Éclair', given: ['Zoë', 'Marie'] }], gender: 'female', birthDate: '1980-05-17',
      address: [{ city: 'London', postalCode: 'N19 5NF' }], telecom: [{ system: 'phone', value: '02079460000' }],
      generalPractitioner: [{ reference: 'Practitioner/pr1' }], managingOrganization: { reference: 'Organization/org1' },
    },
    {
      resourceType: 'Patient', id: 'pb', active: false, identifier: [{ system: MRN, value: 'B-2' }],
      name: [{ family: 'Eclipse', given: ['Adam'] }], gender: 'male', birthDate: '1980-06-01', address: [{ city: 'Leeds' }],
    },
    {
      resourceType: 'Patient', id: 'pc', identifier: [{ value: 'X1' }], name: [{ family: 'Smith', given: ['Anne'] }],
      gender: 'female', birthDate: '1975', deceasedDateTime: '2020-01-01',
    },
    {
      resourceType: 'Patient', id: 'pd', name: [{ family: 'Smithson', given: ['John'] }], gender: 'other', birthDate: '2001-02-03',
      link: [{ other: { reference: 'Patient/pa' }, type: 'seealso' }],
    },
    { resourceType: 'Patient', id: 'pe', name: [{ family: "O'Brien", given: ['Siobhán'] }], gender: 'unknown', birthDate: '1990-01-01' },
    { resourceType: 'Patient', id: 'pf', name: [{ family: 'Lee,Ann' }] },
    {
      resourceType: 'Observation', id: 'o1', status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }] },
      subject: { reference: 'Patient/pa' }, effectiveDateTime: '2024-02-10T10:00:00Z',
      performer: [{ reference: 'Practitioner/pr1' }], valueQuantity: qty(72, '/min', 'beats/minute'),
    },
    {
      resourceType: 'Observation', id: 'o2', status: 'amended',
      code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
      subject: { reference: 'Patient/pa' }, effectivePeriod: { start: '2024-03-01', end: '2024-03-05' }, valueQuantity: qty(70.5, 'kg'),
    },
    {
      resourceType: 'Observation', id: 'o3', status: 'final',
      code: { coding: [{ system: SNOMED, code: '271649006' }] },
      subject: { reference: 'Patient/pb' }, effectiveDateTime: '2023-12-31', valueQuantity: qty(1.5, 'mmol/L'),
    },
    {
      resourceType: 'Observation', id: 'o4', status: 'preliminary', code: { text: 'Mood' },
      subject: { reference: 'Patient/pc' }, effectiveDateTime: '2024-02-29T23:30:00+00:00', valueString: 'Feeling good',
    },
    {
      resourceType: 'Observation', id: 'o5', status: 'final', code: { coding: [{ system: LOINC, code: '8867-4' }] },
      subject: { identifier: { system: NHS_SYSTEM, value: '9434765919' } }, valueQuantity: qty(100, '/min'),
    },
    {
      resourceType: 'Observation', id: 'o6', status: 'final',
      code: { coding: [{ system: LOINC, code: '6690-2', display: 'Leukocytes' }, { code: 'LOCAL1' }] },
      subject: { reference: 'Patient/pd' }, effectiveDateTime: '2024-03-03T12:00:00Z',
      performer: [{ reference: 'Organization/org2' }], valueQuantity: qty(1.55, '10*3/uL'),
    },
    {
      resourceType: 'Observation', id: 'o7', status: 'cancelled', code: { coding: [{ system: LOINC, code: '8310-5' }] },
      subject: { reference: `${base}/Patient/pb` }, effectiveDateTime: '2022-06-15', valueQuantity: qty(37.2, 'Cel'),
    },
    {
      resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/pa' },
      code: { coding: [{ system: SNOMED, code: '195967001', display: 'Asthma' }] },
    },
    // periods: open at the end (ongoing), closed, open at the start
    ...[['enc-open', { start: '2024-01-01T10:00:00Z' }], ['enc-closed', { start: '2024-01-01T10:00:00Z', end: '2024-01-03T10:00:00Z' }],
      ['enc-endonly', { end: '2024-01-03T10:00:00Z' }]].map(([id, period]) => ({
      resourceType: 'Encounter', id, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: 'Patient/pe' }, period,
    })),
    { resourceType: 'Questionnaire', id: 'q1', status: 'active', url: 'http://example.org/q/phq9', item: [{ linkId: '1', type: 'string', text: 'Mood?' }] },
    { resourceType: 'Questionnaire', id: 'q2', status: 'active', url: 'http://example.org/q/phq9-extended', item: [{ linkId: '1', type: 'string', text: 'Sleep?' }] },
    // a chain of seven organisations for _include:iterate: oc0 -> oc1 -> ... -> oc6
    ...Array.from({ length: 7 }, (_, i) => ({
      resourceType: 'Organization', id: `oc${i}`, name: `Chain ${i}`,
      ...(i < 6 ? { partOf: { reference: `Organization/oc${i + 1}` } } : {}),
    })),
  ];
}

before(async () => {
  node = await startNode();
  await putResources(node, dataset(node.fhirBase));
  // updated and deleted resources: only the current version matches
  await putResources(node, [
    { resourceType: 'Practitioner', id: 'prx', name: [{ family: 'Before' }] },
    { resourceType: 'Practitioner', id: 'prz', name: [{ family: 'Gone' }] },
    { resourceType: 'Practitioner', id: 'prl1', name: [{ family: 'Early' }] },
  ]);
  await putResources(node, [{ resourceType: 'Practitioner', id: 'prx', name: [{ family: 'After' }] }]);
  const d = await fhir(node, 'DELETE', 'Practitioner/prz');
  assert.equal(d.status, 200);
  await sleep(20);
  lastUpdatedCut = new Date().toISOString();
  await sleep(20);
  await putResources(node, [{ resourceType: 'Practitioner', id: 'prl2', name: [{ family: 'Late' }] }]);
});
after(async () => { await node?.close(); });

// A query written readably ("date=ge2024-03&family=Éclair") as it goes on
// the wire: '+' and everything encodeURI encodes, percent-encoded.
const wire = (q) => encodeURI(q).replace(/\+/g, '%2B');

// Check the shape of a searchset answer and return it.
function assertSearchset(r, what) {
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.text.slice(0, 400)}`);
  const b = r.json;
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'searchset');
  assert.ok(linkUrl(b, 'self')?.startsWith(`${node.fhirBase}/`), `${what}: self link ${JSON.stringify(b.link)}`);
  const seen = new Set();
  for (const e of b.entry || []) {
    assert.ok(['match', 'include', 'outcome'].includes(e.search?.mode), `${what}: search.mode ${JSON.stringify(e.search)}`);
    if (e.search.mode === 'outcome') {
      assert.equal(e.resource.resourceType, 'OperationOutcome');
      continue;
    }
    assert.equal(e.fullUrl, `${node.fhirBase}/${e.resource.resourceType}/${e.resource.id}`, `${what}: fullUrl`);
    assert.ok(!seen.has(e.fullUrl), `${what}: ${e.fullUrl} twice in one Bundle`);
    seen.add(e.fullUrl);
  }
  return b;
}

// The ids a search matched (sorted), after checking the Bundle; 'type' is
// the searched type, which every match must have.
async function searchIds(query, { method = 'GET', headers } = {}) {
  const [type, params = ''] = query.split('?');
  const r = method === 'GET'
    ? await fhir(node, 'GET', `${type}?${wire(params)}`, { headers })
    : await fhir(node, 'POST', `${type}/_search`, {
      body: wire(params), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  const b = assertSearchset(r, `${method} ${query}`);
  const matches = (b.entry || []).filter((e) => e.search.mode === 'match');
  for (const e of matches) assert.equal(e.resource.resourceType, type, `${query}: a match of another type`);
  assert.equal(b.total, matches.length, `${method} ${query}: total ${b.total}, ${matches.length} matches (no paging here)`);
  assert.equal(linkUrl(b, 'next'), undefined, `${query}: no next page expected`);
  return matches.map((e) => e.resource.id).sort();
}

// ---- the table: query -> exactly the ids it matches --------------------------

const CASES = [
  // token: code, system|code, |code, system|, OR, :not, :text
  ['Observation?code=8867-4', ['o1', 'o5']],
  [`Observation?code=${LOINC}|8867-4`, ['o1', 'o5']],
  [`Observation?code=${SNOMED}|8867-4`, []],
  ['Observation?code=|8867-4', []],
  ['Observation?code=|LOCAL1', ['o6']],
  ['Observation?code=LOCAL1', ['o6']],
  // a Coding without a system is not a Coding of every system
  [`Observation?code=${LOINC}|LOCAL1`, []],
  [`Observation?code=${SNOMED}|LOCAL1`, []],
  [`Observation?code=${LOINC}|`, ['o1', 'o2', 'o5', 'o6', 'o7']],
  [`Observation?code=${SNOMED}|`, ['o3']],
  ['Observation?code=8867-4,8310-5', ['o1', 'o5', 'o7']],
  [`Observation?code=${SNOMED}|271649006,${LOINC}|29463-7`, ['o2', 'o3']],
  ['Observation?code:not=8867-4', ['o2', 'o3', 'o4', 'o6', 'o7']],
  [`Observation?code:not=${LOINC}|8867-4`, ['o2', 'o3', 'o4', 'o6', 'o7']],
  ['Observation?code:text=heart', ['o1']],
  ['Observation?code:text=HEART R', ['o1']],
  ['Observation?code:text=mood', ['o4']],
  ['Observation?code:text=leuk', ['o6']],
  ['Observation?code:text=rate', []],
  ['Observation?status=final', ['o1', 'o3', 'o5', 'o6']],
  ['Observation?status=final,amended', ['o1', 'o2', 'o3', 'o5', 'o6']],
  ['Observation?status:not=final', ['o2', 'o4', 'o7']],
  ['Observation?status=FINAL', []],
  ['Observation?category=vital-signs', ['o1']],
  // code elements (gender) match with or without their system
  ['Patient?gender=female', ['pa', 'pc']],
  [`Patient?gender=${GENDER}|female`, ['pa', 'pc']],
  ['Patient?gender=male,other', ['pb', 'pd']],
  ['Patient?gender:not=female', ['pb', 'pd', 'pe', 'pf']],
  ['Patient?gender:missing=true', ['pf']],
  ['Patient?gender:missing=false', ['pa', 'pb', 'pc', 'pd', 'pe']],
  ['Patient?active=true', ['pa']],
  ['Patient?active=false', ['pb']],
  ['Patient?active:missing=true', ['pc', 'pd', 'pe', 'pf']],
  // identifiers
  ['Patient?identifier=9434765919', ['pa']],
  [`Patient?identifier=${NHS_SYSTEM}|9434765919`, ['pa']],
  [`Patient?identifier=${MRN}|9434765919`, []],
  [`Patient?identifier=${NHS_SYSTEM}|`, ['pa']],
  [`Patient?identifier=${MRN}|`, ['pa', 'pb']],
  ['Patient?identifier=|X1', ['pc']],
  ['Patient?identifier=X1', ['pc']],
  // an identifier without a system does not match system|value
  [`Patient?identifier=${MRN}|X1`, []],
  [`Patient?identifier=${NHS_SYSTEM}|X1`, []],
  [`Patient?identifier=${MRN}|A-1,${MRN}|B-2`, ['pa', 'pb']],
  ['Patient?phone=02079460000', ['pa']],
  // meta: _tag (token), _profile (uri)
  ['Patient?_tag=http://example.org/tags|vip', ['pa']],
  ['Patient?_tag=vip', ['pa']],
  ['Patient?_tag:not=vip', ['pb', 'pc', 'pd', 'pe', 'pf']],
  ['Patient?_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient', ['pa']],
  ['Patient?_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore', []],

  // string: starts-with, folded case and accents, :exact, :contains
  ['Patient?family=ecl', ['pa', 'pb']],
  ['Patient?family=ÉCL', ['pa', 'pb']],
  ['Patient?family=eclair', ['pa']],
  ['Patient?family=Eclair', ['pa']],
  ['Patient?family=clair', []],
  ['Patient?family=smith', ['pc', 'pd']],
  ['Patient?family=SMITHS', ['pd']],
  ['Patient?family:exact=Smith', ['pc']],
  ['Patient?family:exact=smith', []],
  ['Patient?family:exact=Smit', []],
  ['Patient?family:exact=Éclair', ['pa']],
  ['Patient?family:exact=Eclair', []],
  ['Patient?family:contains=mith', ['pc', 'pd']],
  ['Patient?family:contains=BRIE', ['pe']],
  ['Patient?family:contains=lai', ['pa']],
  ['Patient?family:contains=xyz', []],
  ['Patient?given=zoe', ['pa']],
  ['Patient?given=siobhan', ['pe']],
  ['Patient?given=an', ['pc']],
  ['Patient?name=marie', ['pa']],
  ['Patient?name=house', []],
  ['Patient?name=smith,ecl', ['pa', 'pb', 'pc', 'pd']],
  ['Patient?family=smith&given=john', ['pd']],
  ['Patient?family=smith&family=smithson', ['pd']],
  ['Patient?family=lee\\,ann', ['pf']],
  ['Patient?family:exact=Lee\\,Ann', ['pf']],
  ['Patient?family:exact=Lee,Ann', []],
  ['Patient?address-city=lon', ['pa']],
  ['Patient?address=leeds', ['pb']],
  ['Patient?address-postalcode=n19 5', ['pa']],
  ['Observation?value-string=feel', ['o4']],
  ['Organization?name=whittington', ['org1', 'org2']],
  ['Organization?name=whittington c', ['org2']],

  // date: partial dates are ranges; every prefix
  ['Patient?birthdate=1980', ['pa', 'pb']],
  ['Patient?birthdate=1980-05', ['pa']],
  ['Patient?birthdate=1980-05-17', ['pa']],
  ['Patient?birthdate=eq1980-05-17', ['pa']],
  ['Patient?birthdate=ne1980-05-17', ['pb', 'pc', 'pd', 'pe']],
  ['Patient?birthdate=gt1980-05-17', ['pb', 'pd', 'pe']],
  ['Patient?birthdate=ge1980-05-17', ['pa', 'pb', 'pd', 'pe']],
  ['Patient?birthdate=lt1980-05-17', ['pc']],
  ['Patient?birthdate=le1980-05-17', ['pa', 'pc']],
  ['Patient?birthdate=ge1980-05', ['pa', 'pb', 'pd', 'pe']],
  ['Patient?birthdate=gt1980-05', ['pb', 'pd', 'pe']],
  ['Patient?birthdate=lt1980', ['pc']],
  ['Patient?birthdate=gt1980', ['pd', 'pe']],
  ['Patient?birthdate=sa1980-05-17', ['pb', 'pd', 'pe']],
  ['Patient?birthdate=eb1980-06-01', ['pa', 'pc']],
  // pc was born in 1975 (no month): the range 1975-01-01..1975-12-31
  ['Patient?birthdate=1975', ['pc']],
  ['Patient?birthdate=1975-06-01', []],
  ['Patient?birthdate=ge1975-06-01', ['pa', 'pb', 'pc', 'pd', 'pe']],
  ['Patient?birthdate=lt1975-06-01', ['pc']],
  ['Patient?birthdate=sa1975-06', ['pa', 'pb', 'pd', 'pe']],
  ['Patient?birthdate=eb1975-06-01', []],
  ['Patient?birthdate=ap2001-02-01', ['pd']],
  ['Patient?birthdate=ge1980&birthdate=lt1981', ['pa', 'pb']],
  ['Patient?birthdate=lt1976,gt2000', ['pc', 'pd']],
  ['Patient?birthdate:missing=true', ['pf']],
  ['Patient?death-date=2020', ['pc']],
  ['Patient?death-date=le2019', []],
  ['Observation?date=2024-02', ['o1', 'o4']],
  ['Observation?date=2024-02-29', ['o4']],
  ['Observation?date=2024-03-01', []],
  ['Observation?date=2024-03-03', ['o6']],
  ['Observation?date=2024-03', ['o2', 'o6']],
  ['Observation?date=ge2024-03-02', ['o2', 'o6']],
  ['Observation?date=gt2024-03-04', ['o2']],
  ['Observation?date=lt2024-01-01', ['o3', 'o7']],
  ['Observation?date=le2023-12-31', ['o3', 'o7']],
  ['Observation?date=2024-02-10T10:00:00Z', ['o1']],
  ['Observation?date=2024-02-10T11:00:00+01:00', ['o1']],
  ['Observation?date=2024-02-10T10:00:01Z', []],
  ['Observation?date=sa2024-02-29', ['o2', 'o6']],
  ['Observation?date=eb2024-03-01', ['o1', 'o3', 'o4', 'o7']],
  ['Observation?date=ne2024-02', ['o2', 'o3', 'o6', 'o7']],
  ['Observation?date=ge2024-01-01&date=lt2024-03', ['o1', 'o4']],
  ['Observation?date=2022,2023', ['o3', 'o7']],
  ['Observation?date:missing=true', ['o5']],
  // a Period without an end is ongoing; without a start, open to the past
  ['Encounter?date=ge2025-01-01', ['enc-open']],
  ['Encounter?date=gt2030', ['enc-open']],
  ['Encounter?date=lt2023-01-01', ['enc-endonly']],
  ['Encounter?date=2024-01', ['enc-closed']],
  ['Encounter?date=2024-01-02', []],
  ['Encounter?date=le2024-01-01', ['enc-endonly']],
  ['Encounter?date=le2024-01-02', ['enc-closed', 'enc-endonly', 'enc-open']],
  ['Encounter?date=sa2023-12-31', ['enc-closed', 'enc-open']],
  ['Encounter?date=eb2024-01-04', ['enc-closed', 'enc-endonly']],
  ['Observation?date:missing=false', ['o1', 'o2', 'o3', 'o4', 'o6', 'o7']],

  // quantity: prefixes, implicit precision, units
  ['Observation?value-quantity=72', ['o1']],
  ['Observation?value-quantity=72.0', ['o1']],
  ['Observation?value-quantity=1.5', ['o3']],
  ['Observation?value-quantity=1.55', ['o6']],
  ['Observation?value-quantity=1.50', ['o3']],
  ['Observation?value-quantity=1e2', ['o1', 'o2', 'o5']],
  ['Observation?value-quantity=gt70', ['o1', 'o2', 'o5']],
  ['Observation?value-quantity=ge72', ['o1', 'o5']],
  ['Observation?value-quantity=gt72', ['o5']],
  ['Observation?value-quantity=lt1.55', ['o3']],
  ['Observation?value-quantity=le70.5', ['o2', 'o3', 'o6', 'o7']],
  ['Observation?value-quantity=ne72', ['o2', 'o3', 'o5', 'o6', 'o7']],
  ['Observation?value-quantity=ap75', ['o1', 'o2']],
  [`Observation?value-quantity=70.5|${UCUM}|kg`, ['o2']],
  [`Observation?value-quantity=70.5|${UCUM}|g`, []],
  ['Observation?value-quantity=70.5||kg', ['o2']],
  ['Observation?value-quantity=gt1||/min', ['o1', 'o5']],
  [`Observation?value-quantity=37.2|${UCUM}|Cel`, ['o7']],
  ['Observation?value-quantity=gt1&value-quantity=lt50', ['o3', 'o6', 'o7']],
  ['Observation?value-quantity=gt1.5&value-quantity=lt37.2', ['o6']],
  ['Observation?value-quantity:missing=true', ['o4']],

  // reference
  ['Observation?subject=Patient/pa', ['o1', 'o2']],
  ['Observation?subject=pa', ['o1', 'o2']],
  ['Observation?subject:Patient=pa', ['o1', 'o2']],
  ['Observation?patient=pa', ['o1', 'o2']],
  ['Observation?patient=Patient/pa', ['o1', 'o2']],
  ['Observation?subject=Patient/pb', ['o3', 'o7']],
  ['Observation?subject=Patient/pa,Patient/pd', ['o1', 'o2', 'o6']],
  ['Observation?subject=Patient/nobody', []],
  ['Observation?subject=Group/pa', []],
  [`Observation?subject:identifier=${NHS_SYSTEM}|9434765919`, ['o5']],
  [`Observation?subject:identifier=${MRN}|A-1`, []],
  ['Observation?performer=Practitioner/pr1', ['o1']],
  ['Observation?performer=org2', ['o6']],
  ['Observation?performer:Organization=org2', ['o6']],
  ['Observation?performer:Practitioner=org2', []],
  ['Patient?general-practitioner=Practitioner/pr1', ['pa']],
  ['Patient?general-practitioner=pr1', ['pa']],
  ['Patient?organization=org1', ['pa']],
  ['Patient?link=pa', ['pd']],
  ['Organization?partof=org1', ['org2']],
  ['Observation?performer:missing=true', ['o2', 'o3', 'o4', 'o5', 'o7']],

  // uri: exact
  ['Questionnaire?url=http://example.org/q/phq9', ['q1']],
  ['Questionnaire?url=http://example.org/q', []],
  ['Questionnaire?url=http://example.org/q/phq9-extended', ['q2']],

  // chains, one level
  ['Observation?subject:Patient.name=ecl', ['o1', 'o2', 'o3', 'o7']],
  ['Observation?patient.family=smith', ['o4', 'o6']],
  [`Observation?patient.identifier=${NHS_SYSTEM}|9434765919`, ['o1', 'o2']],
  ['Observation?subject:Patient.birthdate=lt1980', ['o4']],
  ['Observation?subject:Patient.gender=female&code=8867-4', ['o1']],
  ['Observation?performer:Practitioner.family=house', ['o1']],
  ['Observation?performer:Organization.name=whittington', ['o6']],
  ['Patient?general-practitioner:Practitioner.family=hou', ['pa']],
  ['Patient?organization.name=whittington', ['pa']],
  ['Patient?organization.identifier=RKE', ['pa']],
  ['Organization?partof.name=whittington h', ['org2']],

  // _has, one level
  ['Patient?_has:Observation:subject:code=8867-4', ['pa']],
  [`Patient?_has:Observation:patient:code=${LOINC}|29463-7`, ['pa']],
  ['Patient?_has:Condition:subject:code=195967001', ['pa']],
  ['Patient?_has:Observation:subject:status=cancelled', ['pb']],
  ['Patient?_has:Observation:subject:value-quantity=lt2', ['pb', 'pd']],
  ['Patient?_has:Observation:subject:code=8867-4&gender=male', []],
  ['Patient?_has:Observation:subject:date=2024', ['pa', 'pc', 'pd']],
  ['Practitioner?_has:Observation:performer:status=final', ['pr1']],
  ['Organization?_has:Patient:organization:family=ecl', ['org1']],

  // _id, _lastUpdated and combinations
  ['Patient?_id=pa,pb', ['pa', 'pb']],
  ['Patient?_id=o1', []],
  ['Patient?_id=pa&family=smith', []],
  ['Patient?_id=pa,pc&family=smith', ['pc']],
  ['Observation?subject=pa&code=8867-4', ['o1']],
  ['Observation?subject=pa,pb&status=final', ['o1', 'o3']],
  ['Observation?code=8867-4&status=final&value-quantity=gt80', ['o5']],

  // only the current version of a resource is searched; deleted ones never
  ['Practitioner?family=before', []],
  ['Practitioner?family=after', ['prx']],
  ['Practitioner?family=gone', []],
  ['Practitioner?_id=prz', []],
];

for (const [query, want] of CASES) {
  test(`${query} → [${want.join(', ')}]`, async () => {
    assert.deepEqual(await searchIds(query), [...want].sort(), `GET ${query}`);
    assert.deepEqual(await searchIds(query, { method: 'POST' }), [...want].sort(), `POST _search ${query}`);
  });
}

test('a reference by the absolute URL of this server is a reference by Type/id', async () => {
  assert.deepEqual(await searchIds(`Observation?subject=${node.fhirBase}/Patient/pa`), ['o1', 'o2']);
  assert.deepEqual(await searchIds(`Observation?subject=${node.fhirBase}/Patient/pb`), ['o3', 'o7']);
});

test('a reference by the absolute URL of another server is not a local reference', async () => {
  // Patient/pa on another FHIR server is another person
  assert.deepEqual(await searchIds('Observation?subject=https://elsewhere.example.org/fhir/Patient/pa'), []);
  assert.deepEqual(await searchIds(`Observation?subject=http://127.0.0.1:1/fhir/Patient/pa`), []);
});

test('_lastUpdated with prefixes', async () => {
  const late = await fhir(node, 'GET', 'Practitioner/prl2');
  const stamp = late.json.meta.lastUpdated;
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=gt${lastUpdatedCut}`), ['prl2']);
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=ge${stamp}`), ['prl2']);
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=eq${stamp}`), ['prl2']);
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=${stamp}`), ['prl2']);
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=lt${lastUpdatedCut}`), ['pr1', 'pr2', 'prl1', 'prx']);
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=lt${lastUpdatedCut}&family=ear`), ['prl1']);
  assert.deepEqual(await searchIds(`Patient?_lastUpdated=gt${lastUpdatedCut}`), []);
  assert.deepEqual(await searchIds(`Practitioner?_lastUpdated=gt${lastUpdatedCut}&_lastUpdated=lt2999`), ['prl2']);
});

test('the Bundle: searchset, total, self link with the query, fullUrl and search.mode match', async () => {
  const r = await fhir(node, 'GET', 'Patient?family=smith');
  const b = assertSearchset(r, 'Patient?family=smith');
  assert.equal(b.total, 2);
  assert.equal(linkUrl(b, 'self'), `${node.fhirBase}/Patient?family=smith`);
  assert.equal(linkUrl(b, 'next'), undefined);
  assert.equal(linkUrl(b, 'previous'), undefined);
  assert.deepEqual(b.entry.map((e) => e.fullUrl).sort(), [`${node.fhirBase}/Patient/pc`, `${node.fhirBase}/Patient/pd`]);
  assert.ok(b.entry.every((e) => e.search.mode === 'match'));
  // each match is the stored resource, byte for byte the same as a read
  for (const e of b.entry) {
    const read = await fhir(node, 'GET', `Patient/${e.resource.id}`);
    assert.deepEqual(e.resource, read.json);
  }
  // nothing matches: an empty searchset, total 0, no entry array
  const none = assertSearchset(await fhir(node, 'GET', 'Patient?family=zzz'), 'none');
  assert.equal(none.total, 0);
  assert.equal(none.entry, undefined);
  // no parameters: every resource of the type
  assert.deepEqual(await searchIds('Questionnaire'), ['q1', 'q2']);
});

test('POST _search: form body, also combined with parameters in the URL', async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  let r = await fhir(node, 'POST', 'Patient/_search', { body: 'family=smith&given=jo', headers: form });
  assert.deepEqual(entryRefs(assertSearchset(r, 'POST')), ['Patient/pd']);
  // '+' is a space in a form body
  r = await fhir(node, 'POST', 'Organization/_search', { body: 'name=whittington+c', headers: form });
  assert.deepEqual(entryRefs(assertSearchset(r, 'POST +')), ['Organization/org2']);
  r = await fhir(node, 'POST', 'Patient/_search?family=smith', { body: 'given=an', headers: form });
  assert.deepEqual(entryRefs(assertSearchset(r, 'POST url+body')), ['Patient/pc']);
  // empty body: every resource of the type
  r = await fhir(node, 'POST', 'Questionnaire/_search', { body: '', headers: form });
  assert.deepEqual(entryRefs(assertSearchset(r, 'POST empty')).sort(), ['Questionnaire/q1', 'Questionnaire/q2']);
  // a JSON body is not a form
  assertOutcome(await fhir(node, 'POST', 'Patient/_search', { body: { family: 'smith' } }), 415);
  // unknown parameters are refused in a body as in a URL
  assertOutcome(await fhir(node, 'POST', 'Patient/_search', { body: 'nope=1', headers: form }), 400);
});

// ---- _sort ---------------------------------------------------------------------

const PATIENTS = '_id=pa,pb,pc,pd,pe,pf';
const OBSERVATIONS = '_id=o1,o2,o3,o4,o5,o6,o7';
const SORTS = [
  [`Patient?${PATIENTS}&_sort=family`, ['pa', 'pb', 'pf', 'pe', 'pc', 'pd']],
  [`Patient?${PATIENTS}&_sort=-family`, ['pd', 'pc', 'pe', 'pf', 'pb', 'pa']],
  // missing values sort last in either direction
  [`Patient?${PATIENTS}&_sort=birthdate`, ['pc', 'pa', 'pb', 'pe', 'pd', 'pf']],
  [`Patient?${PATIENTS}&_sort=-birthdate`, ['pd', 'pe', 'pb', 'pa', 'pc', 'pf']],
  [`Patient?${PATIENTS}&_sort=gender,-birthdate`, ['pa', 'pc', 'pb', 'pd', 'pe', 'pf']],
  [`Patient?${PATIENTS}&_sort=-gender,birthdate`, ['pe', 'pd', 'pb', 'pc', 'pa', 'pf']],
  // a repeated _sort adds its keys to the ones before
  [`Patient?${PATIENTS}&_sort=gender&_sort=-birthdate`, ['pa', 'pc', 'pb', 'pd', 'pe', 'pf']],
  [`Patient?${PATIENTS}&_sort=_id`, ['pa', 'pb', 'pc', 'pd', 'pe', 'pf']],
  // several values: ascending by the lowest, descending by the highest (pa: Zoë, Marie)
  ['Patient?_id=pa,pc,pd,pe&_sort=given', ['pc', 'pd', 'pa', 'pe']],
  ['Patient?_id=pa,pc,pd,pe&_sort=-given', ['pa', 'pe', 'pd', 'pc']],
  [`Patient?${PATIENTS}&_sort=-_id`, ['pf', 'pe', 'pd', 'pc', 'pb', 'pa']],
  [`Observation?${OBSERVATIONS}&_sort=value-quantity`, ['o3', 'o6', 'o7', 'o2', 'o1', 'o5', 'o4']],
  [`Observation?${OBSERVATIONS}&_sort=-value-quantity`, ['o5', 'o1', 'o2', 'o7', 'o6', 'o3', 'o4']],
  [`Observation?${OBSERVATIONS}&_sort=date`, ['o7', 'o3', 'o1', 'o4', 'o2', 'o6', 'o5']],
  [`Observation?${OBSERVATIONS}&_sort=-date`, ['o2', 'o6', 'o4', 'o1', 'o3', 'o7', 'o5']],
  [`Observation?${OBSERVATIONS}&_sort=status,-value-quantity`, ['o2', 'o7', 'o5', 'o1', 'o6', 'o3', 'o4']],
  [`Observation?${OBSERVATIONS}&_sort=code`, ['o3', 'o2', 'o6', 'o7', 'o1', 'o5', 'o4']],
  ['Practitioner?_id=prl1,prl2,pr1&_sort=-_lastUpdated', ['prl2', 'prl1', 'pr1']],
  ['Practitioner?_id=prl2,prl1&_sort=_lastUpdated', ['prl1', 'prl2']],
];

for (const [query, want] of SORTS) {
  test(`sort: ${query}`, async () => {
    const [type, params] = query.split('?');
    const b = assertSearchset(await fhir(node, 'GET', `${type}?${wire(params)}`), query);
    assert.deepEqual(entryRefs(b).map((x) => x.split('/')[1]), want);
    // the same order a page at a time
    const ids = [];
    let r = await fhir(node, 'GET', `${type}?${wire(params)}&_count=2`);
    for (let guard = 0; guard < 10; guard++) {
      const page = assertSearchset(r, `${query} paged`);
      ids.push(...entryRefs(page).map((x) => x.split('/')[1]));
      const next = linkUrl(page, 'next');
      if (!next) break;
      r = await fhir(node, 'GET', next.slice(node.base.length));
    }
    assert.deepEqual(ids, want, `${query} two at a time`);
  });
}

test('sort: more than four keys, in one _sort or over several, are refused', async () => {
  for (const q of ['_sort=family,given,birthdate,gender,_id',
                   '_sort=family,given&_sort=birthdate,gender&_sort=_id',
                   '_sort=family,given&_sort=birthdate,gender&_sort=_id,-family&_sort=given,name']) {
    const r = await fhir(node, 'GET', `Patient?${PATIENTS}&${q}`);
    assertOutcome(r, 400);
    assert.match(r.text, /_sort takes at most 4 keys in all/, q);
  }
  // the node still answers, and four keys over two _sort are fine
  const b = assertSearchset(await fhir(node, 'GET', `Patient?${PATIENTS}&_sort=gender,family&_sort=given,_id`), 'four keys');
  assert.equal(entryRefs(b).length, 6);
});

// ---- _include and _revinclude ------------------------------------------------

async function includeSearch(query) {
  const [type, params] = query.split('?');
  const b = assertSearchset(await fhir(node, 'GET', `${type}?${wire(params)}`), query);
  return { match: entryRefs(b, 'match').sort(), include: entryRefs(b, 'include').sort(), bundle: b };
}

const INCLUDES = [
  ['Observation?_id=o1&_include=Observation:subject', ['Observation/o1'], ['Patient/pa']],
  ['Observation?_id=o1&_include=Observation:patient', ['Observation/o1'], ['Patient/pa']],
  ['Observation?_id=o1&_include=Observation:performer:Practitioner', ['Observation/o1'], ['Practitioner/pr1']],
  ['Observation?_id=o6&_include=Observation:performer:Practitioner', ['Observation/o6'], []],
  ['Observation?_id=o1,o6&_include=Observation:*', ['Observation/o1', 'Observation/o6'],
    ['Organization/org2', 'Patient/pa', 'Patient/pd', 'Practitioner/pr1']],
  ['Observation?_id=o1,o6&_include=Observation:subject&_include=Observation:performer', ['Observation/o1', 'Observation/o6'],
    ['Organization/org2', 'Patient/pa', 'Patient/pd', 'Practitioner/pr1']],
  // the subject of two matches is included once
  ['Observation?subject=pa&_include=Observation:subject', ['Observation/o1', 'Observation/o2'], ['Patient/pa']],
  // an absolute reference to this server is followed too
  ['Observation?_id=o7&_include=Observation:subject', ['Observation/o7'], ['Patient/pb']],
  // a reference by identifier only leads nowhere
  ['Observation?_id=o5&_include=Observation:subject', ['Observation/o5'], []],
  ['Patient?_id=pa&_revinclude=Observation:subject', ['Patient/pa'], ['Observation/o1', 'Observation/o2']],
  ['Patient?_id=pa&_revinclude=Observation:subject&_revinclude=Condition:subject', ['Patient/pa'],
    ['Condition/c1', 'Observation/o1', 'Observation/o2']],
  ['Patient?_id=pb&_revinclude=Observation:subject', ['Patient/pb'], ['Observation/o3', 'Observation/o7']],
  ['Patient?_id=pa&_include=Patient:general-practitioner&_include=Patient:organization', ['Patient/pa'],
    ['Organization/org1', 'Practitioner/pr1']],
  ['Patient?_id=pd&_include=Patient:link', ['Patient/pd'], ['Patient/pa']],
  ['Organization?_id=org2&_include=Organization:partof', ['Organization/org2'], ['Organization/org1']],
  // a resource that is a match is not repeated as an include
  ['Organization?_id=org1,org2&_include=Organization:partof', ['Organization/org1', 'Organization/org2'], []],
  ['Practitioner?_id=pr1&_revinclude=Observation:performer&_revinclude=Patient:general-practitioner', ['Practitioner/pr1'],
    ['Observation/o1', 'Patient/pa']],
  // :iterate follows includes of included resources
  ['Observation?_id=o1&_include=Observation:subject&_include:iterate=Patient:general-practitioner', ['Observation/o1'],
    ['Patient/pa', 'Practitioner/pr1']],
  ['Patient?_id=pa&_revinclude=Observation:subject&_include:iterate=Observation:performer', ['Patient/pa'],
    ['Observation/o1', 'Observation/o2', 'Practitioner/pr1']],
  ['Organization?_id=oc6&_revinclude:iterate=Organization:partof', ['Organization/oc6'],
    ['Organization/oc0', 'Organization/oc1', 'Organization/oc2', 'Organization/oc3', 'Organization/oc4', 'Organization/oc5']],
  // every level, however deep (here six)
  ['Organization?_id=oc0&_include:iterate=Organization:partof', ['Organization/oc0'],
    ['Organization/oc1', 'Organization/oc2', 'Organization/oc3', 'Organization/oc4', 'Organization/oc5', 'Organization/oc6']],
  // includes come with the matches they belong to, not alone
  ['Observation?_id=nothing&_include=Observation:subject', [], []],
];

for (const [query, match, include] of INCLUDES) {
  test(`include: ${query}`, async () => {
    const got = await includeSearch(query);
    assert.deepEqual(got.match, match, 'matches');
    assert.deepEqual(got.include, include, 'includes');
    assert.equal(got.bundle.total, match.length, 'total counts the matches only');
    // included resources are the stored resources
    for (const e of got.bundle.entry || []) {
      if (e.search.mode !== 'include') continue;
      const read = await fhir(node, 'GET', `${e.resource.resourceType}/${e.resource.id}`);
      assert.deepEqual(e.resource, read.json);
    }
  });
}

// ---- _summary, _total, _elements, _count ---------------------------------------

test('_summary=count: the total, no entries', async () => {
  let b = assertSearchset(await fhir(node, 'GET', 'Observation?subject=pa&_summary=count'), 'count');
  assert.equal(b.total, 2);
  assert.equal(b.entry, undefined);
  b = assertSearchset(await fhir(node, 'GET', 'Observation?_summary=count'), 'count all');
  assert.equal(b.total, 7);
  assert.equal(b.entry, undefined);
  b = assertSearchset(await fhir(node, 'GET', 'Observation?subject=pa&_summary=count&_include=Observation:subject'), 'count+include');
  assert.equal(b.total, 2);
  assert.equal(b.entry, undefined);
  b = assertSearchset(await fhir(node, 'GET', 'Observation?code=nothing&_summary=count'), 'count 0');
  assert.equal(b.total, 0);
});

test('_total=none leaves total out; accurate gives it', async () => {
  let b = assertSearchset(await fhir(node, 'GET', 'Observation?subject=pa&_total=none'), 'none');
  assert.equal(b.total, undefined);
  assert.deepEqual(entryRefs(b).sort(), ['Observation/o1', 'Observation/o2']);
  b = assertSearchset(await fhir(node, 'GET', 'Observation?subject=pa&_total=accurate'), 'accurate');
  assert.equal(b.total, 2);
  b = assertSearchset(await fhir(node, 'GET', 'Observation?subject=pa&_total=accurate&_count=1'), 'accurate paged');
  assert.equal(b.total, 2, 'total counts every match, not the page');
  assert.equal(b.entry.length, 1);
});

test('_elements: only the elements asked for (plus the mandatory ones), marked SUBSETTED', async () => {
  const b = assertSearchset(await fhir(node, 'GET', 'Observation?_id=o1,o4&_elements=code,status&_include=Observation:subject'), 'elements');
  const matches = b.entry.filter((e) => e.search.mode === 'match');
  assert.equal(matches.length, 2);
  for (const e of matches) {
    const full = (await fhir(node, 'GET', `Observation/${e.resource.id}`)).json;
    const r = e.resource;
    assert.deepEqual(Object.keys(r).sort(), ['code', 'id', 'meta', 'resourceType', 'status']);
    assert.deepEqual(r.code, full.code);
    assert.equal(r.status, full.status);
    assert.equal(r.meta.versionId, full.meta.versionId);
    assert.ok(r.meta.tag?.some((t) => t.code === 'SUBSETTED' && t.system === 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue'),
      `meta.tag SUBSETTED: ${JSON.stringify(r.meta)}`);
  }
  // the included Patients (subjects of o1 and o4) are there, whole
  const inc = b.entry.filter((e) => e.search.mode === 'include');
  assert.deepEqual(inc.map((e) => e.resource.id).sort(), ['pa', 'pc']);
  for (const e of inc) assert.ok(e.resource.name && e.resource.gender, 'an include is not subsetted');
});

test('_elements keeps the mandatory elements, so a subset is still valid R4', async () => {
  // Observation.status and .code are 1..1: asked for value[x] only, the
  // server still returns them (fhir() validates the Bundle against the
  // R4 schema, which requires them)
  const v = assertSearchset(await fhir(node, 'GET', 'Observation?_id=o4&_elements=valueString,valueQuantity'), 'elements choice');
  const r = v.entry[0].resource;
  assert.equal(r.valueString, 'Feeling good');
  assert.equal(r.valueQuantity, undefined, 'an element the resource does not have is simply absent');
  assert.equal(r.subject, undefined, 'an element not asked for is left out');
  assert.equal(r.status, 'preliminary');
  assert.deepEqual(r.code, { text: 'Mood' });
});

test('_count: a page of that many, a next link, the total of all', async () => {
  const b = assertSearchset(await fhir(node, 'GET', 'Patient?_count=2&_sort=_id'), 'count');
  assert.equal(b.total, 6);
  assert.deepEqual(entryRefs(b), ['Patient/pa', 'Patient/pb']);
  const next = linkUrl(b, 'next');
  assert.ok(next, 'a next link');
  assert.match(next, /_count=2/);
  assert.match(next, /_sort=_id/);
  const zero = assertSearchset(await fhir(node, 'GET', 'Patient?_count=0'), 'count 0');
  assert.equal(zero.total, 6);
  assert.equal(zero.entry, undefined);
});

// ---- unknown parameters: 400, or ignored and reported under lenient handling --

test('an unknown parameter is a 400 naming it', async () => {
  const r = await fhir(node, 'GET', 'Patient?family=smith&nope=1');
  const oo = assertOutcome(r, 400);
  assert.match(oo.issue[0].diagnostics, /nope/);
  assertOutcome(await fhir(node, 'GET', 'Patient?family=smith&nope=1', { headers: { prefer: 'handling=strict' } }), 400);
});

test('Prefer: handling=lenient ignores an unknown parameter and says so in the Bundle', async () => {
  const r = await fhir(node, 'GET', 'Patient?family=smith&nope=1&also-unknown=2', { headers: { prefer: 'handling=lenient' } });
  const b = assertSearchset(r, 'lenient');
  assert.deepEqual(entryRefs(b).sort(), ['Patient/pc', 'Patient/pd'], 'the known parameters still apply');
  assert.equal(b.total, 2);
  const outcomes = b.entry.filter((e) => e.search.mode === 'outcome');
  assert.equal(outcomes.length, 1, 'one OperationOutcome entry');
  const text = outcomes[0].resource.issue.map((i) => i.diagnostics).join(' ');
  assert.match(text, /nope/);
  assert.match(text, /also-unknown/);
  assert.ok(outcomes[0].resource.issue.every((i) => ['warning', 'information'].includes(i.severity)));
  // the self link does not pretend the ignored parameter was used
  assert.doesNotMatch(linkUrl(b, 'self'), /nope|also-unknown/);
  assert.match(linkUrl(b, 'self'), /family=smith/);
  // lenient does not turn a bad value of a known parameter into a match-all
  assertOutcome(await fhir(node, 'GET', 'Patient?birthdate=notadate', { headers: { prefer: 'handling=lenient' } }), 400);
});

// ---- bad searches --------------------------------------------------------------

const BAD = [
  ['Patient?nope=1', /nope/],
  ['Patient?family:text=x', /text/],
  ['Patient?family:nonsense=x', /nonsense/],
  ['Patient?gender:contains=f', /contains/],
  ['Patient?birthdate=notadate', /birthdate/],
  ['Patient?birthdate=2024-13', /birthdate/],
  ['Patient?birthdate=xx2024', /birthdate/],
  ['Observation?value-quantity=abc', /value-quantity/],
  ['Observation?value-quantity=5|kg', /value-quantity/],
  ['Patient?family=', /family/],
  ['Patient?active:missing=maybe', /missing/],
  ['Observation?subject=Organization/org1', /subject/],
  ['Patient?_count=abc', /_count/],
  ['Patient?_count=-1', /_count/],
  ['Patient?_total=maybe', /_total/],
  ['Patient?_sort=nope', /nope/],
  ['Patient?_sort=general-practitioner', /general-practitioner/],
  ['Patient?_page=garbage', /_page|cursor/],
  ['Observation?subject.name=x', /subject:Patient\.name/],
  ['Observation?subject:Patient.organization.name=x', /one level|chain/],
  ['Observation?subject:Patient.nope=x', /nope/],
  ['Observation?status.name=x', /chain|reference/],
  ['Patient?_has:Observation:code:status=final', /code/],
  ['Patient?_has:Observation:subject', /_has/],
  ['Patient?_has:Nope:subject:code=x', /Nope/],
  ['Observation?_include=Observation:nope', /nope/],
  ['Observation?_include=Observation:subject:Organization', /Organization/],
  ['Observation?_include=Observation', /_include/],
  ['Observation?_include=Patient:general-practitioner', /_include/],
  ['Patient?_revinclude=Organization:partof', /partof/],
];

for (const [query, diag] of BAD) {
  test(`400: ${query}`, async () => {
    const [type, params] = query.split('?');
    const oo = assertOutcome(await fhir(node, 'GET', `${type}?${wire(params)}`), 400);
    assert.match(oo.issue[0].diagnostics, diag);
  });
}
