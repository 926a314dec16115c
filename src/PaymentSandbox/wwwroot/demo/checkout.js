"use strict";

// The demo checkout: a storefront (through the sandbox's /demo/api proxy to the Api) and a customer
// (the sandbox's /sandbox/qr-payments/{ref}/pay) on one page.

const FINAL = { Placed: "ok", Rejected: "bad", Expired: "bad", Canceled: "bad", Failed: "bad" };
const POLL_MS = 1000;

const $ = (id) => document.getElementById(id);
const items = new Map(); // sku -> { sku, name, price, currency, available }
let pollTimer = null;
let source = null; // the order's event stream, while it is open
let countdownTimer = null;
let currentOrderId = null;

function showError(message) {
  const banner = $("error");
  banner.textContent = message;
  banner.hidden = !message;
}

async function problemText(response) {
  try {
    const problem = await response.json();
    const fields = problem.errors
      ? " " + Object.entries(problem.errors).map(([f, m]) => `${f}: ${m.join(" ")}`).join("; ")
      : "";
    return `${problem.title ?? response.status}: ${problem.detail ?? ""}${fields}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function money(amount, currency) {
  return `${Number(amount).toFixed(2)} ${currency}`;
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// ---- 1. Catalog and cart ----

async function loadItem(sku) {
  const response = await fetch(`/demo/api/items/${encodeURIComponent(sku)}`);
  if (response.status === 404) return { sku, missing: true };
  if (!response.ok) throw new Error(await problemText(response));
  return await response.json();
}

function renderItems() {
  const body = $("items");
  body.replaceChildren();
  if (items.size === 0) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 4;
    cell.className = "muted";
    cell.textContent = "No items configured (Demo:Skus). Add one by SKU below.";
    return;
  }
  for (const item of items.values()) {
    const row = body.insertRow();
    if (item.missing) {
      row.insertCell().textContent = item.sku;
      const cell = row.insertCell();
      cell.colSpan = 3;
      cell.className = "muted";
      cell.textContent = "not in the catalog";
      continue;
    }
    const name = row.insertCell();
    name.append(item.name, document.createElement("br"));
    const sku = document.createElement("small");
    sku.className = "muted";
    sku.textContent = item.sku;
    name.append(sku);
    row.insertCell().textContent = money(item.price, item.currency);
    row.insertCell().textContent = item.available;
    const quantity = document.createElement("input");
    quantity.type = "number";
    quantity.min = "0";
    quantity.max = "1000";
    quantity.step = "1";
    quantity.value = "0";
    quantity.dataset.sku = item.sku;
    quantity.setAttribute("aria-label", `Quantity of ${item.name}`);
    quantity.addEventListener("input", updateTotal);
    row.insertCell().append(quantity);
  }
  updateTotal();
}

function selectedLines() {
  return [...document.querySelectorAll("#items input[data-sku]")]
    .map((input) => ({ sku: input.dataset.sku, quantity: Number.parseInt(input.value, 10) || 0 }))
    .filter((line) => line.quantity > 0);
}

function updateTotal() {
  const lines = selectedLines();
  if (lines.length === 0) {
    $("total").textContent = "–";
    return;
  }
  const currency = items.get(lines[0].sku).currency;
  const total = lines.reduce((sum, line) => sum + items.get(line.sku).price * line.quantity, 0);
  $("total").textContent = money(total, currency);
}

async function addSku(sku) {
  sku = sku.trim();
  if (!sku || items.has(sku)) return;
  try {
    items.set(sku, await loadItem(sku));
    renderItems();
    showError("");
  } catch (error) {
    showError(`Could not read item ${sku}: ${error.message}`);
  }
}

async function loadCatalog() {
  try {
    const config = await (await fetch("/demo/api/config")).json();
    for (const sku of config.skus) items.set(sku, await loadItem(sku));
    renderItems();
  } catch (error) {
    renderItems();
    showError(`Could not load the catalog: ${error.message}`);
  }
}

// ---- 2. Order and payment ----

async function placeOrder(event) {
  event.preventDefault();
  const lines = selectedLines();
  if (lines.length === 0) {
    showError("Pick at least one item (quantity 1 or more).");
    return;
  }
  const currencies = new Set(lines.map((line) => items.get(line.sku).currency));
  if (currencies.size > 1) {
    showError("All items of an order must have the same currency.");
    return;
  }
  showError("");
  $("place").disabled = true;
  try {
    const response = await fetch("/demo/api/orders", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": newKey() },
      body: JSON.stringify({ customerId: $("customer").value.trim(), currency: [...currencies][0], lines }),
    });
    if (!response.ok) throw new Error(await problemText(response));
    const accepted = await response.json();
    startTracking(accepted.orderId);
  } catch (error) {
    showError(`The order was not accepted: ${error.message}`);
    $("place").disabled = false;
  }
}

function startTracking(orderId) {
  currentOrderId = orderId;
  $("cart-section").hidden = true;
  $("order-section").hidden = false;
  $("order-id").textContent = orderId;
  $("order-message").textContent = "Order submitted; holding stock and asking the provider for a QR code…";
  $("again").hidden = true;
  $("order-heading").focus();
  follow(orderId);
}

// The order's server-sent events push every change; polling is only the fallback when the stream is refused.
function follow(orderId) {
  stopFollowing();
  if (!window.EventSource) {
    poll();
    return;
  }
  source = new EventSource(`/demo/api/orders/${encodeURIComponent(orderId)}/events`);
  source.addEventListener("order", (event) => {
    if (orderId !== currentOrderId) return;
    const order = JSON.parse(event.data);
    renderOrder(order);
    showError("");
    // The server ends the stream after a final status; closing it keeps the browser from reconnecting.
    if (FINAL[order.status]) stopFollowing();
  });
  source.addEventListener("error", () => {
    // An interrupted stream is reopened by the browser itself; one that cannot be opened falls back to polling.
    if (source && source.readyState === EventSource.CLOSED && orderId === currentOrderId) {
      stopFollowing();
      poll();
    }
  });
}

function stopFollowing() {
  if (source) source.close();
  source = null;
  clearTimeout(pollTimer);
}

async function poll() {
  clearTimeout(pollTimer);
  const orderId = currentOrderId;
  try {
    const response = await fetch(`/demo/api/orders/${encodeURIComponent(orderId)}`);
    if (orderId !== currentOrderId) return;
    if (!response.ok) throw new Error(await problemText(response));
    renderOrder(await response.json());
    showError("");
  } catch (error) {
    showError(`Could not read the order: ${error.message}`);
  }
  if (orderId === currentOrderId && !FINAL[$("order-status").textContent]) pollTimer = setTimeout(poll, POLL_MS);
}

function renderOrder(order) {
  const status = $("order-status");
  status.textContent = order.status;
  status.className = "status " + (FINAL[order.status] ? `final-${FINAL[order.status]}` : "waiting");
  $("order-total").textContent = money(order.total, order.currency);

  const payment = order.payment;
  const payable = order.status === "AwaitingPayment" && payment && payment.status === "Pending" && payment.qrPayload;
  $("payment").hidden = !payable;
  if (payable) {
    const src = `/sandbox/qr-payments/${encodeURIComponent(payment.providerReference)}/qr.png`;
    if ($("qr").getAttribute("src") !== src) $("qr").src = src;
    $("qr-payload").textContent = payment.qrPayload;
    $("pay").dataset.reference = payment.providerReference;
    $("decline").dataset.reference = payment.providerReference;
    startCountdown(payment.expiresAt);
  } else {
    stopCountdown();
  }

  $("order-message").textContent = messageFor(order);
  if (FINAL[order.status]) $("again").hidden = false;
}

function messageFor(order) {
  switch (order.status) {
    case "Submitted": return "Holding stock…";
    case "AwaitingPayment": return order.payment?.qrPayload
      ? "Scan the QR code with your banking app — or press Pay."
      : "Asking the provider for a QR code…";
    case "Placing": return "Payment received; placing the order…";
    case "Compensating": return "Undoing: releasing stock and refunding if needed…";
    case "Placed": return "Done: the order is placed and paid.";
    default: return `The order ended as ${order.status}${order.failureReason ? ` (${order.failureReason})` : ""}.`;
  }
}

function startCountdown(expiresAt) {
  const deadline = Date.parse(expiresAt);
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    $("countdown").textContent = left > 0
      ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`
      : "closed — waiting for the order to expire";
  };
  if ($("countdown").dataset.deadline !== String(deadline)) {
    stopCountdown();
    $("countdown").dataset.deadline = String(deadline);
    countdownTimer = setInterval(tick, 250);
  }
  tick();
}

function stopCountdown() {
  clearInterval(countdownTimer);
  countdownTimer = null;
  delete $("countdown").dataset.deadline;
}

async function simulate(action, button) {
  const reference = button.dataset.reference;
  $("pay").disabled = $("decline").disabled = true;
  try {
    const response = await fetch(`/sandbox/qr-payments/${encodeURIComponent(reference)}/${action}`, { method: "POST" });
    if (!response.ok) throw new Error(await problemText(response));
    $("order-message").textContent = action === "pay"
      ? "Paid at the provider; waiting for the order to notice (webhook or polling)…"
      : "Declined at the provider; waiting for the order to notice…";
    showError("");
  } catch (error) {
    showError(`The sandbox refused: ${error.message}`);
  } finally {
    $("pay").disabled = $("decline").disabled = false;
    if (!source) poll();
  }
}

function startOver() {
  currentOrderId = null;
  stopFollowing();
  stopCountdown();
  $("order-section").hidden = true;
  $("cart-section").hidden = false;
  $("place").disabled = false;
  $("qr").removeAttribute("src");
  loadCatalog();
}

document.addEventListener("DOMContentLoaded", () => {
  $("cart").addEventListener("submit", placeOrder);
  $("add-sku-button").addEventListener("click", () => addSku($("add-sku").value));
  $("add-sku").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      addSku($("add-sku").value);
    }
  });
  $("pay").addEventListener("click", (event) => simulate("pay", event.currentTarget));
  $("decline").addEventListener("click", (event) => simulate("fail", event.currentTarget));
  $("again").addEventListener("click", startOver);
  loadCatalog();
});
