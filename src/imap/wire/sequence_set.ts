/**
 * IMAP sequence sets (RFC 3501 §9 `sequence-set`; RFC 4315 `uid-set`; RFC 5182 `$`).
 *
 * A set is a list of ranges whose ends are numbers in 1..2^32-1 or `*`. `*` means "the largest
 * number in use": the message count for sequence numbers, the highest UID for UIDs (RFC 3501
 * §6.4.8: `559:*` always includes the last message even when 559 is larger than every UID).
 * Every query therefore takes `max`, the current largest number; with `max === 0` (an empty
 * mailbox) the set matches nothing, whatever it says. Ranges are unordered (`5:1` = `1:5`).
 *
 * @example
 * ```ts ignore
 * import { compactUidSet, SequenceSet } from "./sequence_set.ts";
 * const set = SequenceSet.parse("3,5:7,*");
 * set.contains(6, 10); // true
 * [...set.values(10)]; // [3, 5, 6, 7, 10]
 * compactUidSet([7, 3, 4, 5, 9]); // "3:5,7,9"
 * ```
 *
 * @module
 */

/** Stands for `*` in a {@link SeqRange}. */
export const STAR = 0;

/** The largest number a sequence set may name (RFC 3501 `nz-number` is 32-bit). */
export const MAX_SEQ_NUMBER = 0xffffffff;

/** One range as written: `start:stop`, or a single number when both are equal; {@link STAR} is `*`. */
export interface SeqRange {
  /** First end as written (1..2^32-1, or 0 for `*`). */
  start: number;
  /** Second end as written (1..2^32-1, or 0 for `*`). */
  stop: number;
}

/** Raised by {@link SequenceSet.parse} for malformed text. */
export class SequenceSetError extends SyntaxError {
  /** Creates the error; `message` says what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "SequenceSetError";
  }
}

function parseSeqNumber(text: string, whole: string): number {
  if (text === "*") return STAR;
  if (!/^[0-9]+$/.test(text)) {
    throw new SequenceSetError(
      `Invalid sequence set "${truncate(whole)}": bad number "${truncate(text)}"`,
    );
  }
  const n = text.length > 10 ? Infinity : Number(text);
  if (n === 0) {
    throw new SequenceSetError(`Invalid sequence set "${truncate(whole)}": 0 is not allowed`);
  }
  if (n > MAX_SEQ_NUMBER) {
    throw new SequenceSetError(
      `Invalid sequence set "${truncate(whole)}": ${truncate(text)} is too large`,
    );
  }
  return n;
}

function truncate(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + "…" : s;
}

function resolveEnd(n: number, max: number): number {
  return n === STAR ? max : n;
}

/** An immutable sequence set. */
export class SequenceSet {
  /** The ranges in the order written. */
  readonly ranges: readonly SeqRange[];
  /** True for the RFC 5182 `$` (the saved search result); {@link ranges} is then empty. */
  readonly isSearchResult: boolean;

  /** Creates a set from ranges (see {@link SequenceSet.parse} for text). */
  constructor(ranges: readonly SeqRange[], isSearchResult = false) {
    this.ranges = ranges.map((r) => ({ start: r.start, stop: r.stop }));
    this.isSearchResult = isSearchResult;
  }

  /**
   * Parses `1`, `1:5`, `5:1`, `1:*`, `*:5`, `*`, `3,5:7,*`; with `allowSearchResult`, also `$`.
   * Throws {@link SequenceSetError} on anything else (empty members, `0`, numbers ≥ 2^32, spaces).
   */
  static parse(text: string, allowSearchResult = false): SequenceSet {
    if (text === "$") {
      if (allowSearchResult) return new SequenceSet([], true);
      throw new SequenceSetError(`Invalid sequence set "$": no saved search result here`);
    }
    if (text === "") throw new SequenceSetError("Invalid sequence set: empty");
    const ranges: SeqRange[] = [];
    for (const member of text.split(",")) {
      if (member === "") {
        throw new SequenceSetError(`Invalid sequence set "${truncate(text)}": empty member`);
      }
      const colon = member.indexOf(":");
      if (colon < 0) {
        const n = parseSeqNumber(member, text);
        ranges.push({ start: n, stop: n });
      } else {
        const start = parseSeqNumber(member.slice(0, colon), text);
        const stop = parseSeqNumber(member.slice(colon + 1), text);
        ranges.push({ start, stop });
      }
    }
    return new SequenceSet(ranges);
  }

  /** Builds a set from numbers, compacted (sorted, de-duplicated, consecutive runs merged). */
  static fromNumbers(numbers: Iterable<number>): SequenceSet {
    return new SequenceSet(compactRanges(numbers, false));
  }

  /** True when some range uses `*`. */
  get hasStar(): boolean {
    return this.ranges.some((r) => r.start === STAR || r.stop === STAR);
  }

  /** The text form: ranges in written order, `a:b` with `*` for {@link STAR}, `$` for a search result. */
  toString(): string {
    if (this.isSearchResult) return "$";
    return this.ranges.map(formatRange).join(",");
  }

  /**
   * A canonical equivalent: ranges without `*` sorted ascending, merged when they overlap or touch
   * (`5:3,4,6` → `3:6`); ranges using `*` are kept after them, each as `n:*` (or `*`).
   */
  normalize(): SequenceSet {
    if (this.isSearchResult) return this;
    const fixed: [number, number][] = [];
    const starred: SeqRange[] = [];
    const starKeys = new Set<string>();
    for (const r of this.ranges) {
      if (r.start === STAR || r.stop === STAR) {
        const n = r.start === STAR ? r.stop : r.start;
        const key = String(n);
        if (!starKeys.has(key)) {
          starKeys.add(key);
          starred.push({ start: n, stop: STAR });
        }
      } else {
        fixed.push([Math.min(r.start, r.stop), Math.max(r.start, r.stop)]);
      }
    }
    const out: SeqRange[] = mergeIntervals(fixed).map(([a, b]) => ({ start: a, stop: b }));
    starred.sort((a, b) =>
      (a.start === STAR ? Infinity : a.start) - (b.start === STAR ? Infinity : b.start)
    );
    return new SequenceSet([...out, ...starred]);
  }

  /**
   * The set resolved against `max` (`*` = max): sorted, merged, non-overlapping `[first, last]`
   * intervals clipped to 1..max. Empty when `max` is 0. Not meaningful for a search result (`$`).
   */
  resolve(max: number): [number, number][] {
    if (max <= 0 || this.isSearchResult) return [];
    const intervals: [number, number][] = [];
    for (const r of this.ranges) {
      const a = resolveEnd(r.start, max);
      const b = resolveEnd(r.stop, max);
      const lo = Math.min(a, b);
      const hi = Math.min(Math.max(a, b), max);
      if (lo <= hi) intervals.push([lo, hi]);
    }
    return mergeIntervals(intervals);
  }

  /** True when `n` (1..max) is in the set with `*` = `max`. */
  contains(n: number, max: number): boolean {
    if (n < 1 || n > max || this.isSearchResult) return false;
    for (const r of this.ranges) {
      const a = resolveEnd(r.start, max);
      const b = resolveEnd(r.stop, max);
      if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
    }
    return false;
  }

  /** The numbers of the set within 1..max, ascending, each once. */
  *values(max: number): Generator<number> {
    for (const [a, b] of this.resolve(max)) {
      for (let n = a; n <= b; n++) yield n;
    }
  }

  /** How many numbers of 1..max the set holds. */
  count(max: number): number {
    let total = 0;
    for (const [a, b] of this.resolve(max)) total += b - a + 1;
    return total;
  }

  /**
   * The largest number named explicitly (not via `*`), or 0. Useful to decide whether a sequence
   * set refers beyond the message count (RFC 3501 says that is an error for sequence numbers).
   */
  maxExplicit(): number {
    let m = 0;
    for (const r of this.ranges) m = Math.max(m, r.start, r.stop);
    return m;
  }
}

function formatRange(r: SeqRange): string {
  const a = r.start === STAR ? "*" : String(r.start);
  if (r.start === r.stop) return a;
  return a + ":" + (r.stop === STAR ? "*" : String(r.stop));
}

function mergeIntervals(intervals: [number, number][]): [number, number][] {
  intervals.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const [a, b] of intervals) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) {
      if (b > last[1]) last[1] = b;
    } else {
      out.push([a, b]);
    }
  }
  return out;
}

function compactRanges(numbers: Iterable<number>, preserveOrder: boolean): SeqRange[] {
  const list: number[] = [];
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_SEQ_NUMBER) {
      throw new RangeError(`Not a valid UID or sequence number: ${n}`);
    }
    list.push(n);
  }
  if (!preserveOrder) {
    list.sort((a, b) => a - b);
  }
  const out: SeqRange[] = [];
  for (const n of list) {
    const last = out[out.length - 1];
    if (last && !preserveOrder && n <= last.stop) continue; // duplicate after sorting
    if (last && n === last.stop + 1) last.stop = n;
    else out.push({ start: n, stop: n });
  }
  return out;
}

/**
 * A compact `uid-set` string for numbers, e.g. for COPYUID/APPENDUID (RFC 4315): `[1,2,3,7]` →
 * `1:3,7`. By default the numbers are sorted and de-duplicated. With `preserveOrder`, the input
 * order is kept and only ascending consecutive runs are merged, so that the n-th UID of a source set
 * still pairs with the n-th UID of a destination set built the same way. Throws `RangeError` for
 * an empty list or a number outside 1..2^32-1 (a server bug, not client input).
 */
export function compactUidSet(numbers: Iterable<number>, preserveOrder = false): string {
  const ranges = compactRanges(numbers, preserveOrder);
  if (ranges.length === 0) throw new RangeError("A UID set cannot be empty");
  return ranges.map(formatRange).join(",");
}
