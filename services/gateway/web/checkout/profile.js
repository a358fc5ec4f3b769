// The profile form's rules, the same as the user service's (bnpl_user profiles/schemas.py and
// service.py): a field the server would refuse is refused here first, with the same limits.

import { COUNTRY_CODES } from "./countries.js";
import { parseAmount } from "./money.js";

export const MIN_AGE = 18;
export const MAX_AGE = 120;
const E164 = /^\+[1-9][0-9]{7,14}$/;
const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

export const HOUSING = [
  ["OWNER", "I own my home"],
  ["RENT", "I rent"],
  ["PARENTS", "I live with my parents"],
  ["OTHER", "Other"],
];
export const EMPLOYMENT = [
  ["FIXED", "Employed, permanent contract"],
  ["PART_TIME", "Employed, part time"],
  ["FREELANCE", "Self-employed"],
  ["OTHER", "Other"],
];
export const MONEY_FIELDS = ["monthlyIncome", "monthlyExpenses", "assets", "debt"];

/** "+44 7700 900123" -> "+447700900123": spaces, dots, dashes and brackets are only layout. */
export function normalisePhone(text) {
  return String(text).replace(/[\s().-]/g, "");
}

function ageOn(born, today) {
  const [by, bm, bd] = born;
  const [ty, tm, td] = today;
  return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
}

function text(errors, values, name, { min = 1, max, label }) {
  const value = (values[name] || "").trim();
  if (value.length < min) errors[name] = `Enter your ${label}.`;
  else if (value.length > max) errors[name] = `Use at most ${max} characters.`;
  return value;
}

/**
 * Validate raw form values (strings). Returns { input, errors }: input is the ProfileInput
 * for GraphQL when errors is empty; errors maps a field name to a sentence.
 */
export function validateProfile(values, { currency, email, today = new Date() }) {
  const errors = {};
  const input = {};
  input.givenName = text(errors, values, "givenName", { max: 100, label: "first name" });
  input.familyName = text(errors, values, "familyName", { max: 100, label: "last name" });

  const dob = (values.dateOfBirth || "").trim();
  const born = ISO_DATE.test(dob) ? dob.split("-").map(Number) : null;
  const check = born && new Date(Date.UTC(born[0], born[1] - 1, born[2]));
  if (!born || check.getUTCMonth() !== born[1] - 1 || check.getUTCDate() !== born[2]) {
    errors.dateOfBirth = "Enter your date of birth.";
  } else {
    const now = [today.getFullYear(), today.getMonth() + 1, today.getDate()];
    const age = ageOn(born, now);
    if (dob > now.map((n, i) => String(n).padStart(i ? 2 : 4, "0")).join("-")) {
      errors.dateOfBirth = "The date is in the future.";
    } else if (age < MIN_AGE) errors.dateOfBirth = `You must be at least ${MIN_AGE} to use pay later.`;
    else if (age > MAX_AGE) errors.dateOfBirth = "Check the year of your date of birth.";
  }
  input.dateOfBirth = dob;

  input.phoneNumber = normalisePhone(values.phoneNumber || "");
  if (!E164.test(input.phoneNumber)) {
    errors.phoneNumber = "Enter your mobile number with its country code, e.g. +44 7700 900123.";
  }

  const address = {};
  address.line1 = text(errors, values, "address.line1", { max: 200, label: "street address" });
  address.line2 = text(errors, values, "address.line2", { min: 0, max: 200 }) || null;
  address.city = text(errors, values, "address.city", { max: 100, label: "town or city" });
  address.region = text(errors, values, "address.region", { min: 0, max: 100 }) || null;
  address.postalCode = text(errors, values, "address.postalCode", { max: 20, label: "postcode" });
  address.country = values["address.country"] || "";
  if (!COUNTRY_CODES.includes(address.country)) errors["address.country"] = "Choose your country.";
  input.address = address;

  for (const name of MONEY_FIELDS) {
    const raw = (values[name] || "").trim();
    const amount = raw === "" ? null : parseAmount(raw, currency);
    if (amount === null) errors[name] = `Enter an amount in ${currency}, e.g. 1500 or 1500.50 (0 if none).`;
    input[name] = { amount: amount ?? 0, currency };
  }

  input.housing = values.housing || "";
  if (!HOUSING.some(([v]) => v === input.housing)) errors.housing = "Choose one.";
  input.employment = values.employment || "";
  if (!EMPLOYMENT.some(([v]) => v === input.employment)) errors.employment = "Choose one.";

  const years = (values.employmentYears || "").trim();
  if (!/^\d{1,2}$/.test(years) || Number(years) > 70) errors.employmentYears = "Enter a whole number of years, 0 to 70.";
  input.employmentYears = /^\d{1,2}$/.test(years) ? Number(years) : 0;

  if (email) input.email = email;
  return { input, errors };
}

/** A server error's field ("input.address.postalCode", "input.debt.amount") -> a form field name. */
export function formField(serverField) {
  if (!serverField) return null;
  const path = serverField.replace(/^input\./, "");
  const money = MONEY_FIELDS.find((name) => path === name || path.startsWith(`${name}.`));
  return money || path;
}
