// nhs.js: NHS numbers: the Modulus 11 check digit (NHS Data Dictionary)
// and the 3-3-4 display form. No dependencies.

// The ten digits of what a person typed (spaces and dashes allowed), or
// null when it is not ten digits.
export function nhsDigits(input) {
  const s = String(input ?? '').replace(/[\s-]/g, '');
  return /^\d{10}$/.test(s) ? s : null;
}

// True when 's' (ten digits) carries a valid check digit: digits 1-9
// weighted 10..2, check = 11 - (sum mod 11), 11 -> 0, 10 -> invalid.
export function nhsValid(s) {
  const d = nhsDigits(s);
  if (!d) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return false;
  return check === Number(d[9]);
}

// Why 'input' is not a usable NHS number, or '' when it is.
export function nhsProblem(input) {
  const raw = String(input ?? '').trim();
  if (!raw) return 'Enter an NHS number';
  if (/[^\d\s-]/.test(raw)) return 'An NHS number has digits only';
  const d = raw.replace(/[\s-]/g, '');
  if (d.length !== 10) return `An NHS number has 10 digits (you entered ${d.length})`;
  if (!nhsValid(d)) return 'This is not a valid NHS number: check the digits';
  return '';
}

// "9999207847" -> "999 920 7847"; other input is returned unchanged.
export function nhsFormat(s) {
  const d = nhsDigits(s);
  return d ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : String(s ?? '');
}
