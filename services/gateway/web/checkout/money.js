// Money is integer minor units plus an ISO 4217 currency. Display and parsing go through
// strings of digits: no floating-point arithmetic touches an amount.

const LOCALE = navigator.language || "en";

/** The currency's minor-unit exponent (EUR 2, JPY 0), as Intl knows it. */
export function exponent(currency) {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
}

/** "12345" EUR -> "12.345,00 €" or "€12,345.00" depending on the browser's locale. */
export function formatMoney(money, locale = LOCALE) {
  const exp = exponent(money.currency);
  const negative = money.amount < 0;
  const digits = String(Math.abs(money.amount)).padStart(exp + 1, "0");
  const decimal = exp ? `${digits.slice(0, -exp)}.${digits.slice(-exp)}` : digits;
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: money.currency,
    minimumFractionDigits: exp,
    maximumFractionDigits: exp,
  });
  // Intl formats decimal strings exactly (no conversion to a float).
  return format.format(`${negative ? "-" : ""}${decimal}`);
}

/**
 * "4500", "4,500.50" or "4500,5" typed by a person -> minor units (integer), or null when the
 * text is not an amount with at most the currency's number of decimals.
 */
export function parseAmount(text, currency) {
  const exp = exponent(currency);
  let value = String(text).trim().replace(/[\s\u00a0']/g, "");
  // One decimal separator at most: the last "." or "," followed by 1..exp digits.
  const match = value.match(/^(\d{1,3}(?:[.,]\d{3})+|\d+)(?:([.,])(\d+))?$/);
  if (!match) return null;
  // "4,500" and "1.000" are thousands (groups of three); "4,5" and "12.50" have decimals.
  const [, grouped, , frac = ""] = match;
  const whole = grouped.replace(/[.,]/g, "");
  if (frac.length > exp) return null;
  value = whole + frac.padEnd(exp, "0");
  if (value.length > 13) return null; // beyond the platform's sanity bound
  return Number.parseInt(value, 10);
}

/** "2026-12-12" -> "12 Dec 2026" in the browser's locale (dates are calendar dates, no time zone). */
export function formatDate(isoDate, locale = LOCALE) {
  const [y, m, d] = isoDate.split("-").map((part) => Number.parseInt(part, 10));
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** An ISO timestamp -> local time of day, e.g. "14:05". */
export function formatTime(isoDateTime, locale = LOCALE) {
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(new Date(isoDateTime));
}
