/**
 * Seconds to wait from a `Retry-After` header, in either of its forms: delta-seconds
 * (`120`) or an HTTP date (`Fri, 20 Nov 2026 10:01:30 GMT`, never less than 0). Undefined
 * when the header is missing or unreadable: each caller says what that means for it.
 * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function parseRetryAfter(header: string | null | undefined, now: Date): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  // Every HTTP-date form names a weekday and a month. Without a letter, Date.parse would
  // read `1.5` or `-1` as a day in 2001, and the caller would retry at once.
  if (!/[A-Za-z]/.test(value)) return undefined;
  const until = Date.parse(value);
  return Number.isNaN(until) ? undefined : Math.max(0, Math.ceil((until - now.getTime()) / 1000));
}
