// The operations console: staff sign in through Cognito (the checkout's own modules), then
// work the review queue through the gateway's GraphQL API. Plain modules, no build step,
// the same strict Content-Security-Policy as the checkout. Every view of a case is audited by
// the service; a case shows no name, address or phone number: a review needs none. Customer
// lookups are masked and the full profile opens only with a reason (both recorded).

import { Api, ApiError, SessionExpired } from "../checkout/api.js";
import { AuthError, Cognito } from "../checkout/cognito.js";
import { h, replace } from "../checkout/dom.js";
import { formatMoney, parseAmount } from "../checkout/money.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const status = document.getElementById("status");

const STATUSES = ["OPEN", "INFO_REQUESTED", "AWAITING_SECOND_APPROVAL", "APPROVED", "DECLINED", "EXPIRED"];
const PLAN_TYPES = ["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"];
const APPROVER = "operations-risk";

const session = { token: null, email: null, groups: [] };
let cognito;
const api = new Api("/graphql", () => session.token);

const Q_QUEUE = `query Queue($status: ReviewCaseStatus, $next: String) {
  reviewQueue(status: $status, limit: 50, nextToken: $next) {
    items { id applicationId origin status openedAt ageSeconds originalDecision amount { amount currency }
            planType needsFourEyes proposal { decision reviewer } }
    nextToken } }`;
const Q_CASE = `query Case($id: ID!) { reviewCase(id: $id) {
  id applicationId customerId origin status openedAt expiresAt ageSeconds originalDecision
  amount { amount currency } planType merchantId needsFourEyes statement infoRequest applicationStatus
  secondApprover closedAt
  proposal { decision reviewer decidedAt amount { amount currency } planType reasons note }
  decision { decidedAt status score pd riskGrade scorerFailure reasons { code description } policyRulesFired
             modelVersion policyVersion featureMappingVersion features { name value }
             history { lateInstallments openPlansOutstanding heldApprovals creditLimit creditLineCurrency }
             monthlyIncome { amount currency } monthlyExpenses { amount currency } }
  outcome { status decidedAt amount { amount currency } planType reasons deciders note } } }`;
const Q_REASONS = "query { reviewReasons { code description } }";
const Q_DASHBOARD = `query { reviewDashboard { generatedAt byStatus { name count } capped oldestLiveAgeSeconds
  medianLiveAgeSeconds openedToday { name count } closedToday { name count } decisionsToday { name count } referralRate
  liveByAge { name count } } }`;
const M_DECIDE = `mutation Decide($id: ID!, $input: ReviewDecisionInput!, $key: String!) {
  decideReview(caseId: $id, input: $input, idempotencyKey: $key) { id status } }`;
const M_APPROVE = `mutation Approve($id: ID!, $key: String!) {
  approveReview(caseId: $id, idempotencyKey: $key) { id status } }`;
const Q_LOOKUP = `query Lookup($email: String, $phone: String, $app: ID, $plan: ID) {
  customerLookup(email: $email, phone: $phone, applicationId: $app, planId: $plan) {
    customerId email phoneNumber givenName familyInitial phoneVerified createdAt } }`;
const MONEY = "{ amount currency }";
const Q_OVERVIEW = `query Overview($id: ID!) { customerOverview(customerId: $id) { customerId
  applications { id status decision amount ${MONEY} merchantId orderReference planType createdAt planId }
  plans { id status planType merchantId orderReference principal ${MONEY} amountOutstanding ${MONEY} createdAt } } }`;
const Q_PROFILE = `query Profile($id: ID!, $reason: String!) { customerProfile(customerId: $id, reason: $reason) {
  id email givenName familyName dateOfBirth phoneNumber phoneVerified address { line1 line2 city postalCode country }
  monthlyIncome ${MONEY} monthlyExpenses ${MONEY} housing employment employmentYears createdAt } }`;
const Q_PLAN = `query StaffPlan($id: ID!) { staffPlan(planId: $id) { customerId
  plan { id status planType merchantId orderReference principal ${MONEY} totalOfPayments ${MONEY} amountPaid ${MONEY}
         amountOutstanding ${MONEY} lateFees ${MONEY} refunded ${MONEY} createdAt
         installments { sequence dueDate amount ${MONEY} amountPaid ${MONEY} amountDue ${MONEY} lateFee ${MONEY} status } }
  payments { id amount ${MONEY} source createdAt allocations { sequence amount ${MONEY} } }
  refunds { id amount ${MONEY} reason full returnedToShopper ${MONEY} createdAt } } }`;
const MERCHANT = "id displayName status market currency origins webhookUrl liveWebhookSecrets keys { accessKeyId valid }";
const Q_MERCHANTS = `query Merchants { merchants { ${MERCHANT} } }`;
const M_CREATE_MERCHANT = `mutation CreateMerchant($input: MerchantInput!) { createMerchant(input: $input) {
  merchant { id } credentials { accessKeyId secretAccessKey } webhookSecret } }`;
const M_SUSPEND = `mutation Suspend($id: ID!, $reason: String) { suspendMerchant(merchantId: $id, reason: $reason) { id status } }`;
const M_ACTIVATE = `mutation Activate($id: ID!, $reason: String) { activateMerchant(merchantId: $id, reason: $reason) { id status } }`;
const M_ROTATE_KEY = `mutation RotateKey($id: ID!) { rotateMerchantKey(merchantId: $id) {
  merchant { id } credentials { accessKeyId secretAccessKey } } }`;
const M_SET_ORIGINS = `mutation SetOrigins($id: ID!, $origins: [String!]!) {
  setMerchantOrigins(merchantId: $id, origins: $origins) { id origins } }`;
const M_SET_WEBHOOK = `mutation SetWebhook($id: ID!, $url: String) {
  setMerchantWebhookUrl(merchantId: $id, webhookUrl: $url) { id webhookUrl } }`;
const M_ROTATE_SECRET = `mutation RotateSecret($id: ID!) { rotateWebhookSecret(merchantId: $id) { merchant { id } webhookSecret } }`;
const M_WAIVE = `mutation Waive($plan: ID!, $inst: ID, $reason: String!, $key: String!) {
  waiveLateFee(planId: $plan, installmentId: $inst, reason: $reason, idempotencyKey: $key) {
    waived { sequence amount ${MONEY} } } }`;

function say(text, kind = "") {
  replace(status, text ? h("p", { class: `notice ${kind}` }, text) : null);
}

function title(text) {
  const el = h("h1", { id: "view-title", tabindex: "-1" }, text);
  return el;
}

let rendering = 0; // each view's number: an answer for a view no longer shown is dropped

function show(...children) {
  replace(view, ...children);
  const heading = view.querySelector("h1");
  if (heading) heading.focus();
}

function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}

function formatTime(iso) {
  return new Intl.DateTimeFormat(navigator.language || "en", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

function age(seconds) {
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function label(value) {
  return String(value).toLowerCase().replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function badge(value) {
  return h("span", { class: `status ${value}` }, label(value));
}

function renderNav() {
  if (!session.token) return replace(nav);
  const role = session.groups.includes(APPROVER) ? "approver" : "reviewer";
  replace(
    nav,
    h("a", { href: "#/queue" }, "Review queue"),
    h("a", { href: "#/customers" }, "Customers"),
    session.groups.includes(APPROVER) ? h("a", { href: "#/merchants" }, "Merchants") : null,
    h("a", { href: "#/dashboard" }, "Dashboard"),
    h("span", { class: "who" }, `${session.email} (${role})`),
    h("button", { class: "secondary", type: "button", onclick: signOut }, "Sign out"),
  );
}

function signOut() {
  session.token = null;
  session.groups = [];
  renderNav();
  location.hash = "";
  signInView();
}

// -- sign-in ----------------------------------------------------------------------------------

async function staffSignIn(email, password, askCode) {
  let data;
  if (cognito.authFlow === "USER_PASSWORD_AUTH") {
    data = await cognito.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
  } else {
    data = await cognito.signInWithSrp(email, password);
  }
  if (data.ChallengeName === "SOFTWARE_TOKEN_MFA") {
    // the staff pool requires TOTP MFA in AWS
    const code = await askCode();
    data = await cognito.call("RespondToAuthChallenge", {
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: data.Session,
      ChallengeResponses: { USERNAME: email, SOFTWARE_TOKEN_MFA_CODE: code },
    });
  }
  if (!data.AuthenticationResult) throw new AuthError("Challenge", "This account needs a step the console does not support.");
  return data.AuthenticationResult.AccessToken;
}

function askCodeView() {
  return new Promise((resolve) => {
    const input = h("input", { id: "mfa", inputmode: "numeric", autocomplete: "one-time-code", required: true });
    show(
      title("Enter your authenticator code"),
      h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); resolve(input.value.trim()); } },
        h("label", { for: "mfa" }, "6-digit code"), input, h("button", { type: "submit" }, "Verify")),
    );
  });
}

function signInView() {
  say("");
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "card", onsubmit: async (event) => {
      event.preventDefault();
      say("Signing in…");
      try {
        const token = await staffSignIn(email.value.trim(), password.value, askCodeView);
        const groups = claims(token)["cognito:groups"] || [];
        if (!groups.includes("operations") && !groups.includes(APPROVER)) {
          say("This account is not a staff account.", "error");
          return signInView();
        }
        Object.assign(session, { token, email: email.value.trim(), groups });
        renderNav();
        say("");
        route();
      } catch (error) {
        say(error instanceof AuthError ? error.message : "Sign-in failed.", "error");
      }
    } },
    h("label", { for: "email" }, "E-mail"), email,
    h("label", { for: "password" }, "Password"), password,
    h("button", { type: "submit" }, "Sign in"),
  );
  show(title("Staff sign-in"), form);
}

// -- queue ------------------------------------------------------------------------------------

async function queueView(filter) {
  const select = h("select", { id: "filter", onchange: () => { location.hash = `#/queue?status=${select.value}`; } },
    STATUSES.map((s) => h("option", { value: s, selected: s === filter }, label(s))));
  show(title("Review queue"), h("div", { class: "filters" }, h("div", {}, h("label", { for: "filter" }, "Status"), select)),
    h("p", { class: "loading" }, "Loading…"));
  const mine = ++rendering;
  const data = await api.request(Q_QUEUE, { status: filter });
  if (mine !== rendering) return;
  const items = data.reviewQueue.items;
  const table = items.length
    ? h("table", {},
      h("thead", {}, h("tr", {}, ["Opened", "Age", "Origin", "Original decision", "Amount", "Plan", "Status", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((c) => h("tr", {},
        h("td", {}, formatTime(c.openedAt)),
        h("td", {}, age(c.ageSeconds)),
        h("td", {}, label(c.origin)),
        h("td", {}, label(c.originalDecision)),
        h("td", { class: "num" }, formatMoney(c.amount)),
        h("td", {}, label(c.planType)),
        h("td", {}, badge(c.status), c.needsFourEyes ? h("span", { class: "muted" }, " · four eyes") : null),
        h("td", {}, h("a", { href: `#/case/${c.id}`, "aria-label": `Open case opened ${formatTime(c.openedAt)}` }, "Open")),
      ))))
    : h("p", { class: "notice" }, "No cases with this status.");
  view.querySelector(".loading").replaceWith(h("p", { class: "muted" }, `${items.length} case(s), oldest first.`), table);
}

// -- case -------------------------------------------------------------------------------------

function dl(pairs) {
  return h("dl", {}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function decisionCard(d) {
  if (!d) return h("p", { class: "notice" }, "The decision record is not available.");
  return h("div", { class: "grid" },
    h("div", { class: "card" }, h("h2", {}, "What the decision saw"), dl([
      ["Outcome", badge(d.status)],
      ["Score", d.score === null ? "none" : String(d.score)],
      ["PD", d.pd === null ? "none" : `${(d.pd * 100).toFixed(1)} %`],
      ["Risk grade", d.riskGrade || "none"],
      ["Scorer failure", d.scorerFailure],
      ["Policy rules fired", d.policyRulesFired.length ? d.policyRulesFired.join(", ") : "none"],
      ["Model", d.modelVersion || "none"],
      ["Policy", d.policyVersion],
      ["Income / month", d.monthlyIncome ? formatMoney(d.monthlyIncome) : null],
      ["Expenses / month", d.monthlyExpenses ? formatMoney(d.monthlyExpenses) : null],
    ]),
    h("h2", {}, "Reasons"),
    h("ul", {}, d.reasons.map((r) => h("li", {}, h("b", {}, r.code), " ", r.description)))),
    h("div", { class: "card" }, h("h2", {}, "History with us"), dl([
      ["Late installments", String(d.history.lateInstallments)],
      ["Open plans outstanding", String(d.history.openPlansOutstanding)],
      ["Held approvals", String(d.history.heldApprovals)],
      ["Credit limit", d.history.creditLimit === null ? "none yet" : formatMoney({ amount: d.history.creditLimit, currency: d.history.creditLineCurrency })],
    ]),
    h("h2", {}, `Model inputs as scored (${d.featureMappingVersion})`),
    h("table", {}, h("tbody", {}, d.features.map((f) => h("tr", {}, h("td", {}, f.name), h("td", { class: "num" }, f.value)))))),
  );
}

function key() {
  return crypto.randomUUID();
}

function actionForm(c, reasons) {
  const choice = h("select", { id: "decision" },
    h("option", { value: "APPROVE" }, "Approve"),
    h("option", { value: "DECLINE" }, "Decline"),
    h("option", { value: "REQUEST_INFO" }, "Ask the shopper for information"));
  const amount = h("input", { id: "amount", inputmode: "decimal", value: formatMoney(c.amount).replace(/[^\d.,]/g, "") });
  const plan = h("select", { id: "plan" }, PLAN_TYPES.map((p) => h("option", { value: p, selected: p === c.planType }, label(p))));
  const reasonBoxes = reasons.map((r) => h("label", {}, h("input", { type: "checkbox", name: "reason", value: r.code }), `${r.code}: ${r.description}`));
  const note = h("textarea", { id: "note" });
  const approveBits = h("div", {}, h("label", { for: "amount" }, `Amount (${c.amount.currency}, at most ${formatMoney(c.amount)})`), amount,
    h("label", { for: "plan" }, "Plan"), plan);
  const declineBits = h("fieldset", { hidden: true }, h("legend", {}, "Reasons (from the catalogue)"), reasonBoxes);
  choice.addEventListener("change", () => {
    approveBits.hidden = choice.value !== "APPROVE";
    declineBits.hidden = choice.value !== "DECLINE";
  });
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    const input = { decision: choice.value, note: note.value.trim() || null };
    if (choice.value === "APPROVE") {
      const minor = parseAmount(amount.value, c.amount.currency);
      if (minor === null) return say("Enter the amount to approve.", "error");
      input.amount = { amount: minor, currency: c.amount.currency };
      input.planType = plan.value;
    }
    if (choice.value === "DECLINE") input.reasons = [...declineBits.querySelectorAll("input:checked")].map((i) => i.value);
    try {
      const out = await api.request(M_DECIDE, { id: c.id, input, key: key() });
      say(`Case is now ${label(out.decideReview.status)}.`, "ok");
      caseView(c.id);
    } catch (error) {
      if (error instanceof SessionExpired) return signOut();
      say(error.message, "error");
    }
  } },
  h("h2", {}, "Decide"), h("label", { for: "decision" }, "Decision"), choice, approveBits, declineBits,
  h("label", { for: "note" }, "Note (kept in the audit log)"), note,
  h("button", { type: "submit" }, "Record decision"));
}

function secondApproval(c) {
  const mine = c.proposal && session.groups.includes(APPROVER);
  return h("div", { class: "card" }, h("h2", {}, "Second approval needed"),
    h("p", {}, `Proposed: approve ${formatMoney(c.proposal.amount)} as ${label(c.proposal.planType)}, by reviewer ${c.proposal.reviewer}.`),
    c.proposal.note ? h("p", { class: "statement" }, c.proposal.note) : null,
    mine
      ? h("button", { type: "button", onclick: async () => {
        try {
          const out = await api.request(M_APPROVE, { id: c.id, key: key() });
          say(`Case is now ${label(out.approveReview.status)}.`, "ok");
          caseView(c.id);
        } catch (error) {
          say(error.message, "error");
        }
      } }, "Confirm approval")
      : h("p", { class: "muted" }, "An approver (operations-risk) who is not the first reviewer confirms it."));
}

async function caseView(id) {
  show(title("Review case"), h("p", { class: "loading" }, "Loading…"));
  const mine = ++rendering;
  const [{ reviewCase: c }, { reviewReasons }] = await Promise.all([api.request(Q_CASE, { id }), api.request(Q_REASONS)]);
  if (mine !== rendering) return;
  if (!c) return show(title("Review case"), h("p", { class: "notice error" }, "No such case."));
  const live = c.status === "OPEN" || c.status === "INFO_REQUESTED";
  show(
    title(`Review case: ${label(c.origin)}`),
    h("div", { class: "card" }, dl([
      ["Status", badge(c.status)],
      ["Opened", `${formatTime(c.openedAt)} (${age(c.ageSeconds)} ago)`],
      ["Expires", formatTime(c.expiresAt)],
      ["Asked", `${formatMoney(c.amount)} · ${label(c.planType)}`],
      ["Merchant", c.merchantId],
      ["Original decision", label(c.originalDecision)],
      ["Application", `${c.applicationId} (${label(c.applicationStatus || "")})`],
      ["Four eyes", c.needsFourEyes ? "yes: an approver must confirm an approval" : "no"],
    ])),
    c.statement ? h("div", { class: "card" }, h("h2", {}, c.infoRequest ? "What the shopper wrote (statement and answers)" : "The shopper's statement"), h("p", { class: "statement" }, c.statement)) : null,
    c.infoRequest ? h("div", { class: "card" }, h("h2", {}, "Information asked"), h("p", {}, c.infoRequest)) : null,
    c.status === "AWAITING_SECOND_APPROVAL" ? secondApproval(c) : null,
    live ? actionForm(c, reviewReasons) : null,
    c.outcome ? h("div", { class: "card" }, h("h2", {}, "Outcome"), dl([
      ["Decision", badge(c.outcome.status)],
      ["Amount", `${formatMoney(c.outcome.amount)} · ${label(c.outcome.planType)}`],
      ["Reasons", c.outcome.reasons.join(", ")],
      ["Decided by", c.outcome.deciders.join(" + ")],
      ["Note", c.outcome.note],
    ])) : null,
    decisionCard(c.decision),
  );
}

// -- customers --------------------------------------------------------------------------------
// A lookup shows masked matches; a customer's page shows their business with us (no personal
// data); the full profile opens only with a reason, which the user service records.

const LOOKUP_BY = [
  ["email", "E-mail"],
  ["phone", "Phone number (verified, +E.164)"],
  ["app", "Application id"],
  ["plan", "Plan id"],
];

function table(headings, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headings.map((t) => h("th", {}, t)))), h("tbody", {}, rows));
}

function customersView() {
  const by = h("select", { id: "by" }, LOOKUP_BY.map(([value, text]) => h("option", { value }, text)));
  const value = h("input", { id: "lookup-value", required: true, autocomplete: "off" });
  const results = h("div", { id: "results" });
  const form = h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    say("");
    try {
      const { customerLookup } = await api.request(Q_LOOKUP, { [by.value]: value.value.trim() });
      replace(results, customerLookup.length
        ? table(["Customer", "Name", "E-mail", "Phone", "Since", ""], customerLookup.map((m) => h("tr", {},
          h("td", { class: "ref" }, m.customerId),
          h("td", {}, `${m.givenName} ${m.familyInitial}.`),
          h("td", {}, m.email || "none"),
          h("td", {}, m.phoneNumber, m.phoneVerified ? "" : " (unverified)"),
          h("td", {}, formatTime(m.createdAt)),
          h("td", {}, h("a", { href: `#/customer/${m.customerId}`, "aria-label": `Open customer ${m.givenName} ${m.familyInitial}.` }, "Open")),
        )))
        : h("p", { class: "notice" }, "No customer found."));
    } catch (error) {
      if (error instanceof SessionExpired) return signOut();
      say(error.message, "error");
    }
  } },
  h("label", { for: "by" }, "Find by"), by,
  h("label", { for: "lookup-value" }, "Value"), value,
  h("button", { type: "submit" }, "Find"),
  h("p", { class: "muted" }, "Results are masked; every lookup is recorded."));
  show(title("Customers"), form, results);
}

function profileForm(customerId, into) {
  const reason = h("textarea", { id: "reason", required: true, minlength: 5 });
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { customerProfile: p } = await api.request(Q_PROFILE, { id: customerId, reason: reason.value.trim() });
      if (!p) return say("No profile for this customer.", "error");
      const a = p.address;
      replace(into, h("div", { class: "card" }, h("h2", {}, "Profile"), dl([
        ["Name", `${p.givenName} ${p.familyName}`],
        ["Born", p.dateOfBirth],
        ["E-mail", p.email],
        ["Phone", `${p.phoneNumber}${p.phoneVerified ? " (verified)" : ""}`],
        ["Address", [a.line1, a.line2, `${a.postalCode} ${a.city}`, a.country].filter(Boolean).join(", ")],
        ["Income / month", formatMoney(p.monthlyIncome)],
        ["Expenses / month", formatMoney(p.monthlyExpenses)],
        ["Housing", label(p.housing)],
        ["Employment", `${label(p.employment)}, ${p.employmentYears} year(s)`],
      ])));
    } catch (error) {
      if (error instanceof SessionExpired) return signOut();
      say(error.message, "error");
    }
  } },
  h("h2", {}, "Full profile"),
  h("label", { for: "reason" }, "Why do you need it? (recorded with your name)"), reason,
  h("button", { type: "submit" }, "Open full profile"));
}

async function customerView(id) {
  show(title("Customer"), h("p", { class: "loading" }, "Loading…"));
  const mine = ++rendering;
  const { customerOverview: o } = await api.request(Q_OVERVIEW, { id });
  if (mine !== rendering) return;
  const profile = h("div", {});
  show(
    title("Customer"),
    h("p", { class: "muted" }, `Customer ${o.customerId}`),
    h("div", { class: "card" }, h("h2", {}, "Plans"), o.plans.length
      ? table(["Created", "Merchant", "Order", "Plan", "Principal", "Outstanding", "Status", ""], o.plans.map((p) => h("tr", {},
        h("td", {}, formatTime(p.createdAt)), h("td", {}, p.merchantId), h("td", {}, p.orderReference), h("td", {}, label(p.planType)),
        h("td", { class: "num" }, formatMoney(p.principal)), h("td", { class: "num" }, formatMoney(p.amountOutstanding)),
        h("td", {}, badge(p.status)), h("td", {}, h("a", { href: `#/plan/${p.id}`, "aria-label": `Open plan ${p.orderReference}` }, "Open")))))
      : h("p", {}, "No plans.")),
    h("div", { class: "card" }, h("h2", {}, "Applications"), o.applications.length
      ? table(["Created", "Merchant", "Order", "Amount", "Decision", "Status"], o.applications.map((a) => h("tr", {},
        h("td", {}, formatTime(a.createdAt)), h("td", {}, a.merchantId), h("td", {}, a.orderReference),
        h("td", { class: "num" }, formatMoney(a.amount)), h("td", {}, label(a.decision)), h("td", {}, badge(a.status)))))
      : h("p", {}, "No applications.")),
    profileForm(id, profile),
    profile,
  );
}

async function planView(id) {
  show(title("Plan"), h("p", { class: "loading" }, "Loading…"));
  const mine = ++rendering;
  const { staffPlan: s } = await api.request(Q_PLAN, { id });
  if (mine !== rendering) return;
  if (!s) return show(title("Plan"), h("p", { class: "notice error" }, "No such plan."));
  const p = s.plan;
  const money = (m) => (m ? formatMoney(m) : "none");
  show(
    title(`Plan ${p.orderReference}`),
    h("p", {}, h("a", { href: `#/customer/${s.customerId}` }, "Back to the customer")),
    h("div", { class: "card" }, dl([
      ["Status", badge(p.status)],
      ["Merchant", p.merchantId],
      ["Plan", label(p.planType)],
      ["Principal", money(p.principal)],
      ["Total of payments", money(p.totalOfPayments)],
      ["Late fees", money(p.lateFees)],
      ["Refunded", money(p.refunded)],
      ["Paid", money(p.amountPaid)],
      ["Outstanding", money(p.amountOutstanding)],
    ])),
    h("div", { class: "card" }, h("h2", {}, "Installments"), table(["#", "Due", "Amount", "Late fee", "Paid", "Due now", "Status"],
      p.installments.map((i) => h("tr", {}, h("td", {}, String(i.sequence)), h("td", {}, i.dueDate),
        h("td", { class: "num" }, money(i.amount)), h("td", { class: "num" }, money(i.lateFee)),
        h("td", { class: "num" }, money(i.amountPaid)), h("td", { class: "num" }, money(i.amountDue)), h("td", {}, badge(i.status)))))),
    h("div", { class: "card" }, h("h2", {}, "Payments"), s.payments.length
      ? table(["When", "Amount", "Source", "Installments"], s.payments.map((x) => h("tr", {},
        h("td", {}, formatTime(x.createdAt)), h("td", { class: "num" }, money(x.amount)), h("td", {}, label(x.source)),
        h("td", {}, x.allocations.map((a) => `#${a.sequence}: ${money(a.amount)}`).join(", ")))))
      : h("p", {}, "No payments yet.")),
    h("div", { class: "card" }, h("h2", {}, "Refunds"), s.refunds.length
      ? table(["When", "Amount", "Reason", "Returned to the shopper"], s.refunds.map((r) => h("tr", {},
        h("td", {}, formatTime(r.createdAt)), h("td", { class: "num" }, money(r.amount)), h("td", {}, r.reason),
        h("td", { class: "num" }, money(r.returnedToShopper)))))
      : h("p", {}, "No refunds.")),
    waiverForm(p),
  );
}

/** Approvers waive the unpaid late fee of an installment, with a reason (audited with it). */
function waiverForm(p) {
  const fees = p.installments.filter((i) => i.lateFee && i.lateFee.amount > 0);
  if (!fees.length) return null;
  if (!session.groups.includes(APPROVER)) {
    return h("p", { class: "muted" }, "An approver (operations-risk) can waive a late fee.");
  }
  const which = h("select", { id: "waive-installment" },
    fees.map((i) => h("option", { value: String(i.sequence) }, `Installment ${i.sequence}: ${formatMoney(i.lateFee)}`)));
  const reason = h("textarea", { id: "waive-reason", required: true, minlength: 5 });
  const idempotency = key(); // one waiver per form: a second click is the same request
  return h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { waiveLateFee } = await api.request(M_WAIVE, { plan: p.id, inst: which.value, reason: reason.value.trim(), key: idempotency });
      const total = waiveLateFee.waived.map((w) => `${formatMoney(w.amount)} on installment ${w.sequence}`).join(", ");
      say(`Waived ${total}.`, "ok");
      planView(p.id);
    } catch (error) {
      if (error instanceof SessionExpired) return signOut();
      say(error.message, "error");
    }
  } },
  h("h2", {}, "Waive a late fee"),
  h("label", { for: "waive-installment" }, "Installment"), which,
  h("label", { for: "waive-reason" }, "Reason (kept in the audit log)"), reason,
  h("button", { type: "submit" }, "Waive late fee"));
}

// -- merchants (approvers) --------------------------------------------------------------------
// The registry through staff GraphQL: secrets are shown once, in a box the next view removes.

function secretsBox(titleText, pairs) {
  return h("div", { class: "card secrets", role: "alert" }, h("h2", {}, titleText),
    h("p", {}, "Copy these now and hand them to the merchant over a safe channel: they are not shown again."),
    dl(pairs.map(([k, v]) => [k, h("code", {}, v)])));
}

async function merchantAction(run, done) {
  try {
    const out = await run();
    await merchantsView(done(out));
  } catch (error) {
    if (error instanceof SessionExpired) return signOut();
    say(error.message, "error");
  }
}

function merchantRow(m) {
  const active = m.status === "ACTIVE";
  const name = m.displayName;
  const toggle = h("button", { type: "button", class: "secondary", onclick: () => {
    const reason = active ? window.prompt(`Why suspend ${name}? (kept in the audit log)`) : null;
    if (active && reason === null) return;
    merchantAction(
      () => api.request(active ? M_SUSPEND : M_ACTIVATE, { id: m.id, reason: reason || null }),
      () => { say(`${name} is now ${active ? "suspended" : "active"}.`, "ok"); return null; },
    );
  } }, active ? `Suspend ${name}` : `Activate ${name}`);
  const rotateKey = h("button", { type: "button", class: "secondary", onclick: () => merchantAction(
    () => api.request(M_ROTATE_KEY, { id: m.id }),
    (out) => secretsBox(`New access key of ${name}`, [
      ["Access key id", out.rotateMerchantKey.credentials.accessKeyId],
      ["Secret access key", out.rotateMerchantKey.credentials.secretAccessKey],
    ]),
  ) }, "Rotate key");
  const rotateSecret = h("button", { type: "button", class: "secondary", onclick: () => merchantAction(
    () => api.request(M_ROTATE_SECRET, { id: m.id }),
    (out) => secretsBox(`New webhook secret of ${name}`, [["Webhook secret", out.rotateWebhookSecret.webhookSecret]]),
  ) }, "Rotate webhook secret");
  const change = h("button", { type: "button", class: "secondary", onclick: () => merchantsView(editMerchantForm(m)) },
    `Edit ${name}`);
  return h("tr", { "data-merchant": m.id },
    h("td", {}, h("b", {}, name), h("br"), h("span", { class: "muted" }, m.id)),
    h("td", {}, `${m.market} · ${m.currency}`),
    h("td", {}, m.origins.join(", ")),
    h("td", {}, m.webhookUrl || "none", m.liveWebhookSecrets > 1 ? h("span", { class: "muted" }, " (rotating)") : null),
    h("td", {}, `${m.keys.filter((k) => k.valid).length} valid`),
    h("td", {}, badge(m.status)),
    h("td", { class: "actions" }, change, toggle, rotateKey, rotateSecret));
}

/** Origins and webhook URL: each change its own audited mutation, sent only if it changed. */
function editMerchantForm(m) {
  const origins = h("textarea", { id: "e-origins", rows: 3, required: true });
  origins.value = m.origins.join("\n");
  const hook = h("input", { id: "e-webhook", value: m.webhookUrl || "" });
  return h("form", { class: "card", "aria-label": `Edit ${m.displayName}`, onsubmit: (event) => {
    event.preventDefault();
    const wanted = origins.value.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean);
    const url = hook.value.trim() || null;
    const originsChanged = wanted.join("\n") !== m.origins.join("\n");
    const hookChanged = url !== (m.webhookUrl || null);
    if (!originsChanged && !hookChanged) return say("Nothing changed.", "");
    merchantAction(
      async () => {
        if (originsChanged) await api.request(M_SET_ORIGINS, { id: m.id, origins: wanted });
        if (hookChanged) await api.request(M_SET_WEBHOOK, { id: m.id, url });
      },
      () => { say(`${m.displayName} is updated.`, "ok"); return null; },
    );
  } },
  h("h2", {}, `Edit ${m.displayName}`),
  h("label", { for: "e-origins" }, "Origins (one per line, https://shop.example)"), origins,
  h("label", { for: "e-webhook" }, "Webhook URL (empty: no webhooks)"), hook,
  h("button", { type: "submit" }, "Save changes"),
  h("button", { type: "button", class: "secondary", onclick: () => merchantsView() }, "Cancel"));
}

function createMerchantForm() {
  const field = (id, text, attrs = {}) => [h("label", { for: id }, text), h("input", { id, required: true, ...attrs })];
  const [idLabel, id] = field("m-id", "Merchant id (a-z, 0-9, -)", { pattern: "[a-z0-9][a-z0-9-]{1,62}" });
  const [nameLabel, name] = field("m-name", "Display name");
  const market = h("select", { id: "m-market" }, [["EU", "EUR"], ["UK", "GBP"], ["US", "USD"]].map(([mk, cur]) =>
    h("option", { value: `${mk}:${cur}` }, `${mk} (${cur})`)));
  const [originLabel, origin] = field("m-origin", "Shop origin (https://shop.example)");
  const hook = h("input", { id: "m-webhook" });
  return h("form", { class: "card", onsubmit: (event) => {
    event.preventDefault();
    const [mk, cur] = market.value.split(":");
    const input = { merchantId: id.value.trim(), displayName: name.value.trim(), market: mk, currency: cur,
      origins: [origin.value.trim()], webhookUrl: hook.value.trim() || null };
    merchantAction(
      () => api.request(M_CREATE_MERCHANT, { input }),
      (out) => secretsBox(`${input.displayName} is created`, [
        ["Access key id", out.createMerchant.credentials.accessKeyId],
        ["Secret access key", out.createMerchant.credentials.secretAccessKey],
        ["Webhook secret", out.createMerchant.webhookSecret],
      ]),
    );
  } },
  h("h2", {}, "New merchant"), idLabel, id, nameLabel, name, h("label", { for: "m-market" }, "Market"), market,
  originLabel, origin, h("label", { for: "m-webhook" }, "Webhook URL (optional)"), hook,
  h("button", { type: "submit" }, "Create merchant"));
}

async function merchantsView(shown = null) {
  const mine = ++rendering;
  const { merchants } = await api.request(Q_MERCHANTS);
  if (mine !== rendering) return;
  show(
    title("Merchants"),
    shown,
    h("div", { class: "card" }, table(["Merchant", "Market", "Origins", "Webhook", "Keys", "Status", ""], merchants.map(merchantRow))),
    createMerchantForm(),
  );
}

// -- dashboard --------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** A horizontal bar chart as inline SVG (no styles, no scripts: the CSP allows it). */
function barChart(titleText, rows) {
  const width = 420;
  const bar = 22;
  const gap = 8;
  const labelWidth = 170;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const height = rows.length * (bar + gap) + gap;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": titleText },
    svg("title", {}, titleText),
    ...rows.flatMap((r, i) => {
      const y = gap + i * (bar + gap);
      const w = Math.round(((width - labelWidth - 50) * r.count) / max);
      return [
        svg("text", { x: 0, y: y + bar * 0.7, "font-size": 13, fill: "#1b1b1f" }, label(r.name)),
        svg("rect", { x: labelWidth, y, width: Math.max(w, 1), height: bar, rx: 3, fill: "#3a2fb4" }),
        svg("text", { x: labelWidth + Math.max(w, 1) + 6, y: y + bar * 0.7, "font-size": 13, fill: "#1b1b1f" }, String(r.count)),
      ];
    }));
  return h("div", { class: "card" }, h("h2", {}, titleText), chart,
    h("table", { class: "visually-hidden" }, h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, label(r.name)), h("td", {}, String(r.count)))))));
}

async function dashboardView() {
  show(title("Dashboard"), h("p", { class: "loading" }, "Loading…"));
  const mine = ++rendering;
  const { reviewDashboard: d } = await api.request(Q_DASHBOARD);
  if (mine !== rendering) return;
  const live = d.byStatus.filter((r) => ["OPEN", "INFO_REQUESTED", "AWAITING_SECOND_APPROVAL"].includes(r.name));
  const waiting = live.reduce((n, r) => n + r.count, 0);
  const opened = d.openedToday.reduce((n, r) => n + r.count, 0);
  const referrals = (d.openedToday.find((r) => r.name === "REFERRAL") || { count: 0 }).count;
  const decided = d.decisionsToday.reduce((n, r) => n + r.count, 0);
  show(
    title("Dashboard"),
    h("div", { class: "grid" },
      h("div", { class: "card" }, h("h2", {}, "Queue"), dl([
        ["Waiting for a person", String(waiting)],
        ["Oldest waiting", d.oldestLiveAgeSeconds === null ? "none" : age(d.oldestLiveAgeSeconds)],
        ["Median wait", d.medianLiveAgeSeconds === null ? "none" : age(d.medianLiveAgeSeconds)],
        ["Credit decisions today", String(decided)],
        ["Referral rate today", d.referralRate === null ? "no decisions yet" : `${(100 * d.referralRate).toFixed(1)} %`],
        ["Cases opened today", String(opened)],
        ["Of them referrals", opened ? `${referrals} (${Math.round((100 * referrals) / opened)} %)` : "none"],
        ["Counted at", formatTime(d.generatedAt)],
      ]), d.capped.length ? h("p", { class: "muted" }, `At least: ${d.capped.map(label).join(", ")}`) : null),
      barChart("Decisions today by outcome", d.decisionsToday),
      barChart("Waiting cases by age", d.liveByAge),
      barChart("Cases by status", d.byStatus),
      barChart("Closed today by outcome", d.closedToday.length ? d.closedToday : [{ name: "NONE_YET", count: 0 }]),
    ),
  );
}

// -- routing ----------------------------------------------------------------------------------

async function route() {
  if (!session.token) return signInView();
  const hash = location.hash || "#/queue";
  try {
    const caseMatch = /^#\/case\/([A-Za-z0-9_-]+)$/.exec(hash);
    if (caseMatch) return await caseView(caseMatch[1]);
    if (hash === "#/dashboard") return await dashboardView();
    if (hash === "#/customers") return customersView();
    if (hash === "#/merchants") return await merchantsView();
    const customerMatch = /^#\/customer\/([A-Za-z0-9_-]+)$/.exec(hash);
    if (customerMatch) return await customerView(customerMatch[1]);
    const planMatch = /^#\/plan\/([A-Za-z0-9_-]+)$/.exec(hash);
    if (planMatch) return await planView(planMatch[1]);
    const filter = new URLSearchParams(hash.split("?")[1] || "").get("status");
    return await queueView(STATUSES.includes(filter) ? filter : "OPEN");
  } catch (error) {
    if (error instanceof SessionExpired) return signOut();
    say(error instanceof ApiError ? error.message : "Something went wrong.", "error");
  }
}

async function start() {
  const config = await (await fetch("/config.json", { cache: "no-store" })).json();
  cognito = new Cognito(config.staffCognito || config.cognito);
  window.addEventListener("hashchange", () => { say(""); route(); });
  route();
}

start();
