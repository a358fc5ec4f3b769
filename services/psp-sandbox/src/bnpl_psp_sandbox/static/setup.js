// The sandbox's card-entry page. The card goes to this origin only (same-origin fetch; the CSP's
// connect-src 'self' forbids anything else), then the shopper is sent back to the shop's return URL
// with the setup intent's id and outcome, as Stripe.js does after confirmSetup.
const intentId = decodeURIComponent(location.pathname.split("/").pop());
const clientSecret = location.hash.slice(1);
const returnUrl = new URLSearchParams(location.search).get("return_url") || "";
const $ = (id) => document.getElementById(id);

async function call(action, body) {
  const response = await fetch(`/setup/${encodeURIComponent(intentId)}/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_secret: clientSecret, return_url: returnUrl, ...body }),
  });
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.error?.message || "Something went wrong."), { field: data.error?.field });
  return data;
}

function showError(message, field) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
  document.querySelectorAll("input").forEach((input) => input.removeAttribute("aria-invalid"));
  const input = field && document.querySelector(`[name="${field === "expiry" ? "expiry" : field}"]:not([hidden])`);
  if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
}

function show(view) {
  $("loading").hidden = true;
  $("challenge").hidden = view.status !== "requires_action";
  const waiting = view.status === "requires_payment_method";
  $("card-form").hidden = !(waiting && view.payment_method_types.includes("card"));
  $("sepa-form").hidden = !(waiting && !view.payment_method_types.includes("card"));
  if (view.error) showError(view.error.message);
  if (view.status === "succeeded" || view.status === "processing") {
    $("done").textContent = "Saved. Taking you back to the shop…";
    $("done").hidden = false;
    if (view.redirect_url) location.assign(view.redirect_url);
    else $("done").textContent = "Saved. You can close this page.";
  }
}

async function submit(event, form, method) {
  event.preventDefault();
  showError("");
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    show(await call("confirm", method));
  } catch (error) {
    showError(error.message, error.field);
  } finally {
    button.disabled = false;
  }
}

$("card-form").addEventListener("submit", (event) => {
  const [month, year] = $("expiry").value.split("/").map((part) => part.trim());
  submit(event, $("card-form"), {
    type: "card",
    card: { number: $("number").value, exp_month: month || "", exp_year: year || "", cvc: $("cvc").value },
    billing_details: { name: $("card-name").value },
  });
});

$("sepa-form").addEventListener("submit", (event) => {
  submit(event, $("sepa-form"), {
    type: "sepa_debit",
    sepa_debit: { iban: $("iban").value },
    billing_details: { name: $("sepa-name").value, email: $("sepa-email").value },
  });
});

for (const [id, outcome] of [["authenticate-complete", "complete"], ["authenticate-fail", "fail"]]) {
  $(id).addEventListener("click", async () => {
    try { show(await call("authenticate", { outcome })); } catch (error) { showError(error.message); }
  });
}

$("number").addEventListener("input", (event) => {
  const digits = event.target.value.replace(/\D/g, "").slice(0, 19);
  event.target.value = digits.replace(/(.{4})/g, "$1 ").trim();
});

call("state", {}).then(show, (error) => {
  $("loading").hidden = true;
  showError(error.message === "Something went wrong." ? error.message : "This link is not valid any more.");
});
