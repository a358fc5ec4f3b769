// What the checkout sent the shopper back with: ?status=confirmed&planId=...&orderReference=...
const params = new URLSearchParams(window.location.search);
const order = params.get("orderReference") || "your order";
const texts = {
  confirmed: ["Thank you, your order is placed", `Order ${order} is paid with pay later. We are packing it.`],
  declined: ["Pay later was not available", `Order ${order} is not paid. Choose another way to pay.`],
  referred: ["Pay later needs more time", `Order ${order} is not paid yet. Choose another way to pay or try later.`],
  cancelled: ["Checkout cancelled", `Order ${order} is not paid.`],
};
const [title, message] = texts[params.get("status")] || ["Your order", `Order ${order}.`];
document.getElementById("title").textContent = title;
document.getElementById("message").textContent = message;
document.title = `${title} · Demo Coffee Shop`;
const planId = params.get("planId");
if (planId) {
  document.getElementById("plan-id").textContent = planId;
  document.getElementById("plan").hidden = false;
}
