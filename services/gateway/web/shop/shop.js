// The demo merchant: a fresh order reference for each visit, and the page to come back to.
const form = document.getElementById("checkout");
const bytes = crypto.getRandomValues(new Uint8Array(4));
form.elements.orderReference.value = `DEMO-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase()}`;
form.elements.returnUrl.value = new URL("return.html", window.location.href).toString();
