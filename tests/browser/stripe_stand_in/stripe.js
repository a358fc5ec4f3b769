// A local stand-in for Stripe.js v3 (https://js.stripe.com/v3/), served by the browser test: the
// edge we do not own and cannot reach here. It keeps the calls the checkout page makes —
// Stripe(publishableKey), elements({clientSecret}), create("payment").mount(el) and
// confirmSetup({elements, confirmParams: {return_url}}) — and, like Stripe's, takes the card in a
// frame of its own origin, confirms the SetupIntent there (against the sandbox PSP, which speaks
// Stripe's API) and sends the browser to return_url?setup_intent=...&redirect_status=succeeded.
// What the page called is kept in window.__stripeStandIn for the test to read.
(() => {
  const origin = new URL(document.currentScript.src).origin;
  const calls = (window.__stripeStandIn = { publishableKey: null, clientSecret: null, kind: null, mounted: false, returnUrl: null });
  window.Stripe = (publishableKey) => {
    calls.publishableKey = publishableKey;
    let frame = null;
    return {
      elements({ clientSecret }) {
        calls.clientSecret = clientSecret;
        return {
          create(kind) {
            calls.kind = kind;
            return {
              mount(target) {
                frame = document.createElement("iframe");
                frame.src = `${origin}/element.html#${encodeURIComponent(clientSecret)}`;
                frame.title = "Secure payment input frame";
                target.append(frame);
                calls.mounted = true;
              },
            };
          },
        };
      },
      confirmSetup({ confirmParams }) {
        calls.returnUrl = confirmParams.return_url;
        return new Promise((resolve) => {
          const answered = (event) => {
            if (event.origin !== origin) return;
            window.removeEventListener("message", answered);
            if (event.data.error) {
              resolve({ error: { type: "card_error", message: event.data.error } });
              return;
            }
            const url = new URL(confirmParams.return_url);
            url.searchParams.set("setup_intent", event.data.setupId);
            url.searchParams.set("setup_intent_client_secret", calls.clientSecret);
            url.searchParams.set("redirect_status", "succeeded");
            location.assign(url.toString());
          };
          window.addEventListener("message", answered);
          frame.contentWindow.postMessage({ confirm: true }, origin);
        });
      },
    };
  };
})();
