// The pay-later checkout: the merchant's checkout session named by the link's token, sign-in
// with Cognito, the profile and phone check the first time, the plan choice, the decision and
// the plan, then back to the merchant with the platform's signed return.
// Every call goes to the gateway's GraphQL API with the Cognito access token.

import { Api, ApiError, SessionExpired } from "./api.js";
import { AuthError, Cognito, PASSWORD_RULES } from "./cognito.js";
import { countryOptions } from "./countries.js";
import { declineNotice, precontractPanel, planDocuments } from "./documents.js";
import { h, replace } from "./dom.js";
import { formatDate, formatMoney, formatTime } from "./money.js";
import { OrderError, loadToken, safeRedirect, saveToken, tokenFromLink } from "./order.js";
import {
  CardFieldUnavailable,
  addCard,
  cardPanel,
  cardText,
  completeSetup,
  loadCard,
  mountPaymentElement,
  takeReturnedSetup,
} from "./payment.js";
import { EMPLOYMENT, HOUSING, MONEY_FIELDS, formField, validateProfile } from "./profile.js";
import * as Q from "./queries.js";
import { clearSession, loadFlow, loadSession, newKey, saveFlow, saveSession } from "./session.js";

const STEPS = ["Account", "Your details", "Phone", "Plan", "Done"];
const PLAN_NAMES = {
  PAY_IN_4: "Pay in 4",
  MONTHLY_3: "3 monthly payments",
  MONTHLY_6: "6 monthly payments",
  MONTHLY_12: "12 monthly payments",
};
const STATUS_NAMES = { DUE: "Due", PAID: "Paid", LATE: "Late", REFUNDED: "Refunded" };
const PLAN_STATUS_NAMES = { AUTHORIZED: "Starts when shipped", ACTIVE: "Active", COMPLETED: "Paid off", REFUNDED: "Refunded" };

const $view = document.getElementById("view");
const $order = document.getElementById("order");
const $steps = document.getElementById("steps");
const $nav = document.getElementById("nav");
const $status = document.getElementById("status");

const app = {
  config: null,
  cognito: null,
  api: null,
  token: null, // the checkout session's token, from the link
  order: null, // the checkout session, as checkoutSession returns it
  flow: null,
  session: loadSession(),
  pendingPassword: null, // between sign-up and its confirmation only; memory, never stored
  challenge: null, // the phone verification in progress
  payKeys: new Map(), // retry-safe keys of payments in flight
  returnedSetup: null, // the card setup the payment provider's page sent the shopper back with
};

// --- shared pieces -------------------------------------------------------------------

const money = (m) => formatMoney(m);
// 1999 basis points -> "19.99%", from the integer (the float apr is for machines).
const apr = (bp) => `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, "0")}%`;
// The disclosed rate as its market rounds it: an APRC (EU, UK) to one decimal, a Regulation Z
// APR (US) to two; a float keeps neither trailing zero, so "0.0%" and "20.00%" are written out.
const annualRate = (offer) => `${offer.annualRate.toFixed(offer.rateKind === "APR" ? 2 : 1)}%`;
// What a shopper reads about a rate: the market's own name for it, e.g. "APRC 28.1%".
const rateText = (offer) => `${offer.rateLabel} ${annualRate(offer)}`;

function announce(message, kind = "info") {
  replace($status, message ? h("p", { class: `notice ${kind}` }, message) : null);
}

function show(title, step, ...content) {
  announce(null);
  renderSteps(step);
  const heading = h("h1", { tabindex: "-1", id: "view-title" }, title);
  replace($view, heading, ...content);
  document.title = `${title} · Pay later`;
  heading.focus();
}

function renderSteps(current) {
  if (current === null || current === undefined) {
    replace($steps);
    $steps.hidden = true;
    return;
  }
  $steps.hidden = false;
  replace(
    $steps,
    h(
      "ol",
      {},
      STEPS.map((name, i) =>
        h(
          "li",
          { class: i < current ? "done" : i === current ? "current" : "", "aria-current": i === current ? "step" : null },
          h("span", { class: "visually-hidden" }, i < current ? "Done: " : ""),
          name,
        ),
      ),
    ),
  );
}

function renderNav() {
  const links = [];
  if (location.hash === "#my-plans" && app.token) links.push(h("a", { href: "./" }, "Back to checkout"));
  if (location.hash !== "#my-plans") links.push(h("a", { href: "#my-plans" }, "My plans"));
  if (app.session) {
    links.push(
      h("span", { class: "who" }, app.session.email),
      h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
    );
  }
  replace($nav, links);
}

function renderOrder() {
  const order = app.order;
  if (!order || location.hash === "#my-plans") {
    replace($order);
    $order.hidden = true;
    return;
  }
  $order.hidden = false;
  replace(
    $order,
    h("p", { class: "merchant" }, order.merchantName),
    h("p", { class: "amount", "data-testid": "order-amount" }, money(order.amount)),
    order.items.length
      ? h(
          "ul",
          { class: "items" },
          order.items.map((item) => h("li", {}, `${item.quantity} × ${item.name}`, h("span", { class: "num" }, money(item.unitPrice)))),
        )
      : null,
    h("p", { class: "meta" }, "Order ", h("span", { class: "ref" }, order.orderReference)),
  );
}

function localHint(...content) {
  return app.config.local ? h("div", { class: "hint", role: "note" }, h("strong", {}, "Local stack: "), ...content) : null;
}

function busy(button, label) {
  const original = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = label;
  return () => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = original;
  };
}

function formError(form, message) {
  const box = form.querySelector(".form-error");
  replace(box, message ? h("p", {}, message) : null);
  if (message) box.focus();
}

function field({ name, label, type = "text", hint, options, value, ...attrs }) {
  const id = `f-${name.replace(/\./g, "-")}`;
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  const control =
    type === "select"
      ? h(
          "select",
          { id, name, "aria-describedby": describedBy, ...attrs },
          h("option", { value: "" }, "Choose…"),
          options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
        )
      : h("input", { id, name, type, value, "aria-describedby": describedBy, ...attrs });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, attrs.required ? null : h("span", { class: "optional" }, " (optional)")),
    hint ? h("p", { class: "field-hint", id: `${id}-hint` }, hint) : null,
    control,
    h("p", { class: "field-error", id: `${id}-error` }),
  );
}

function setFieldErrors(form, errors) {
  for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  let first = null;
  for (const [name, message] of Object.entries(errors)) {
    const control = form.elements.namedItem(name);
    if (!control) continue;
    control.setAttribute("aria-invalid", "true");
    form.querySelector(`#${control.id}-error`).textContent = message;
    first = first || control;
  }
  return first;
}

/** Run a step; an expired session sends the shopper back to sign-in, the order kept. */
async function guard(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SessionExpired) {
      const email = (loadSession() || {}).email || "";
      clearSession();
      app.session = null;
      renderNav();
      return viewAuth({
        email,
        notice: app.token
          ? "Your session has expired. Sign in again to continue; your order is kept."
          : "Your session has expired. Sign in again.",
      });
    }
    if (error instanceof ApiError) {
      announce(error.message, "error");
      return undefined;
    }
    announce("Something went wrong. Reload the page to try again.", "error");
    throw error;
  }
}

function signOut() {
  clearSession();
  app.session = null;
  renderNav();
  viewAuth({ notice: "You are signed out." });
}

// --- routing -------------------------------------------------------------------------

async function start() {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    app.config = await response.json();
  } catch {
    replace($view, h("p", { class: "notice error" }, "The checkout is not available right now. Try again later."));
    return;
  }
  app.cognito = new Cognito(app.config.cognito);
  // The token is read from sessionStorage on every call: that is the one place it lives.
  app.api = new Api(app.config.graphqlUrl, () => (loadSession() || {}).accessToken);

  try {
    const token = tokenFromLink(new URLSearchParams(location.search));
    if (token) saveToken(token);
  } catch (error) {
    if (!(error instanceof OrderError)) throw error;
    renderNav();
    return show("This checkout link does not work", null, h("p", { class: "notice error" }, error.message),
      h("p", {}, "Go back to the shop and choose pay later again."));
  }
  app.token = loadToken();
  app.returnedSetup = takeReturnedSetup();
  window.addEventListener("hashchange", route);
  route();
}

/** Back from the payment provider's page: keep the card it saved, then carry on. */
async function finishCardSetup() {
  const setupId = app.returnedSetup;
  app.returnedSetup = null;
  try {
    const method = await completeSetup(app.api, setupId);
    await route(); // the view it shows clears the status line first
    announce(`Card saved: ${cardText(method)}.`, "success");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    await route();
    announce(`The card was not saved: ${error.message}`, "error");
  }
}

function toCardPage(back, panel) {
  return guard(async () => {
    try {
      const stripeSetup = await addCard(app.api, back, app.config.stripe);
      if (stripeSetup) await mountPaymentElement(panel, app.config.stripe, stripeSetup);
    } catch (error) {
      if (!(error instanceof CardFieldUnavailable)) throw error;
      announce(error.message, "error");
    }
  });
}

function route() {
  renderNav();
  renderOrder();
  if (!app.session) return viewAuth({});
  if (app.returnedSetup) return guard(finishCardSetup);
  if (location.hash === "#my-plans") return guard(viewMyPlans);
  if (!app.token) {
    return show(
      "Pay later",
      null,
      h("p", {}, "Open this page from a shop's checkout to pay for an order later."),
      h("p", {}, h("a", { href: "#my-plans" }, "See my plans")),
    );
  }
  return guard(continueCheckout);
}

/** The checkout session as the platform has it now (null: unknown or expired), shown in the order panel. */
async function loadCheckout() {
  const { checkoutSession } = await app.api.request(Q.CHECKOUT_SESSION, { token: app.token });
  app.order = checkoutSession;
  renderOrder();
  return checkoutSession;
}

/** Where this shopper is with this checkout: the next step to show. */
async function continueCheckout() {
  const checkout = await loadCheckout();
  if (!checkout) return viewNoCheckout();
  const { me } = await app.api.request(Q.ME);
  if (!me) return viewProfile();
  if (!me.phoneVerified) return viewPhone(me);
  const flow = (app.flow = loadFlow(checkout.id));
  if (checkout.applicationId) {
    const { application } = await app.api.request(Q.APPLICATION_BY_ID, { id: checkout.applicationId });
    if (!application) return viewClosed(checkout, "This checkout is being paid from another account.");
    if (application.planId) {
      const { plan } = await app.api.request(Q.PLAN_BY_ID, { id: application.planId });
      if (plan) return viewConfirmed(plan);
    }
    if (application.applicationStatus === "APPROVED") return viewApproved(application, await loadCard(app.api));
    if (application.applicationStatus === "DECLINED") return viewDeclined(application);
    if (application.applicationStatus === "REFERRED") return viewReferred(application);
  }
  if (checkout.status !== "OPEN") return viewClosed(checkout, "This checkout is over.");
  delete flow.applicationId;
  saveFlow(flow);
  return viewPlans();
}

function viewNoCheckout() {
  show(
    "This checkout is not available",
    null,
    h("p", {}, "The checkout has expired or does not exist. Go back to the shop and choose pay later again."),
    h("p", {}, h("a", { href: "#my-plans" }, "See my plans")),
  );
}

const CLOSED_TITLES = {
  CANCELLED: "This checkout was cancelled",
  EXPIRED: "This checkout has expired",
};

function viewClosed(checkout, text) {
  show(
    CLOSED_TITLES[checkout.status] || "This checkout is over",
    null,
    h("p", {}, text),
    checkout.merchantRedirectUrl ? h("div", { class: "actions" }, returnButton()) : null,
  );
}

/** "Return to <merchant>": reads the session again for a freshly signed return address, then goes there. */
function returnButton(kind = "primary") {
  const button = h("button", { type: "button", class: kind }, `Return to ${app.order.merchantName}`);
  button.addEventListener("click", () => {
    const done = busy(button, "Returning…");
    return guard(async () => {
      try {
        const checkout = await loadCheckout();
        const target = checkout && safeRedirect(checkout.merchantRedirectUrl || "");
        if (!target) return announce("The shop's return address is not ready yet. Try again in a moment.", "warning");
        window.location.assign(target);
      } finally {
        if (button.isConnected) done();
      }
    });
  });
  return button;
}

// --- account -------------------------------------------------------------------------

function viewAuth({ mode = "signIn", email = "", notice = "" }) {
  renderNav();
  renderOrder();
  const signUp = mode === "signUp";
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    h("div", { class: "form-error", role: "alert", tabindex: "-1" }),
    field({ name: "email", label: "E-mail", type: "email", autocomplete: "email", required: true, value: email }),
    field({
      name: "password",
      label: "Password",
      type: "password",
      autocomplete: signUp ? "new-password" : "current-password",
      required: true,
      hint: signUp ? PASSWORD_RULES : null,
    }),
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        onchange: (e) => {
          form.elements.password.type = e.target.checked ? "text" : "password";
        },
      }),
      " Show password",
    ),
    h("button", { type: "submit", class: "primary" }, signUp ? "Create account" : "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const emailValue = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const errors = {};
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(emailValue)) errors.email = "Enter your e-mail address.";
    if (!password) errors.password = "Enter your password.";
    const first = setFieldErrors(form, errors);
    if (first) return first.focus();
    const done = busy(form.querySelector("button[type=submit]"), signUp ? "Creating account…" : "Signing in…");
    try {
      if (signUp) {
        const result = await app.cognito.signUp(emailValue, password);
        if (result.UserConfirmed) return await signIn(emailValue, password);
        app.pendingPassword = password;
        return viewConfirmAccount(emailValue, result.CodeDeliveryDetails);
      }
      return await signIn(emailValue, password);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.type === "UserNotConfirmedException") {
        app.pendingPassword = password;
        if (!app.config.local) await app.cognito.resendCode(emailValue).catch(() => null);
        return viewConfirmAccount(emailValue, null);
      }
      formError(
        form,
        error.type === "UsernameExistsException"
          ? h(
              "span",
              {},
              error.message,
              " ",
              h("button", { type: "button", class: "link", onclick: () => viewAuth({ email: emailValue }) }, "Sign in"),
            )
          : error.message,
      );
    } finally {
      if (form.isConnected) done();
    }
  });
  show(
    signUp ? "Create your pay-later account" : "Sign in to pay later",
    0,
    notice ? h("p", { class: "notice warning", "data-testid": "auth-notice" }, notice) : null,
    form,
    h(
      "p",
      { class: "switch" },
      signUp ? "Already have an account? " : "New here? ",
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => viewAuth({ mode: signUp ? "signIn" : "signUp", email: form.elements.email.value }),
        },
        signUp ? "Sign in" : "Create an account",
      ),
    ),
  );
}

async function signIn(email, password) {
  const { accessToken, expiresIn } = await app.cognito.signIn(email, password);
  app.pendingPassword = null;
  saveSession({ accessToken, email, expiresIn });
  app.session = loadSession();
  return route();
}

function viewConfirmAccount(email, delivery) {
  const destination = delivery && delivery.Destination ? delivery.Destination : email;
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    h("div", { class: "form-error", role: "alert", tabindex: "-1" }),
    field({
      name: "code",
      label: "Confirmation code",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      required: true,
      maxlength: 8,
    }),
    h("button", { type: "submit", class: "primary" }, "Confirm e-mail"),
    app.config.local
      ? null
      : h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: async () => {
              try {
                await app.cognito.resendCode(email);
                announce(`A new code is on its way to ${destination}.`);
              } catch (error) {
                formError(form, error.message);
              }
            },
          },
          "Send a new code",
        ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = form.elements.code.value.trim();
    const first = setFieldErrors(form, /^\d{6,8}$/.test(code) ? {} : { code: "Enter the code from the e-mail." });
    if (first) return first.focus();
    const done = busy(form.querySelector("button[type=submit]"), "Confirming…");
    try {
      await app.cognito.confirmSignUp(email, code);
      if (app.pendingPassword) return await signIn(email, app.pendingPassword);
      return viewAuth({ email, notice: "Your e-mail is confirmed. Sign in to continue." });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      formError(form, error.message);
    } finally {
      if (form.isConnected) done();
    }
  });
  show(
    "Confirm your e-mail",
    0,
    h("p", {}, "We sent a confirmation code to ", h("strong", {}, destination), ". Enter it below."),
    localHint("the local Cognito (moto server) sends no e-mail and accepts any code: type any 6 digits, e.g. 123456."),
    form,
  );
}

// --- profile and phone ---------------------------------------------------------------

function guessCountry() {
  const region = (navigator.language || "").split("-")[1];
  return region && region.length === 2 ? region.toUpperCase() : "";
}

function viewProfile() {
  const currency = app.order.amount.currency;
  const moneyField = (name, label, hint) =>
    field({ name, label: `${label} (${currency})`, inputmode: "decimal", required: true, hint, autocomplete: "off" });
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    h("div", { class: "form-error", role: "alert", tabindex: "-1" }),
    h(
      "fieldset",
      {},
      h("legend", {}, "About you"),
      field({ name: "givenName", label: "First name", autocomplete: "given-name", required: true, maxlength: 100 }),
      field({ name: "familyName", label: "Last name", autocomplete: "family-name", required: true, maxlength: 100 }),
      field({ name: "dateOfBirth", label: "Date of birth", type: "date", autocomplete: "bday", required: true }),
      field({
        name: "phoneNumber",
        label: "Mobile number",
        type: "tel",
        autocomplete: "tel",
        required: true,
        hint: "With the country code, e.g. +44 7700 900123. We text a code to it next.",
      }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Home address"),
      field({ name: "address.line1", label: "Street address", autocomplete: "address-line1", required: true }),
      field({ name: "address.line2", label: "Flat, floor, building", autocomplete: "address-line2" }),
      field({ name: "address.city", label: "Town or city", autocomplete: "address-level2", required: true }),
      field({ name: "address.region", label: "Region or county", autocomplete: "address-level1" }),
      field({ name: "address.postalCode", label: "Postcode", autocomplete: "postal-code", required: true }),
      field({
        name: "address.country",
        label: "Country",
        type: "select",
        autocomplete: "country",
        required: true,
        options: countryOptions().map(({ code, name }) => [code, name]),
        value: guessCountry(),
      }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Money and work"),
      h("p", { class: "field-hint" }, "We use these to check that the payments are affordable for you."),
      moneyField("monthlyIncome", "Monthly income after tax"),
      moneyField("monthlyExpenses", "Monthly expenses", "Rent or mortgage, bills, other loans."),
      moneyField("assets", "Savings and assets"),
      moneyField("debt", "Debts", "Loans and cards you still owe, in total."),
      field({ name: "housing", label: "Housing", type: "select", required: true, options: HOUSING }),
      field({ name: "employment", label: "Work", type: "select", required: true, options: EMPLOYMENT }),
      field({
        name: "employmentYears",
        label: "Years in this work",
        inputmode: "numeric",
        required: true,
        maxlength: 2,
      }),
    ),
    h("button", { type: "submit", class: "primary" }, "Continue"),
  );
  const key = newKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    const { input, errors } = validateProfile(values, { currency, email: app.session.email });
    const first = setFieldErrors(form, errors);
    if (first) {
      formError(form, `Check the ${Object.keys(errors).length === 1 ? "field" : "fields"} marked below.`);
      return first.focus();
    }
    formError(form, null);
    const done = busy(form.querySelector("button[type=submit]"), "Saving…");
    await guard(async () => {
      try {
        const { createProfile } = await app.api.request(Q.CREATE_PROFILE, { input, key });
        return await viewPhone(createProfile);
      } catch (error) {
        if (error instanceof ApiError && error.type === "ProfileExists") return continueCheckout();
        if (!(error instanceof ApiError)) throw error;
        const name = formField(error.field);
        const control = name && form.elements.namedItem(name);
        if (control) {
          setFieldErrors(form, { [name]: error.message.replace(/^[\w.]+: /, "") });
          formError(form, "Check the field marked below.");
          return control.focus();
        }
        return formError(form, error.message);
      } finally {
        if (form.isConnected) done();
      }
    });
  });
  show(
    "Tell us about you",
    1,
    h("p", {}, "We ask once. Your details are used for this and future pay-later decisions."),
    form,
  );
  for (const name of MONEY_FIELDS) form.elements.namedItem(name).setAttribute("placeholder", "0");
}

async function sendPhoneCode() {
  try {
    const { startPhoneVerification } = await app.api.request(Q.START_PHONE_VERIFICATION);
    app.challenge = startPhoneVerification;
    return null;
  } catch (error) {
    if (error instanceof ApiError && error.type === "PhoneAlreadyVerified") return "verified";
    if (error instanceof ApiError && error.type === "TooManyRequests") {
      const wait = error.info.retryAfterSeconds;
      return `A code was sent moments ago${wait ? `; you can ask for another in ${wait} seconds` : ""}.`;
    }
    throw error;
  }
}

async function viewPhone(me) {
  if (!app.challenge || Date.parse(app.challenge.expiresAt) < Date.now()) {
    const problem = await sendPhoneCode();
    if (problem === "verified") return continueCheckout();
  }
  const challenge = app.challenge;
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    h("div", { class: "form-error", role: "alert", tabindex: "-1" }),
    field({
      name: "code",
      label: "6-digit code",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      required: true,
      maxlength: 6,
    }),
    h("button", { type: "submit", class: "primary" }, "Verify phone"),
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () =>
          guard(async () => {
            const problem = await sendPhoneCode();
            if (problem === "verified") return continueCheckout();
            if (problem) return formError(form, problem);
            announce(`A new code is on its way to ${app.challenge.destination}.`);
          }),
      },
      "Send a new code",
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = form.elements.code.value.trim();
    const first = setFieldErrors(form, /^\d{6}$/.test(code) ? {} : { code: "Enter the 6 digits of the code." });
    if (first) return first.focus();
    const done = busy(form.querySelector("button[type=submit]"), "Checking…");
    await guard(async () => {
      try {
        await app.api.request(Q.CONFIRM_PHONE_VERIFICATION, { code });
        app.challenge = null;
        return await continueCheckout();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const left = error.info.attemptsRemaining;
        const messages = {
          CodeMismatch: `That code is not correct. ${left === 1 ? "1 attempt" : `${left} attempts`} left.`,
          CodeExpired: "That code has expired. Send a new code.",
          TooManyAttempts: "Too many wrong codes. Send a new code.",
          NoVerificationPending: "No code is waiting. Send a new code.",
        };
        setFieldErrors(form, { code: messages[error.type] || error.message });
        form.elements.code.select();
        return form.elements.code.focus();
      } finally {
        if (form.isConnected) done();
      }
    });
  });
  show(
    "Verify your phone",
    2,
    challenge
      ? h(
          "p",
          {},
          "We sent a 6-digit code by text message to ",
          h("strong", {}, challenge.destination),
          `. It is valid until ${formatTime(challenge.expiresAt)}.`,
        )
      : h("p", {}, `We sent a code to ${me.phoneNumber}.`),
    localHint(
      "no text message is sent. The code is in the local SMS outbox; in the project folder run ",
      h("code", {}, "tail -n 1 .data/sms-outbox.jsonl"),
      ".",
    ),
    form,
  );
}

// --- plans and decision --------------------------------------------------------------

function gapDays(a, b) {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

function describeInstallments(installments) {
  const n = installments.length;
  const gap = n > 1 ? gapDays(installments[0].dueDate, installments[1].dueDate) : 0;
  const every = gap === 14 ? ", every 2 weeks" : gap >= 28 && gap <= 31 ? ", monthly" : "";
  // Runs of equal amounts: "4 payments of €62.25" or "2 × €85.78, then €85.79" (rounding lands on one).
  const runs = [];
  for (const { amount } of installments) {
    const last = runs[runs.length - 1];
    if (last && last.money.amount === amount.amount) last.count += 1;
    else runs.push({ money: amount, count: 1 });
  }
  if (runs.length === 1) return `${n} payments of ${money(runs[0].money)}${every}`;
  const parts = runs.map(({ money: m, count }) => (count > 1 ? `${count} × ${money(m)}` : money(m)));
  return runs.length <= 3 ? `${parts.join(", then ")}${every}` : `${n} payments${every}`;
}

function todayIso() {
  const now = new Date();
  return [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((v, i) => String(v).padStart(i ? 2 : 4, "0")).join("-");
}

function offerSummary(offer) {
  const interestFree = offer.financeCharge.amount === 0;
  return [
    h("span", { class: "offer-line" }, describeInstallments(offer.installments)),
    h(
      "span",
      { class: "offer-terms" },
      interestFree
        ? `No interest, no fees (${rateText(offer)}). Total ${money(offer.totalOfPayments)}.`
        : `${rateText(offer)} · interest ${money(offer.financeCharge)} · total ${money(offer.totalOfPayments)}`,
    ),
    h("span", { class: "offer-terms" }, `First payment ${formatDate(offer.installments[0].dueDate)}.`),
  ];
}

async function viewPlans() {
  // The offers come with the session: the merchant's plans for the merchant's amount.
  const quote = app.order.offers;
  if (!quote.length) {
    return show(
      "No pay-later plan for this amount",
      3,
      h("p", {}, `We cannot offer a plan for ${money(app.order.amount)}. Go back to ${app.order.merchantName} and pay another way.`),
    );
  }
  const form = h(
    "form",
    { class: "stack" },
    h("div", { class: "form-error", role: "alert", tabindex: "-1" }),
    h(
      "fieldset",
      { class: "offers" },
      h("legend", {}, "How do you want to pay?"),
      quote.map((offer, i) =>
        h(
          "label",
          { class: "offer", "data-plan": offer.planType },
          h("input", { type: "radio", name: "planType", value: offer.planType, checked: i === 0 }),
          h("span", { class: "offer-body" }, h("span", { class: "offer-name" }, PLAN_NAMES[offer.planType]), offerSummary(offer)),
        ),
      ),
    ),
    quote.some((o) => o.financeCharge.amount > 0)
      ? h(
          "p",
          { class: "field-hint" },
          `Monthly plans show a representative example (${quote[0].rateLabel}). Your own rate and total are shown before you confirm.`,
        )
      : null,
    h("button", { type: "submit", class: "primary" }, "Continue"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const planType = form.elements.planType.value;
    const flow = app.flow;
    // The same key for a retry of the same choice: a second click never makes a second application.
    if (!flow.apply || flow.apply.planType !== planType) flow.apply = { planType, key: newKey() };
    saveFlow(flow);
    const done = busy(form.querySelector("button[type=submit]"), "Checking…");
    await guard(async () => {
      try {
        const { applyForCredit } = await app.api.request(Q.APPLY, {
          input: { checkoutToken: app.token, planType },
          key: flow.apply.key,
        });
        flow.applicationId = applyForCredit.id;
        delete flow.apply;
        saveFlow(flow);
        if (applyForCredit.status === "APPROVED") return viewApproved(applyForCredit, await loadCard(app.api));
        if (applyForCredit.status === "DECLINED") return viewDeclined(applyForCredit);
        return viewReferred(applyForCredit);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return formError(form, error.message);
      } finally {
        if (form.isConnected) done();
      }
    });
  });
  show("Choose your plan", 3, form);
}

function scheduleTable(installments, { caption, withStatus = false }) {
  return h(
    "table",
    { class: "schedule" },
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "#"),
        h("th", { scope: "col" }, "Due"),
        h("th", { scope: "col", class: "num" }, "Amount"),
        withStatus ? h("th", { scope: "col" }, "Status") : null,
      ),
    ),
    h(
      "tbody",
      {},
      installments.map((i) =>
        h(
          "tr",
          {},
          h("td", {}, i.sequence),
          h("td", {}, formatDate(i.dueDate)),
          // a plan's installment as it stands (a refund recomputes what is still due); an offer's as scheduled
          h("td", { class: "num" }, money(i.amountDue || i.amount)),
          withStatus ? h("td", { class: `st-${(i.status || "DUE").toLowerCase()}` }, STATUS_NAMES[i.status] || i.status || "Due") : null,
        ),
      ),
    ),
  );
}

function costList(entries) {
  return h(
    "dl",
    { class: "costs" },
    entries.filter(Boolean).map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))),
  );
}

function viewApproved(application, card) {
  const offer = application.offer;
  const confirm = h("button", { type: "button", class: "primary" }, "Confirm plan");
  const another = h("button", { type: "button", class: "secondary" }, `Cancel and return to ${app.order.merchantName}`);
  const disclosure = precontractPanel(app.api, application.id, (accepted) => accepted && announce(null));
  confirm.addEventListener("click", () => {
    if (!disclosure.accepted()) {
      disclosure.focus();
      return announce("Read the pre-contract information and tick the box to accept it before confirming.", "warning");
    }
    if (!card) return announce("Add the card your payments are taken from before confirming.", "warning");
    const flow = app.flow;
    flow.confirmKey = flow.confirmKey || newKey();
    saveFlow(flow);
    const done = busy(confirm, "Confirming…");
    return guard(async () => {
      try {
        const { confirmPlan } = await app.api.request(Q.CONFIRM_PLAN, {
          id: application.id,
          key: flow.confirmKey,
          hash: disclosure.hash(),
        });
        flow.planId = confirmPlan.id;
        saveFlow(flow);
        return viewConfirmed(confirmPlan);
      } catch (error) {
        if (error instanceof ApiError && error.type === "DocumentOutdated") {
          await disclosure.reload(); // a new day: the plan's dates count from today
          disclosure.focus();
          return announce("The due dates now count from today: read the updated information and accept it again.", "warning");
        }
        if (error instanceof ApiError && error.type === "PaymentDeclined") {
          // nothing was charged and the approval was released: the shopper starts again
          delete flow.confirmKey;
          saveFlow(flow);
          await continueCheckout();
          return announce(`${error.message}. Add another card and choose your plan again.`, "error");
        }
        if (error instanceof ApiError && error.type === "InvalidApplicationState") {
          delete flow.applicationId;
          saveFlow(flow);
          await continueCheckout();
          return announce("That approval is no longer open (it may have expired).", "warning");
        }
        throw error;
      } finally {
        if (confirm.isConnected) done();
      }
    });
  });
  another.addEventListener("click", () =>
    guard(async () => {
      await app.api.request(Q.CANCEL_APPLICATION, { id: application.id }).catch((error) => {
        if (!(error instanceof ApiError)) throw error; // already expired or cancelled: fine
      });
      delete app.flow.confirmKey;
      saveFlow(app.flow);
      return continueCheckout(); // the checkout is cancelled: its view sends the shopper back
    }),
  );
  show(
    "You're approved",
    3,
    h("p", { class: "lead" }, `${PLAN_NAMES[offer.planType]} for ${money(application.amount)}.`),
    scheduleTable(offer.installments, { caption: "Your payments" }),
    costList([
      ["Amount", money(offer.amountFinanced)],
      ["Interest and fees", money(offer.financeCharge)],
      [offer.rateLabel, annualRate(offer)],
      ...(offer.financeCharge.amount > 0 ? [["Borrowing rate (fixed)", apr(offer.aprBasisPoints)]] : []),
      ["Total to pay", money(offer.totalOfPayments)],
    ]),
    application.expiresAt
      ? h("p", { class: "field-hint" }, `This offer is held for you until ${formatTime(application.expiresAt)}.`)
      : null,
    // a checkout's plan starts when the merchant ships (captures): the dates shown run from that day
    offer.installments[0].dueDate === todayIso()
      ? h(
          "p",
          {},
          `Payment 1, ${money(offer.installments[0].amount)}, is taken from your card when you confirm; the others on their due dates.`,
        )
      : null,
    disclosure.element,
    cardPanel(card, (panel) => toCardPage("checkout", panel)),
    h(
      "p",
      {},
      `By confirming you agree to pay these amounts. The schedule starts on the day ${app.order.merchantName} ships your order (the dates above assume today).`,
    ),
    h("div", { class: "actions" }, confirm, another),
  );
}

function reasonsList(application) {
  return application.reasons.length
    ? h("ul", { class: "reasons" }, application.reasons.map((r) => h("li", { "data-code": r.code }, r.description)))
    : null;
}

function viewDeclined(application) {
  show(
    "We can't offer pay later for this order",
    3,
    h("p", { class: "lead" }, "This is why:"),
    reasonsList(application),
    reviewPanel(application.id, { contestable: true }),
    declineNotice(app.api, application.id),
    h("h2", {}, "What you can do"),
    h(
      "p",
      {},
      `Return to ${app.order.merchantName} and pay another way.`,
    ),
    h("div", { class: "actions" }, returnButton()),
    h("p", { class: "field-hint" }, `Reference ${application.id}`),
  );
}

const REVIEW_TEXTS = {
  OPEN: (r) => `A person is reviewing your application. We will text you the outcome by ${when(r.expiresAt)}.`,
  INFO_REQUESTED: (r) =>
    r.infoRequest
      ? `The reviewer needs more information. They ask: “${r.infoRequest}”`
      : "The reviewer needs more information: see your text message.",
  AWAITING_SECOND_APPROVAL: () => "A second person is checking the reviewer's decision; we will text you the outcome.",
  APPROVED: () => "A person reviewed your application and approved it.",
  DECLINED: () => "A person looked at your application again; we still cannot offer credit for it.",
  EXPIRED: () => "The review could not be finished in time, so it was closed. You can apply again at any time.",
};

const when = (iso) => `${formatDate(iso.slice(0, 10))} ${formatTime(iso)}`;

/** Where a person's review of the application stands (issue 13); empty when there is none.
 * When the reviewer asked for information, a form sends the shopper's answer
 * (`requestHumanReview` answers an INFO_REQUESTED case) and the case goes back to the queue.
 * A decline (`contestable`) with no review yet offers to ask a person to look again, once. */
function reviewPanel(applicationId, { contestable = false } = {}) {
  const panel = h("p", { class: "notice info", "data-testid": "review-status", hidden: true });
  const box = h("div", { class: "review" }, panel);
  const render = (review) => {
    panel.dataset.status = review.status;
    panel.textContent = REVIEW_TEXTS[review.status](review);
    panel.hidden = false;
    replace(box, panel, review.status === "INFO_REQUESTED" ? answerForm(applicationId, render) : null);
  };
  app.api
    .request(Q.REVIEW_STATUS, { id: applicationId })
    .then(({ application }) => {
      const review = application && application.reviewStatus;
      if (review) render(review);
      else if (application && contestable) replace(box, contestForm(applicationId, render));
    })
    .catch(() => {}); // the page works without it: the SMS tells the outcome too
  return box;
}

const ANSWER_MAX = 2000; // the credit service's limit on a statement

function answerForm(applicationId, render) {
  return statementForm(applicationId, render, {
    name: "Answer the reviewer",
    label: "Your answer to the reviewer",
    hint: "Only the reviewers of this application read it.",
    empty: "Write your answer to the reviewer.",
    button: "Send answer",
    sent: "Thank you: your answer was sent to the reviewer.",
  });
}

function contestForm(applicationId, render) {
  return h(
    "div",
    {},
    h("h2", {}, "Ask a person to look again"),
    h("p", {}, "You can ask for this decision to be reviewed by a person, once. Tell us what it could not know."),
    statementForm(applicationId, render, {
      name: "Ask for a review",
      label: "What should the reviewer know?",
      hint: "For example a change in your income or work. Only the reviewers of this application read it.",
      empty: "Tell the reviewer why you are asking.",
      button: "Ask for a review",
      sent: "Your request was sent: a person will review your application.",
    }),
  );
}

function statementForm(applicationId, render, text) {
  const form = h(
    "form",
    { novalidate: true, class: "stack", "aria-label": text.name },
    h("div", { class: "form-error", role: "alert", tabindex: "-1" }),
    h(
      "div",
      { class: "field" },
      h("label", { for: "f-statement" }, text.label),
      h("p", { class: "field-hint", id: "f-statement-hint" }, text.hint),
      h("textarea", {
        id: "f-statement",
        name: "statement",
        rows: 4,
        maxlength: ANSWER_MAX,
        required: true,
        "aria-describedby": "f-statement-hint f-statement-error",
      }),
      h("p", { class: "field-error", id: "f-statement-error" }),
    ),
    h("button", { type: "submit", class: "primary" }, text.button),
  );
  form.elements.statement.addEventListener("input", () => {
    if (form.elements.statement.value.trim()) setFieldErrors(form, {});
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const statement = form.elements.statement.value.trim();
    const first = setFieldErrors(form, statement ? {} : { statement: text.empty });
    if (first) return first.focus();
    const done = busy(form.querySelector("button[type=submit]"), "Sending…");
    await guard(async () => {
      try {
        const { requestHumanReview } = await app.api.request(Q.REQUEST_HUMAN_REVIEW, { id: applicationId, statement });
        render(requestHumanReview);
        announce(text.sent, "success");
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        formError(form, error.message);
      } finally {
        if (form.isConnected) done();
      }
    });
  });
  return form;
}

function viewReferred(application) {
  show(
    "We need a closer look",
    3,
    h("p", { class: "lead" }, "We could not give you an instant decision."),
    reviewPanel(application.id),
    reasonsList(application),
    h("h2", {}, "What happens next"),
    h(
      "p",
      {},
      "Nothing has been charged and no plan was created. The application is kept for review under the reference below. ",
      `To finish this order now, return to ${app.order.merchantName} and pay another way, or try again in a few minutes.`,
    ),
    h("div", { class: "actions" }, returnButton()),
    h("p", { class: "field-hint" }, `Reference ${application.id}`),
  );
}

function viewConfirmed(plan) {
  show(
    "Your plan is confirmed",
    4,
    h("p", { class: "lead" }, `${PLAN_NAMES[plan.planType]} for ${money(plan.principal)}. Plan reference `, h("span", { class: "ref", "data-testid": "plan-id" }, plan.id), "."),
    plan.status === "AUTHORIZED"
      ? h(
          "p",
          {},
          plan.amountPaid && plan.amountPaid.amount > 0
            ? `Payment 1 was taken from your card. The next ones are taken on their due dates, counted from the day ${app.order.merchantName} ships your order.`
            : `Nothing is taken yet: your payments start when ${app.order.merchantName} ships your order, and the dates move with it.`,
        )
      : null,
    scheduleTable(plan.installments, { caption: "Your payments", withStatus: true }),
    costList([
      ["Interest and fees", money(plan.financeCharge)],
      ["Total to pay", money(plan.totalOfPayments)],
    ]),
    h("div", { class: "actions" }, returnButton(), h("a", { class: "button secondary", href: "#my-plans" }, "My plans")),
  );
}

// --- my plans ------------------------------------------------------------------------

function nextInstallment(plan) {
  return plan.installments.find((i) => i.status === "DUE" || i.status === "LATE");
}

function planCard(plan) {
  const next = plan.status === "ACTIVE" ? nextInstallment(plan) : null;
  const owed = next ? (next.amountDue || next.amount) : null;
  const due = next ? { amount: owed.amount - (next.amountPaid ? next.amountPaid.amount : 0), currency: owed.currency } : null;
  const pay = next ? h("button", { type: "button", class: "primary" }, `Pay installment ${next.sequence}: ${money(due)}`) : null;
  if (pay) {
    pay.addEventListener("click", () => {
      const slot = `${plan.id}:${next.sequence}:${due.amount}`;
      if (!app.payKeys.has(slot)) app.payKeys.set(slot, newKey());
      const done = busy(pay, "Paying…");
      return guard(async () => {
        try {
          await app.api.request(Q.MAKE_PAYMENT, { planId: plan.id, amount: due, key: app.payKeys.get(slot) });
          app.payKeys.delete(slot);
          await viewMyPlans();
          announce(`Payment of ${money(due)} received for ${plan.orderReference}. Thank you.`, "success");
        } finally {
          if (pay.isConnected) done();
        }
      });
    });
  }
  return h(
    "article",
    { class: "plan", "data-plan-id": plan.id },
    h(
      "h2",
      {},
      `${plan.merchantId} · order ${plan.orderReference}`,
      h("span", { class: `badge ${plan.status.toLowerCase()}` }, PLAN_STATUS_NAMES[plan.status] || plan.status),
    ),
    h("p", {}, `${PLAN_NAMES[plan.planType]} · ${money(plan.totalOfPayments)} in total · reference `, h("span", { class: "ref" }, plan.id)),
    costList([
      [plan.rateLabel, annualRate(plan)],
      plan.interestCharged && plan.interestCharged.amount !== plan.financeCharge.amount
        ? ["Interest now (after refunds or early payment)", money(plan.interestCharged)]
        : null,
      ["Paid", money(plan.amountPaid)],
      ["Still to pay", money(plan.amountOutstanding)],
    ]),
    scheduleTable(plan.installments, { caption: "Payments", withStatus: true }),
    planDocuments(plan),
    pay ? h("div", { class: "actions" }, pay) : null,
  );
}

async function viewMyPlans() {
  const { plans } = await app.api.request(Q.PLANS);
  const card = await loadCard(app.api);
  const sorted = [...plans].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  show(
    "My plans",
    null,
    cardPanel(card, (panel) => toCardPage("my-plans", panel)),
    sorted.length ? sorted.map(planCard) : h("p", {}, "You have no plans yet."),
  );
}

start();
