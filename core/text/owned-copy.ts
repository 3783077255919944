/**
 * `text` as a string of its own. V8 makes a substring of 13+ characters a view that keeps its whole parent
 * alive: a value cut from a decoded block of access-log lines (~64 KiB) and kept in a memo, a held call or
 * a sample would keep the whole block. Joining the value to one character and cutting that off copies it
 * into a string of its own. Called where a value starts to outlive its input: on memo misses and for the
 * few fields that are held, never per value read.
 */
export function ownedCopy(text: string): string {
  return text.length < 13 ? text : `#${text}`.slice(1);
}
