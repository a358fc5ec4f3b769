// The shopper's card: typed on the payment provider's origin, never on this one, so no card
// number reaches this page or the platform. Locally "Add a card" sends the shopper to the
// sandbox PSP's own page; in AWS (the setup has a clientSecret and no pageUrl) the page mounts
// Stripe's Payment Element (Stripe.js, frames on js.stripe.com) and confirmSetup sends the
// shopper to Stripe's checks, if any, and back. Either way the provider sends them back here with
// ?setup_intent=<id>, and completePaymentMethodSetup keeps what we may keep: brand, last four
// digits, expiry.

import { h, replace } from "./dom.js";
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

/** What the shopper reads when the provider's card field cannot be shown. */
export class CardFieldUnavailable extends Error {}

/**
 * Start saving a card; it comes back to this page (the checkout's token is in sessionStorage).
 * The sandbox: off to its page (null). Stripe: what mountPaymentElement needs.
 */
export async function addCard(api, back, stripeConfig) {
  sessionStorage.setItem(BACK, back);
  const returnUrl = `${location.origin}${location.pathname}`;
  const { startPaymentMethodSetup: setup } = await api.request(Q.START_CARD_SETUP, { returnUrl });
  if (setup.pageUrl) {
    location.assign(setup.pageUrl);
    return null;
  }
  if (!stripeConfig || !stripeConfig.publishableKey || !stripeConfig.jsUrl) {
    throw new CardFieldUnavailable("Cards cannot be added right now: the payment provider is not set up. Try again later.");
  }
  return { clientSecret: setup.clientSecret, returnUrl };
}

let stripeJs = null; // one Stripe.js per page, loaded when a card is first added

function loadStripeJs(url) {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  if (!stripeJs) {
    stripeJs = new Promise((resolve, reject) => {
      const failed = () => {
        stripeJs = null;
        reject(new CardFieldUnavailable("The payment provider's card field did not load. Check your connection and try again."));
      };
      const script = h("script", { src: url });
      script.addEventListener("load", () => (window.Stripe ? resolve(window.Stripe) : failed()));
      script.addEventListener("error", failed);
      document.head.append(script);
    });
  }
  return stripeJs;
}

/**
 * Stripe's Payment Element in ``panel`` (the card is typed in Stripe's frame) and "Save card":
 * confirmSetup sends the browser to Stripe's checks (3-D Secure) if needed and then to returnUrl
 * with ?setup_intent=..., where the page completes the setup as after the sandbox's page.
 */
export async function mountPaymentElement(panel, stripeConfig, { clientSecret, returnUrl }) {
  const Stripe = await loadStripeJs(stripeConfig.jsUrl);
  const stripe = Stripe(stripeConfig.publishableKey);
  const elements = stripe.elements({ clientSecret });
  const field = h("div", { class: "payment-element", "data-testid": "payment-element" });
  const error = h("p", { class: "field-error", role: "alert" });
  const save = h("button", { type: "button", "data-testid": "save-card" }, "Save card");
  save.addEventListener("click", async () => {
    save.disabled = true;
    error.textContent = "";
    // It returns only when the card was refused or incomplete; otherwise the browser is on its way.
    const result = await stripe.confirmSetup({ elements, confirmParams: { return_url: returnUrl } });
    save.disabled = false;
    if (result && result.error) error.textContent = result.error.message || "The card was not accepted. Check it and try again.";
  });
  replace(
    panel,
    h("h2", {}, "Payment method"),
    h("p", {}, "Type your card below: the field is our payment provider's (Stripe's), and the card never reaches us."),
    field,
    error,
    save,
  );
  elements.create("payment").mount(field);
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
  button.addEventListener("click", () => onAdd(panel));
  const panel = h(
    "section",
    { class: "card-on-file", "aria-label": "Payment method" },
    h("h2", {}, "Payment method"),
    method
      ? h("p", { "data-testid": "card-on-file" }, cardText(method))
      : h("p", {}, "Add the card your payments are taken from. You type it on our payment provider's page."),
    button,
  );
  return panel;
}
