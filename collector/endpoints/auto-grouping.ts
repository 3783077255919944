/**
 * Automatic grouping of id-like path segments, so `/users/42/orders/7f3c...` and `/users/43/orders/...`
 * become one endpoint `/users/{id}/orders/{hex}` without any user rule. Classification scans character
 * codes once per segment (no regex, no allocation) because it runs for every uncached path.
 */

export const PLACEHOLDERS = {
  integer: "{id}",
  uuid: "{uuid}",
  hex: "{hex}",
  token: "{token}",
  email: "{email}",
} as const;

/** Below this, an all-hex segment is more likely a word (`cafe`, `beef`) than an id. */
const MIN_HEX_LENGTH = 8;
/** All-hex segments of this length are ids even without a digit (`deadbeefcafebabe`). */
const MIN_LETTERS_ONLY_HEX_LENGTH = 16;
/**
 * Random tokens (base64, ULID, nanoid) are long; slugs are long too but are lowercase words split by
 * dashes, so a long token must either have a long unbroken run or mix upper case, lower case and digits.
 */
const MIN_TOKEN_LENGTH = 16;
const MIN_TOKEN_UNBROKEN_RUN = 12;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isHexLetter(code: number): boolean {
  return (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

function isUuid(text: string, start: number, end: number): boolean {
  if (end - start !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = text.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 45) return false;
    } else if (!isDigit(code) && !isHexLetter(code)) {
      return false;
    }
  }
  return true;
}

function isEmail(text: string, start: number, end: number): boolean {
  let at = -1;
  let lastDot = -1;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code <= 32 || code === 47) return false;
    if (code === 64) {
      if (at !== -1) return false;
      at = i;
    } else if (code === 46) {
      lastDot = i;
    }
  }
  return at > start && lastDot >= at + 2 && lastDot < end - 1;
}

/**
 * Most segments are short lower-case words (`api`, `products`, `reviews`): no id kind can match them
 * (hex needs a digit or 16 letters, tokens need digits, emails an `@`), and this loop is cheaper than
 * the full classification below.
 */
function isShortLowerCaseWord(text: string, start: number, end: number): boolean {
  if (end - start >= MIN_LETTERS_ONLY_HEX_LENGTH) return false;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (!((code >= 97 && code <= 122) || code === 45 || code === 95)) return false;
  }
  return true;
}

/** The placeholder replacing `segment`, or null when the segment looks like a name, not an id. */
export function placeholderFor(segment: string): string | null {
  return placeholderForRange(segment, 0, segment.length);
}

/** placeholderFor on `text[start, end)`, so a path is classified without cutting it into substrings. */
export function placeholderForRange(text: string, start: number, end: number): string | null {
  const length = end - start;
  if (length === 0) return null;
  if (isShortLowerCaseWord(text, start, end)) return null;
  let digits = 0;
  let hexLetters = 0;
  let otherLetters = 0;
  let upperCase = 0;
  let others = 0;
  let unbrokenRun = 0;
  let longestUnbrokenRun = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (isDigit(code)) digits++;
    else if (isHexLetter(code)) hexLetters++;
    else if (isLetter(code)) otherLetters++;
    else if (!(code === 45 || code === 95 || code === 43 || code === 61)) others++; // - _ + = occur in tokens
    if (code >= 65 && code <= 90) upperCase++;
    const isBreak = code === 45 || code === 95;
    unbrokenRun = isBreak ? 0 : unbrokenRun + 1;
    if (unbrokenRun > longestUnbrokenRun) longestUnbrokenRun = unbrokenRun;
  }
  // A plain word (no digit, no @) is the common case and is never an id unless it is a long hex string.
  if (digits === 0 && others === 0 && (otherLetters > 0 || length < MIN_LETTERS_ONLY_HEX_LENGTH)) return null;
  if (digits === length) return PLACEHOLDERS.integer;
  if (others === 0 && otherLetters === 0 && isUuid(text, start, end)) return PLACEHOLDERS.uuid;
  if (digits + hexLetters === length && length >= MIN_HEX_LENGTH && (digits > 0 || length >= MIN_LETTERS_ONLY_HEX_LENGTH)) {
    return PLACEHOLDERS.hex;
  }
  const letters = hexLetters + otherLetters;
  const mixesCase = upperCase > 0 && upperCase < letters;
  if (others === 0 && length >= MIN_TOKEN_LENGTH && digits > 0 && letters > 0 && (longestUnbrokenRun >= MIN_TOKEN_UNBROKEN_RUN || mixesCase)) {
    return PLACEHOLDERS.token;
  }
  if (others > 0 && isEmail(text, start, end)) return PLACEHOLDERS.email;
  return null;
}

/**
 * Replaces id-like segments of `path` (no query string). Returns `path` itself when nothing changes,
 * which is the common case, so the caller can cache one string for both. Segments are classified in
 * place; a new string is built only when one is replaced.
 */
export function groupIdSegments(path: string): string {
  let result: string | null = null;
  let copiedUpTo = 0;
  let start = 0;
  const length = path.length;
  while (start <= length) {
    let end = path.indexOf("/", start);
    if (end === -1) end = length;
    const placeholder = placeholderForRange(path, start, end);
    if (placeholder !== null) {
      result = (result ?? "") + path.slice(copiedUpTo, start) + placeholder;
      copiedUpTo = end;
    }
    start = end + 1;
  }
  if (result === null) return path;
  return copiedUpTo < length ? result + path.slice(copiedUpTo) : result;
}
