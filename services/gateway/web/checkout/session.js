// The signed-in session: tokens live in sessionStorage (this tab only, gone when it closes),
// never in a URL or a cookie. Only the access token is kept: when it expires the shopper
// signs in again, and the order and the checkout's progress are kept.

const TOKEN = "bnpl.session";
const FLOW = "bnpl.flow";

export function saveSession({ accessToken, email, expiresIn }) {
  const expiresAt = Date.now() + expiresIn * 1000;
  sessionStorage.setItem(TOKEN, JSON.stringify({ accessToken, email, expiresAt }));
}

export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(TOKEN) || "null");
    return session && session.accessToken ? session : null;
  } catch {
    return null;
  }
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN);
}

/** Progress of the checkout of one order: the application, its plan, retry-safe keys. */
export function loadFlow(key) {
  try {
    const flow = JSON.parse(sessionStorage.getItem(FLOW) || "null");
    return flow && flow.orderKey === key ? flow : { orderKey: key };
  } catch {
    return { orderKey: key };
  }
}

export function saveFlow(flow) {
  sessionStorage.setItem(FLOW, JSON.stringify(flow));
}

/** A random idempotency key (getRandomValues works outside secure contexts too). */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
