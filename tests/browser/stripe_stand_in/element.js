// The stand-in Payment Element's frame: the card is typed here (its own origin) and confirmed
// with the client secret; the parent page only hears whether it worked.
const clientSecret = decodeURIComponent(location.hash.slice(1));
const setupId = clientSecret.split("_secret_")[0];
window.addEventListener("message", async (event) => {
  if (!event.data || !event.data.confirm) return;
  const number = document.getElementById("number").value;
  const response = await fetch("/confirm", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ setupId, clientSecret, number }),
  });
  const body = await response.json();
  const ok = response.ok && body.status === "succeeded";
  event.source.postMessage(ok ? { setupId } : { error: (body.error && body.error.message) || "Your card was declined." }, event.origin);
});
