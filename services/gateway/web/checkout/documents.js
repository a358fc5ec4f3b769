// The market's documents on the page: the pre-contract information shown before "Confirm"
// with an accept checkbox, and the documents kept with a plan in "My plans".
//
// The document comes from the credit service as an HTML fragment (rendered with autoescape).
// It is still never inserted as HTML: DOMParser parses it inertly (no script runs, nothing
// loads) and only the small vocabulary the templates write is rebuilt, as text, with h().

import { h } from "./dom.js";
import { formatTime } from "./money.js";
import * as Q from "./queries.js";

const TAGS = new Set(["h1", "h2", "h3", "p", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "strong", "small", "br"]);
const ATTRIBUTES = new Set(["class", "scope", "colspan", "rowspan"]);

function rebuild(node) {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const children = [...node.childNodes].map(rebuild);
  const tag = node.tagName.toLowerCase();
  if (!TAGS.has(tag)) return children; // unknown markup keeps its text only
  // the page has its own h1 and the panel's h2: the document's headings go below them
  const level = { h1: "h3", h2: "h4", h3: "h5" }[tag];
  const attrs = {};
  for (const { name, value } of node.attributes) if (ATTRIBUTES.has(name)) attrs[name] = value;
  return h(level || tag, attrs, children);
}

/** The fragment as safe DOM nodes. */
export function documentNodes(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  return [...parsed.body.childNodes].map(rebuild);
}

/**
 * The pre-contract panel of an approval: loads the document, shows it, asks for acceptance.
 * Returns { element, accepted(), hash(), focus(), reload() }; ``onChange`` runs when the box is
 * ticked. ``reload()`` reads the document again and clears the box: a confirmation on another day
 * than the decision has other due dates (the server answers DocumentOutdated).
 */
export function precontractPanel(api, applicationId, onChange = () => {}) {
  const state = { document: null };
  const box = h("input", { type: "checkbox", id: "accept-document", name: "accept", disabled: true });
  const label = h("label", { for: "accept-document" }, "I have read this information and accept it.");
  const body = h("div", { class: "document", tabindex: "0", "aria-label": "Pre-contract information" }, h("p", { class: "loading" }, "Loading the pre-contract information…"));
  const download = h("p", { class: "field-hint" });
  const element = h(
    "section",
    { class: "precontract", "aria-labelledby": "precontract-title" },
    h("h2", { id: "precontract-title" }, "Before you confirm"),
    body,
    download,
    h("div", { class: "accept" }, box, label),
  );
  box.addEventListener("change", () => onChange(box.checked));
  const load = () => api
    .request(Q.PRECONTRACT, { id: applicationId })
    .then(({ precontractInformation: doc }) => {
      state.document = doc;
      element.dataset.kind = doc.kind;
      element.querySelector("h2").textContent = doc.title;
      const nodes = documentNodes(doc.html).flat(Infinity).filter((n) => n !== null && !(typeof n === "string" && !n.trim()));
      // the panel's own heading already names the document
      if (nodes[0] instanceof Element && nodes[0].textContent.trim() === doc.title) nodes.shift();
      body.replaceChildren(...nodes);
      download.replaceChildren(
        h("a", { href: doc.pdfUrl, download: "", "data-testid": "precontract-pdf" }, "Download it as a PDF"),
        ` (link valid until ${formatTime(doc.expiresAt)}).`,
      );
      label.textContent = `I have read the ${doc.title} and accept it.`;
      box.disabled = false;
    })
    .catch(() => {
      body.replaceChildren(h("p", { class: "notice error" }, "The pre-contract information could not be loaded. Reload the page to try again."));
    });
  load();
  return {
    element,
    accepted: () => box.checked && state.document !== null,
    hash: () => (state.document ? state.document.contentHash : null),
    focus: () => box.focus(),
    reload: () => {
      state.document = null;
      box.checked = false;
      box.disabled = true;
      return load();
    },
  };
}

/** The documents kept with a plan, as download links (each link expires). */
export function planDocuments(plan) {
  if (!plan.documents || !plan.documents.length) return null;
  return h(
    "div",
    { class: "documents" },
    h("h3", {}, "Documents"),
    h(
      "ul",
      {},
      plan.documents.map((d) =>
        h("li", { "data-kind": d.kind }, h("a", { href: d.url, download: "" }, `${d.title} (PDF)`)),
      ),
    ),
  );
}

/** A declined application's notice as a downloadable document (filled in when it arrives). */
export function declineNotice(api, applicationId) {
  const element = h("p", { class: "field-hint notice-document" });
  api
    .request(Q.APPLICATION_DOCUMENTS, { id: applicationId })
    .then(({ application }) => {
      const notice = application && application.documents.find((d) => d.kind === "decline-notice");
      if (notice) element.replaceChildren(h("a", { href: notice.url, download: "" }, `${notice.title} (PDF)`));
    })
    .catch(() => {}); // the reasons above are the notice's content; the PDF is a copy
  return element;
}
