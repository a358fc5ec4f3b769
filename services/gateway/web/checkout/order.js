// The order the merchant sends the shopper with, read from the link's query string:
//   /checkout/?merchantId=demo-shop&orderReference=1001&amount=12900&currency=EUR
//             &returnUrl=https://shop.example/return&merchantName=Demo%20Shop
// amount is in minor units. The order (never a token) is kept in sessionStorage so that a
// reload or a new sign-in resumes the same checkout.

import { exponent } from "./money.js";

const KEY = "bnpl.order";
const TEXT = /^[\x20-\x7e]{1,128}$/; // the credit service takes 1..128 characters; printable ASCII here

export class OrderError extends Error {}

function allowedReturn(url, returnOrigins) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new OrderError("The shop's return address is not a valid web address.");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new OrderError("The shop's return address must be a web address (http or https).");
  }
  if (parsed.origin !== window.location.origin && !returnOrigins.includes(parsed.origin)) {
    throw new OrderError(`The shop's return address (${parsed.origin}) is not one this checkout may send you back to.`);
  }
  return parsed.toString();
}

/** Validate the query parameters as an order; throws OrderError with a sentence for the shopper. */
export function parseOrder(params, returnOrigins = []) {
  const missing = ["merchantId", "orderReference", "amount", "currency", "returnUrl"].filter((n) => !params.get(n));
  if (missing.length) throw new OrderError(`The link from the shop is missing: ${missing.join(", ")}.`);
  const merchantId = params.get("merchantId");
  const orderReference = params.get("orderReference");
  if (!TEXT.test(merchantId)) throw new OrderError("The shop's merchant id is not valid.");
  if (!TEXT.test(orderReference)) throw new OrderError("The order reference is not valid.");
  const currency = params.get("currency");
  if (!/^[A-Z]{3}$/.test(currency)) throw new OrderError("The currency is not an ISO 4217 code such as EUR.");
  try {
    exponent(currency);
  } catch {
    throw new OrderError(`The currency ${currency} is not known.`);
  }
  const amountText = params.get("amount");
  if (!/^[1-9]\d{0,11}$/.test(amountText)) {
    throw new OrderError("The amount must be a whole number of minor units (cents) above zero.");
  }
  const merchantName = (params.get("merchantName") || merchantId).slice(0, 80);
  return {
    merchantId,
    merchantName,
    orderReference,
    amount: { amount: Number.parseInt(amountText, 10), currency },
    description: (params.get("description") || "").slice(0, 120),
    returnUrl: allowedReturn(params.get("returnUrl"), returnOrigins),
  };
}

export function orderKey(order) {
  return [order.merchantId, order.orderReference, order.amount.amount, order.amount.currency].join("|");
}

export function saveOrder(order) {
  sessionStorage.setItem(KEY, JSON.stringify(order));
}

export function loadOrder() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

/** The merchant's return URL with the outcome added, e.g. ?status=confirmed&planId=... */
export function returnLink(order, outcome) {
  const url = new URL(order.returnUrl);
  url.searchParams.set("orderReference", order.orderReference);
  for (const [name, value] of Object.entries(outcome)) url.searchParams.set(name, value);
  return url.toString();
}
