// The shopper's card: typed on the payment provider's own page (the sandbox PSP's origin
// locally), never on this one, so no card number reaches this page or the platform. "Add a
// card" sends the shopper there; the provider sends them back here with ?setup_intent=<id>,
// and completePaymentMethodSetup keeps what we may keep: brand, last four digits, expiry.

import { h } from "./dom.js";
import * as Q from "./queries.js";

const BACK = "bnpl.cardReturn"; // where to land after the provider's page: "checkout" or "my-plans"
const SETUP_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** "Visa •••• 4242 · expires 12/2034" */
export function cardText(method) {
  const brand = method.brand ? method.brand.charAt(0).toUpperCase() + method.brand.slice(1) : "Card";
  const expiry = method.expMonth ? ` · expires ${String(method.expMonth).padStart(2, "0")}/${method.expYear}` : "";
  return `${brand} •••• ${method.last4}${expiry}`;
}

export async function loadCard(api) {
  const { paymentMethod } = await api.request(Q.PAYMENT_METHOD);
  return paymentMethod;
}

/** Off to the provider's page; it comes back to this page (the checkout's token is in sessionStorage). */
export async function addCard(api, back) {
  sessionStorage.setItem(BACK, back);
  const returnUrl = `${location.origin}${location.pathname}`;
  const { startPaymentMethodSetup: setup } = await api.request(Q.START_CARD_SETUP, { returnUrl });
  if (!setup.pageUrl) throw new Error("this payment provider's card field is not available on this page");
  location.assign(setup.pageUrl);
}

/** The setup the provider sent the shopper back with, if any; the URL is cleaned at once. */
export function takeReturnedSetup() {
  const params = new URLSearchParams(location.search);
  const id = params.get("setup_intent");
  if (!id) return null;
  const back = sessionStorage.getItem(BACK) || "checkout";
  sessionStorage.removeItem(BACK);
  history.replaceState(null, "", `${location.pathname}${back === "my-plans" ? "#my-plans" : ""}`);
  return SETUP_ID.test(id) ? id : null;
}

export async function completeSetup(api, setupId) {
  const { completePaymentMethodSetup } = await api.request(Q.COMPLETE_CARD_SETUP, { id: setupId });
  return completePaymentMethodSetup;
}

/** The card panel: what is on file and a button to add or replace it. */
export function cardPanel(method, onAdd) {
  const button = h("button", { type: "button", class: "secondary", "data-testid": "add-card" }, method ? "Replace card" : "Add a card");
  button.addEventListener("click", onAdd);
  return h(
    "section",
    { class: "card-on-file", "aria-label": "Payment method" },
    h("h2", {}, "Payment method"),
    method
      ? h("p", { "data-testid": "card-on-file" }, cardText(method))
      : h("p", {}, "Add the card your payments are taken from. You type it on our payment provider's page."),
    button,
  );
}
