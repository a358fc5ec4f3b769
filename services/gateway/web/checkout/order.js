// The checkout the merchant's server created, named by the link's token only:
//   /checkout/?token=<checkoutToken>
// Nothing else in the link is read: the merchant, the order reference, the items and the
// amount come from the session (GraphQL checkoutSession), so no edit of the page or the URL
// can change them. The token (never an access token) is kept in sessionStorage so that a
// reload or a new sign-in resumes the same checkout.

const KEY = "bnpl.checkout";
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/; // the shape the gateway accepts (it checks again)
// Links of the old page carried the order itself; they are refused, not half-read.
const ORDER_PARAMS = ["merchantId", "orderReference", "amount", "currency", "returnUrl"];

export class OrderError extends Error {}

/** The checkout token of the link, or null when the link has none; throws OrderError when it is not one. */
export function tokenFromLink(params) {
  if (ORDER_PARAMS.some((name) => params.has(name))) {
    throw new OrderError("This link carries an order instead of a checkout token. Go back to the shop and choose pay later again.");
  }
  if (!params.has("token")) return null;
  const token = params.get("token");
  if (!TOKEN.test(token)) throw new OrderError("The checkout token in this link is not valid.");
  return token;
}

export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function loadToken() {
  const token = sessionStorage.getItem(KEY);
  return token && TOKEN.test(token) ? token : null;
}

/** The merchant's return address, as the platform signed it; only a web address is followed. */
export function safeRedirect(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.toString() : null;
  } catch {
    return null;
  }
}
