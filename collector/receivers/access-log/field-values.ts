/**
 * Value decoders that read straight from a range of the chunk string, so a numeric or time field never
 * becomes a string of its own. Each returns NaN (or -2 for integers) when the text is not a valid value,
 * letting the caller choose the reject reason.
 */

import { ownedCopy } from "../../../core/text/owned-copy.ts";

const CHAR_0 = 48;
const CHAR_DASH = 45;

/**
 * `text[start, end)` as a string of its own (core/text/owned-copy.ts): for the values held long after their
 * line, such as the request ids caller pairing keeps for its window, which would otherwise keep the whole
 * block of lines they were cut from alive, and in the old generation.
 */
export function detachedSlice(text: string, start: number, end: number): string {
  return ownedCopy(text.slice(start, end));
}

/** A non-negative decimal integer; -2 when any character is not a digit (or the number would lose precision). */
export function parseUnsignedInt(text: string, start: number, end: number): number {
  if (end <= start || end - start > 15) return -2;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - CHAR_0;
    if (digit < 0 || digit > 9) return -2;
    value = value * 10 + digit;
  }
  return value;
}

/** A non-negative decimal with an optional fraction (`12`, `0.5`); NaN when invalid. */
export function parseUnsignedDecimal(text: string, start: number, end: number): number {
  if (end <= start || end - start > 30) return Number.NaN;
  let value = 0;
  let scale = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 && scale === 0) {
      scale = 1;
      continue;
    }
    const digit = code - CHAR_0;
    if (digit < 0 || digit > 9) return Number.NaN;
    digits++;
    if (scale === 0) value = value * 10 + digit;
    else value += digit / (scale *= 10);
  }
  return digits === 0 ? Number.NaN : value;
}

function twoDigits(text: string, at: number): number {
  const high = text.charCodeAt(at) - CHAR_0;
  const low = text.charCodeAt(at + 1) - CHAR_0;
  if (high < 0 || high > 9 || low < 0 || low > 9) return Number.NaN;
  return high * 10 + low;
}

function fourDigits(text: string, at: number): number {
  return twoDigits(text, at) * 100 + twoDigits(text, at + 2);
}

/** Milliseconds from a fraction starting after the dot at `at`; returns [ms, index after the digits]. */
function fractionMs(text: string, at: number, end: number): [number, number] {
  let ms = 0;
  let scale = 100;
  let i = at;
  for (; i < end; i++) {
    const digit = text.charCodeAt(i) - CHAR_0;
    if (digit < 0 || digit > 9) break;
    ms += digit * scale;
    scale /= 10;
  }
  return [i === at ? Number.NaN : Math.floor(ms), i];
}

/**
 * Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil). Plain arithmetic because Date.UTC, called for every line, cost as much as the rest of
 * the time decoding. Days past a month's end roll over into the next month exactly as Date.UTC's do, and a
 * NaN part yields NaN, as it does there.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const marchBasedYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(marchBasedYear / 400);
  const yearOfEra = marchBasedYear - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  // Date.UTC reads years 0-99 as 1900-1999; keep that for such (odd) input rather than differ from it.
  if (year < 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000;
}

/**
 * Envoy's default `%START_TIME%` (`2020-11-25T21:26:18.409Z`, RFC 3339), with an optional `±hh:mm` offset
 * instead of `Z`; plain epoch seconds or milliseconds (`%START_TIME(%s)%`-style formats) are accepted too.
 */
export function parseRfc3339Ms(text: string, start: number, end: number): number {
  const length = end - start;
  if (length >= 9 && length <= 13 && parseUnsignedInt(text, start, end) >= 0) {
    const epoch = parseUnsignedInt(text, start, end);
    return length <= 10 ? epoch * 1000 : epoch;
  }
  if (length < 19 || text.charCodeAt(start + 4) !== CHAR_DASH || text.charCodeAt(start + 7) !== CHAR_DASH) return Number.NaN;
  const separator = text.charCodeAt(start + 10);
  if (separator !== 84 && separator !== 116 && separator !== 32) return Number.NaN; // T, t or space
  let ms = utcMs(
    fourDigits(text, start),
    twoDigits(text, start + 5),
    twoDigits(text, start + 8),
    twoDigits(text, start + 11),
    twoDigits(text, start + 14),
    twoDigits(text, start + 17),
  );
  let i = start + 19;
  if (i < end && text.charCodeAt(i) === 46) {
    const [fraction, after] = fractionMs(text, i + 1, end);
    ms += fraction;
    i = after;
  }
  if (i === end) return ms; // no zone: Envoy always prints one, so treat a bare time as UTC
  const zone = text.charCodeAt(i);
  if ((zone === 90 || zone === 122) && i + 1 === end) return ms; // Z or z
  if ((zone === 43 || zone === CHAR_DASH) && end - i === 6 && text.charCodeAt(i + 3) === 58) {
    const offsetMinutes = twoDigits(text, i + 1) * 60 + twoDigits(text, i + 4);
    return zone === 43 ? ms - offsetMinutes * 60_000 : ms + offsetMinutes * 60_000;
  }
  return Number.NaN;
}

/**
 * MOSN's start time, Go layout `2006/01/02 15:04:05.000`. MOSN prints the proxy's local time without a zone,
 * so the caller says which offset (minutes east of UTC) the proxy ran in.
 */
export function parseMosnTimeMs(text: string, start: number, end: number, utcOffsetMinutes: number): number {
  if (end - start < 19 || text.charCodeAt(start + 4) !== 47 || text.charCodeAt(start + 7) !== 47 || text.charCodeAt(start + 10) !== 32) {
    return Number.NaN;
  }
  let ms = utcMs(
    fourDigits(text, start),
    twoDigits(text, start + 5),
    twoDigits(text, start + 8),
    twoDigits(text, start + 11),
    twoDigits(text, start + 14),
    twoDigits(text, start + 17),
  );
  let i = start + 19;
  if (i < end && text.charCodeAt(i) === 46) {
    const [fraction, after] = fractionMs(text, i + 1, end);
    ms += fraction;
    i = after;
  }
  return i === end ? ms - utcOffsetMinutes * 60_000 : Number.NaN;
}

/**
 * A Go duration unit at `at` as [multiplier, divisor] to milliseconds, so sub-millisecond units divide
 * (1.329µs = 1329 / 1e6 ms, correctly rounded) instead of multiplying by an inexact 1e-3. `µ` is U+00B5;
 * Go also accepts U+03BC.
 */
function goUnit(text: string, at: number, end: number): [number, number, number] {
  const first = text.charCodeAt(at);
  const second = at + 1 < end ? text.charCodeAt(at + 1) : 0;
  if (first === 110 && second === 115) return [1, 1e6, 2]; // ns
  if ((first === 117 || first === 0xb5 || first === 0x3bc) && second === 115) return [1, 1e3, 2]; // us, µs
  if (first === 109 && second === 115) return [1, 1, 2]; // ms
  if (first === 115) return [1000, 1, 1]; // s
  if (first === 109) return [60_000, 1, 1]; // m
  if (first === 104) return [3_600_000, 1, 1]; // h
  return [Number.NaN, 1, 0];
}

/** Go `time.Duration.String()` (`1.329µs`, `2.00000227s`, `1m30.5s`, `0s`) in milliseconds; NaN when invalid. */
export function parseGoDurationMs(text: string, start: number, end: number): number {
  if (end - start === 1 && text.charCodeAt(start) === CHAR_0) return 0;
  if (end === start) return Number.NaN;
  let total = 0;
  let i = start;
  while (i < end) {
    // The number as an integer mantissa and a power of ten, divided once at the end for exact rounding.
    let mantissa = 0;
    let fractionScale = 1;
    let digits = 0;
    let hasDot = false;
    for (; i < end; i++) {
      const code = text.charCodeAt(i);
      if (code === 46 && !hasDot) {
        hasDot = true;
        continue;
      }
      const digit = code - CHAR_0;
      if (digit < 0 || digit > 9) break;
      mantissa = mantissa * 10 + digit;
      if (hasDot) fractionScale *= 10;
      digits++;
    }
    if (digits === 0 || i === end || digits > 17) return Number.NaN;
    const [multiplier, divisor, unitLength] = goUnit(text, i, end);
    if (Number.isNaN(multiplier)) return Number.NaN;
    total += (mantissa * multiplier) / (fractionScale * divisor);
    i += unitLength;
  }
  return total;
}
