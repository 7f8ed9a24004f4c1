/**
 * Sets of characters as the backtracking check (./backtracking.ts) compares them: ASCII as
 * one bit each, and everything past ASCII as one flag. Coarse on purpose: two sets that may
 * share a character outside ASCII are taken to share one, so the check only ever errs
 * towards refusing a pattern.
 */

/** Characters a one-character atom can match: ASCII as bits, anything else as one flag. */
export interface CharSet {
  ascii: boolean[];
  other: boolean;
}

export function emptySet(): CharSet {
  return { ascii: new Array<boolean>(128).fill(false), other: false };
}

export function fullSet(): CharSet {
  return { ascii: new Array<boolean>(128).fill(true), other: true };
}

export function addTo(target: CharSet, set: CharSet): void {
  for (let i = 0; i < 128; i++) if (set.ascii[i]) target.ascii[i] = true;
  if (set.other) target.other = true;
}

export function overlaps(a: CharSet, b: CharSet): boolean {
  if (a.other && b.other) return true;
  return a.ascii.some((bit, i) => bit && b.ascii[i]);
}

export function matches(set: CharSet, code: number): boolean {
  return code >= 128 ? set.other : !!set.ascii[code];
}

export const WORD = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
export const DIGIT = (c: number) => c >= 48 && c <= 57;
export const SPACE = (c: number) => c === 32 || (c >= 9 && c <= 13);

export function setOf(test: (code: number) => boolean, other: boolean): CharSet {
  const set = emptySet();
  for (let i = 0; i < 128; i++) set.ascii[i] = test(i);
  set.other = other;
  return set;
}

export function complement(set: CharSet): CharSet {
  // Anything outside ASCII stays possible: the check only ever errs towards refusing.
  return { ascii: set.ascii.map((bit) => !bit), other: true };
}
