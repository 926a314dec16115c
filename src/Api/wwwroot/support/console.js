"use strict";

// The support console. It uses only the contract's support endpoints (GET /orders, /orders/{id},
// /orders/{id}/timeline, /orders/stats, POST /orders/{id}/cancel) with the key the person signed in with,
// kept in sessionStorage: this tab only, gone when it closes, never in a cookie or localStorage.
// Everything the server sends reaches the page through textContent or element properties, never as markup.

const KEY_STORAGE = "sagas.support.apiKey";
const STATS_EVERY_MS = 5000;
const ORDER_EVERY_MS = 1500;
const STATUSES = ["Submitted", "AwaitingPayment", "Placing", "Compensating", "Placed", "Rejected", "Expired", "Canceled", "Failed"];
const FINAL = new Set(["Placed", "Rejected", "Expired", "Canceled", "Failed"]);
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OUTBOX_ALARM_SECONDS = 30;

const $ = (id) => document.getElementById(id);

/** The Api answered with an error (problem+json). */
class ProblemError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** 401 or 403: the key is not, or no longer, good for this console. */
class KeyRefusedError extends ProblemError {}

/** No answer at all: the Api is down or the network is. */
class UnreachableError extends Error {}

/** An answer to a request made before the last sign-in or sign-out: it must not be shown. */
class StaleError extends Error {}

// Incremented at every sign-in and sign-out. Answers to requests of an earlier session are dropped, so
// nothing fetched before the key was refused can appear once the sign-in form is back.
let session = 0;
let statsTimer = null;
let consoleStarted = false;

const search = { params: new URLSearchParams(), cursors: [null], next: null, ticket: 0 };
let current = newCurrent(null);

/** The order on screen; `ticket` numbers its refreshes so only the latest one renders and schedules the next. */
function newCurrent(id) {
  return { id, order: null, timer: null, ticket: 0, cancelFrom: null, cancelAt: null, timelineSignature: "" };
}

// ---- talking to the Api ------------------------------------------------------------------------------

function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function readProblem(response) {
  try {
    const body = await response.json();
    return body && typeof body === "object" ? body : {};
  } catch {
    return {};
  }
}

async function send(path, key, method = "GET", body = undefined) {
  let response;
  try {
    const headers = { "X-Api-Key": key, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new UnreachableError("The Api did not answer (network error).");
  }
  if (response.status === 401 || response.status === 403) throw new KeyRefusedError(response.status, await readProblem(response));
  if (!response.ok) throw new ProblemError(response.status, await readProblem(response));
  return await response.json();
}

/** A call in the signed-in session: a refused key signs out, an unreachable Api raises the banner. */
async function api(path, method = "GET", body = undefined) {
  const mine = session;
  const key = storedKey();
  if (!key) throw new StaleError();
  try {
    const result = await send(path, key, method, body);
    if (mine !== session) throw new StaleError();
    setApiProblem(null);
    return result;
  } catch (error) {
    if (mine !== session || error instanceof StaleError) throw new StaleError();
    if (error instanceof KeyRefusedError) {
      signOut(refusedMessage(error, true));
    } else if (error instanceof UnreachableError) {
      setApiProblem("Cannot reach the Api (network error). What you see may be out of date; retrying every few seconds.");
    } else if (error.status >= 500) {
      setApiProblem(`The Api answered ${error.status}: ${error.message}`);
    }
    throw error;
  }
}

/** Errors already dealt with in one place (sign-out, a stale answer): callers only stop. */
function handled(error) {
  return error instanceof StaleError || error instanceof KeyRefusedError;
}

function refusedMessage(error, duringSession) {
  const prefix = duringSession ? "Your key is no longer accepted" : "This key was not accepted";
  return error.status === 403
    ? `${prefix}: it is not a support key (403 Forbidden). Sign in with a support key.`
    : `${prefix} (401 Unauthorized). Check the key and sign in again.`;
}

function setApiProblem(message) {
  const banner = $("api-down");
  if (!message) {
    banner.hidden = true;
    banner.textContent = "";
    return;
  }
  if (banner.textContent !== message) banner.textContent = message;
  banner.hidden = false;
}

// ---- formatting --------------------------------------------------------------------------------------

function money(amount, currency) {
  return `${Number(amount).toFixed(2)} ${currency}`;
}

/** 2026-11-27 03:12:45 (UTC), or with milliseconds for the timeline. */
function instant(value, withMilliseconds = false) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, withMilliseconds ? 23 : 19)}`;
}

function clock(date = new Date()) {
  return date.toISOString().slice(11, 19);
}

function duration(seconds) {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 120 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "2026-11-27T03:00" from a datetime-local input, read as UTC. */
function utcFromInput(value) {
  if (!value) return null;
  return `${value.length === 16 ? `${value}:00` : value}Z`;
}

function statusBadge(element, status) {
  element.textContent = status;
  element.className = "status " + (status === "Placed" ? "final-ok" : FINAL.has(status) ? "final-bad" : "waiting");
}

function setText(element, text) {
  // Live regions announce every change; an unchanged text must not be announced again.
  if (element.textContent !== text) element.textContent = text;
}

function cell(row, label, content, className) {
  const td = row.insertCell();
  td.dataset.label = label;
  if (className) td.className = className;
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

// ---- sign-in and sign-out ----------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const input = $("signin-key");
  const key = input.value.trim();
  const error = $("signin-error");
  if (!key) {
    error.textContent = "Enter your support API key.";
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }

  $("signin-submit").disabled = true;
  error.textContent = "";
  try {
    // Stats need the support role: the cheapest way to learn whether the key is good for this console.
    const stats = await send("/orders/stats", key);
    sessionStorage.setItem(KEY_STORAGE, key);
    input.value = "";
    input.removeAttribute("aria-invalid");
    session++;
    setApiProblem(null);
    startConsole(stats);
    route();
  } catch (failure) {
    input.setAttribute("aria-invalid", "true");
    if (failure instanceof KeyRefusedError) error.textContent = refusedMessage(failure, false);
    else if (failure instanceof UnreachableError) error.textContent = "The Api did not answer (network error). Is it running? Try again in a moment.";
    else error.textContent = `Could not sign in: the Api answered ${failure.status}: ${failure.message}`;
    input.select();
  } finally {
    $("signin-submit").disabled = false;
  }
}

function signOut(message = "") {
  session++;
  sessionStorage.removeItem(KEY_STORAGE);
  consoleStarted = false;
  clearTimeout(statsTimer);
  stopOrderPolling();
  if ($("cancel-dialog").open) $("cancel-dialog").close("");
  clearData();
  showSignIn(message);
}

/** Removes every piece of server data from the page. */
function clearData() {
  for (const id of ["results-body", "lines-body", "timeline-body"]) $(id).replaceChildren();
  for (const id of ["results-status", "page-number", "order-status", "order-live", "order-message", "order-customer",
    "order-total", "order-failure", "order-created", "order-updated", "payment-status", "payment-reference",
    "payment-expires", "payment-paid", "payment-refunds", "attention-reason", "attention-since", "attention-detail", "timeline-summary",
    "steps-total", "order-trace", "order-error", "stats-stuck", "stats-outbox", "stats-updated"]) {
    $(id).textContent = "";
  }
  for (const count of document.querySelectorAll("#stats-by-status .count")) count.textContent = "";
  $("order-heading").textContent = "Order";
  $("results").hidden = true;
  $("order-details").hidden = true;
  $("order-error").hidden = true;
  $("page-back").disabled = true;
  $("page-next").disabled = true;
  search.params = new URLSearchParams();
  search.cursors = [null];
  search.next = null;
  current = newCurrent(null);
}

function showSignIn(message) {
  $("stats").hidden = true;
  $("sign-out").hidden = true;
  $("search-view").hidden = true;
  $("order-view").hidden = true;
  $("failed-view").hidden = true;
  $("reconciliation-view").hidden = true;
  $("attention-view").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").textContent = message;
  $("signin-key").focus();
}

function startConsole(stats) {
  consoleStarted = true;
  $("signin-view").hidden = true;
  $("stats").hidden = false;
  $("sign-out").hidden = false;
  if (stats) renderStats(stats);
  clearTimeout(statsTimer);
  statsTimer = setTimeout(refreshStats, stats ? STATS_EVERY_MS : 0);
}

// ---- header: orders by status, stuck orders, outbox age ----------------------------------------------

function buildStatusCounts() {
  const list = $("stats-by-status");
  for (const status of STATUSES) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.status = status;
    button.title = `List the ${status} orders`;
    const count = document.createElement("span");
    count.className = "count";
    button.append(status, count);
    button.addEventListener("click", () => listByStatus(status));
    const item = document.createElement("li");
    item.append(button);
    list.append(item);
  }
}

async function refreshStats() {
  clearTimeout(statsTimer);
  const mine = session;
  try {
    renderStats(await api("/orders/stats"));
  } catch (error) {
    if (handled(error)) return;
  }
  if (mine === session) statsTimer = setTimeout(refreshStats, STATS_EVERY_MS);
}

function renderStats(stats) {
  // Counts are updated in place: a button that has the keyboard focus keeps it.
  for (const button of document.querySelectorAll("#stats-by-status button")) {
    const count = Number(stats.byStatus?.[button.dataset.status] ?? 0);
    setText(button.querySelector(".count"), String(count));
    button.classList.toggle("zero", count === 0);
  }
  const stuck = $("stats-stuck");
  setText(stuck, String(stats.stuck ?? 0));
  stuck.classList.toggle("alarm", (stats.stuck ?? 0) > 0);
  const outbox = $("stats-outbox");
  const age = stats.oldestUndeliveredOutboxAgeSeconds;
  setText(outbox, age == null ? "all delivered" : `oldest undelivered ${duration(age)}`);
  outbox.classList.toggle("alarm", age != null && age > OUTBOX_ALARM_SECONDS);
  renderFailedCount(stats.failedMessages);
  renderReconciliationCount(stats.reconciliationMismatches);
  setText($("stats-updated"), `${clock()} UTC`);
}

function listByStatus(status) {
  $("search-form").reset();
  $("f-status").value = status;
  search.params = new URLSearchParams({ status, limit: $("f-limit").value });
  search.cursors = [null];
  if (location.hash.startsWith("#/orders/")) location.hash = "#/";
  else loadResults();
}

// ---- search and paging -------------------------------------------------------------------------------

function runSearch(event) {
  event.preventDefault();
  const error = $("search-error");
  error.textContent = "";
  $("f-order").removeAttribute("aria-invalid");

  const orderId = $("f-order").value.trim();
  if (orderId) {
    if (!ORDER_ID.test(orderId)) {
      error.textContent = "That is not an order id: it looks like 0b5e6a1c-0d2f-4c1e-9a7b-3c4d5e6f7a8b.";
      $("f-order").setAttribute("aria-invalid", "true");
      $("f-order").focus();
      return;
    }
    location.hash = `#/orders/${orderId.toLowerCase()}`;
    return;
  }

  const params = new URLSearchParams();
  const customer = $("f-customer").value.trim();
  if (customer) params.set("customerId", customer);
  if ($("f-status").value) params.set("status", $("f-status").value);
  const from = utcFromInput($("f-from").value);
  const to = utcFromInput($("f-to").value);
  if (from && to && from >= to) {
    error.textContent = "“Created from” must be earlier than “Created before”.";
    $("f-from").focus();
    return;
  }
  if (from) params.set("createdFrom", from);
  if (to) params.set("createdTo", to);
  params.set("limit", $("f-limit").value);

  search.params = params;
  search.cursors = [null];
  loadResults();
}

function clearFilters() {
  $("search-form").reset();
  $("search-error").textContent = "";
  $("f-order").removeAttribute("aria-invalid");
  search.params = new URLSearchParams({ limit: $("f-limit").value });
  search.cursors = [null];
  loadResults();
  $("f-order").focus();
}

async function loadResults() {
  const ticket = ++search.ticket;
  const params = new URLSearchParams(search.params);
  const cursor = search.cursors[search.cursors.length - 1];
  if (cursor) params.set("cursor", cursor);
  setText($("results-status"), "Loading…");
  try {
    const page = await api(`/orders?${params}`);
    if (ticket === search.ticket) renderResults(page);
  } catch (error) {
    if (handled(error) || ticket !== search.ticket) return;
    $("results").hidden = true;
    $("results-body").replaceChildren();
    $("page-next").disabled = true;
    $("page-back").disabled = search.cursors.length === 1;
    if (error instanceof UnreachableError) {
      setText($("results-status"), "Could not load the orders: the Api did not answer.");
    } else if (error.status === 400 && error.problem.errors) {
      const fields = Object.entries(error.problem.errors).map(([field, messages]) => `${field} ${[].concat(messages).join(" ")}`);
      $("search-error").textContent = `Check the filters: ${fields.join("; ")}.`;
      setText($("results-status"), "");
    } else {
      setText($("results-status"), `Could not load the orders: ${error.message}`);
    }
  }
}

function renderResults(page) {
  const items = Array.isArray(page.items) ? page.items : [];
  search.next = page.nextCursor || null;
  const body = $("results-body");
  body.replaceChildren();
  for (const item of items) {
    const row = body.insertRow();
    const link = document.createElement("a");
    link.href = `#/orders/${encodeURIComponent(item.orderId)}`;
    link.textContent = item.orderId;
    cell(row, "Order", link);
    cell(row, "Customer", item.customerId);
    const status = document.createElement("span");
    statusBadge(status, item.status);
    cell(row, "Status", status);
    cell(row, "Total", money(item.total, item.currency), "number");
    cell(row, "Payment", item.paymentStatus ?? "—");
    cell(row, "Created (UTC)", instant(item.createdAt));
    cell(row, "Failure", item.failureReason ?? "—");
  }

  const pageNumber = search.cursors.length;
  $("results").hidden = items.length === 0;
  setText($("results-status"), items.length === 0
    ? (pageNumber === 1 ? "No orders match these filters." : "No more orders.")
    : `${items.length} ${items.length === 1 ? "order" : "orders"}, newest first${describeFilters()}.`);
  setText($("page-number"), `Page ${pageNumber}`);
  const focused = document.activeElement;
  $("page-back").disabled = pageNumber === 1;
  $("page-next").disabled = !search.next;
  // A pager button that has just been disabled (first or last page) would drop the keyboard focus.
  if ((focused === $("page-back") || focused === $("page-next")) && focused.disabled) {
    const other = focused === $("page-back") ? $("page-next") : $("page-back");
    (other.disabled ? $("results-heading") : other).focus();
  }
}

function describeFilters() {
  const parts = [];
  if (search.params.get("status")) parts.push(`status ${search.params.get("status")}`);
  if (search.params.get("customerId")) parts.push(`customer ${search.params.get("customerId")}`);
  if (search.params.get("createdFrom")) parts.push(`from ${instant(search.params.get("createdFrom"))}`);
  if (search.params.get("createdTo")) parts.push(`before ${instant(search.params.get("createdTo"))}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function nextPage() {
  if (!search.next || $("page-next").disabled) return;
  search.cursors.push(search.next);
  search.next = null;
  loadResults();
}

function previousPage() {
  if (search.cursors.length === 1) return;
  search.cursors.pop();
  loadResults();
}

// ---- the order page ----------------------------------------------------------------------------------

function stopOrderPolling() {
  clearTimeout(current.timer);
  current.timer = null;
}

function showOrder(id) {
  stopOrderPolling();
  current = newCurrent(id);
  $("search-view").hidden = true;
  $("order-view").hidden = false;
  $("order-details").hidden = true;
  $("order-error").hidden = true;
  $("lines-body").replaceChildren();
  $("timeline-body").replaceChildren();
  $("order-message").textContent = "";
  $("steps-total").textContent = "";
  $("order-heading").textContent = `Order ${id}`;
  $("order-heading").focus();
  if (!ORDER_ID.test(id)) {
    showOrderError(`“${id}” is not an order id.`);
    return;
  }
  refreshOrder();
}

function showOrderError(message) {
  $("order-details").hidden = true;
  $("order-error").textContent = message;
  $("order-error").hidden = false;
}

function isLive() {
  const order = current.order;
  if (!order) return true;
  // An ended order that still needs a person (a refund the provider refused, say) keeps changing until it is settled.
  return !FINAL.has(order.status) || !!order.attention || (current.cancelFrom !== null && order.status === current.cancelFrom);
}

async function refreshOrder() {
  clearTimeout(current.timer);
  const id = current.id;
  const ticket = ++current.ticket;
  const latest = () => id === current.id && ticket === current.ticket;
  try {
    const path = `/orders/${encodeURIComponent(id)}`;
    const [order, timeline] = await Promise.all([api(path), api(`${path}/timeline`)]);
    if (!latest()) return;
    $("order-error").hidden = true;
    renderOrder(order, Array.isArray(timeline) ? timeline : []);
  } catch (error) {
    if (handled(error) || !latest()) return;
    if (error.status === 404) {
      showOrderError(`No order ${id}. Check the id: orders are found by their full id.`);
      return;
    }
    if (!(error instanceof UnreachableError) && !current.order) showOrderError(`Could not load the order: ${error.message}`);
  }
  if (latest() && isLive()) current.timer = setTimeout(refreshOrder, ORDER_EVERY_MS);
}

function renderOrder(order, timeline) {
  current.order = order;
  $("order-details").hidden = false;
  statusBadge($("order-status"), order.status);
  setText($("order-live"), isLive()
    ? `Live: refreshing every ${ORDER_EVERY_MS / 1000} s (last ${clock()} UTC)`
    : `Final: no further changes expected (checked ${clock()} UTC)`);
  setText($("order-message"), messageFor(order, timeline));

  setText($("order-customer"), order.customerId);
  setText($("order-total"), money(order.total, order.currency));
  setText($("order-failure"), order.failureReason ?? "—");
  setText($("order-created"), `${instant(order.createdAt)} UTC`);
  setText($("order-updated"), `${instant(order.updatedAt)} UTC`);
  renderTraceId(order);

  const payment = order.payment;
  if (payment) {
    const status = $("payment-status");
    status.textContent = payment.status ?? "—";
    status.className = "status " + (payment.status === "Succeeded" ? "final-ok" : payment.status === "Pending" ? "waiting" : "final-bad");
    setText($("payment-reference"), payment.providerReference ?? "—");
    setText($("payment-expires"), payment.expiresAt ? `${instant(payment.expiresAt)} UTC` : "—");
    setText($("payment-paid"), payment.paidAt ? `${instant(payment.paidAt)} UTC` : "—");
  } else {
    $("payment-status").className = "";
    setText($("payment-status"), "none yet");
    setText($("payment-reference"), "—");
    setText($("payment-expires"), "—");
    setText($("payment-paid"), "—");
  }
  renderAttention(order);
  renderRefunds(timeline, payment);
  renderLines(order);
  const steps = orderSteps(timeline, order.createdAt);
  renderTimeline(timeline, steps);
  renderStateMachine(timeline);
  // Recomputed on every refresh: while the order is live its total runs up to now.
  setText($("steps-total"), timeline.length ? stepsTotal(order, timeline, steps) : "");

  const cancelable = !FINAL.has(order.status) || order.status === "Placed";
  const button = $("order-cancel");
  button.hidden = !cancelable || current.cancelFrom !== null;
  button.disabled = false;
  setText(button, order.status === "Placed" ? "Cancel and refund…" : "Cancel order…");
}

// An order that needs a person: why, since when, and a retry of whatever it waits for (refund, QR withdrawal,
// stock release, placement), which the provider may accept again by now.
function renderAttention(order) {
  const attention = order.attention;
  $("order-attention").hidden = !attention;
  $("order-retry").hidden = !attention;
  if (!attention) return;
  setText($("attention-reason"), attention.reason);
  setText($("attention-since"), `since ${instant(attention.since)} UTC`);
  setText($("attention-detail"), attention.detail ?? "");
}

async function requestRetry() {
  const id = current.id;
  const button = $("order-retry");
  button.disabled = true;
  try {
    await api(`/orders/${encodeURIComponent(id)}/retry-compensation`, "POST");
    if (id !== current.id) return;
    setText($("order-message"), `Retry requested at ${clock()} UTC; the pending step is being issued again.`);
  } catch (error) {
    if (handled(error) || id !== current.id) return;
    setText($("order-message"), error instanceof UnreachableError
      ? "Not retried: the Api did not answer. Try again."
      : `Not retried: ${error.message}`);
  } finally {
    button.disabled = false;
  }
  $("order-message").focus();
  refreshOrder();
}

function messageFor(order, timeline) {
  if (current.cancelFrom !== null && order.status === current.cancelFrom) {
    return `Cancel requested at ${clock(current.cancelAt)} UTC; waiting for the order to take it…`;
  }
  const refunded = timeline.some((entry) => entry.event === "PaymentRefunded");
  switch (order.status) {
    case "Submitted": return "Submitted: waiting for a worker to hold the stock.";
    case "AwaitingPayment": return order.payment?.providerReference
      ? "Waiting for the customer to pay the QR code."
      : "Stock held; asking the payment provider for a QR code.";
    case "Placing": return "Paid; placing the order.";
    case "Compensating": return "Being undone: releasing the stock and refunding the payment if there was one.";
    case "Placed": return "Placed and paid.";
    default: {
      const reason = order.failureReason && order.failureReason !== order.status.toLowerCase() ? ` (${order.failureReason})` : "";
      return `${order.status}${reason}.${refunded ? " The payment was refunded: see the timeline." : ""}`;
    }
  }
}

function renderRefunds(timeline, payment) {
  const refunds = timeline.filter((entry) => entry.event === "PaymentRefunded");
  const target = $("payment-refunds");
  const signature = JSON.stringify(refunds) + (payment?.status ?? "");
  if (target.dataset.signature === signature) return;
  target.dataset.signature = signature;
  if (refunds.length === 0) {
    target.textContent = payment?.status === "Refunded" ? "refunded" : "none";
    return;
  }
  const list = document.createElement("ul");
  for (const refund of refunds) {
    const item = document.createElement("li");
    item.textContent = `${instant(refund.at)} UTC: ${refund.detail ?? "refund confirmed"}`;
    list.append(item);
  }
  target.replaceChildren(list);
}

function renderLines(order) {
  const body = $("lines-body");
  body.replaceChildren();
  for (const line of order.lines ?? []) {
    const row = body.insertRow();
    cell(row, "SKU", line.sku);
    cell(row, "Quantity", String(line.quantity), "number");
    cell(row, "Unit price", money(line.unitPrice, order.currency), "number");
    cell(row, "Line total", money(line.unitPrice * line.quantity, order.currency), "number");
  }
}

// The trace id (W3C, 32 hex digits) finds the order's trace in the tracing backend; orders without one show nothing.
function renderTraceId(order) {
  const traceId = typeof order.traceId === "string" ? order.traceId : "";
  for (const element of document.querySelectorAll(".trace-fact")) element.hidden = !traceId;
  setText($("order-trace"), traceId);
}

function renderTimeline(timeline, { steps }) {
  const signature = JSON.stringify(timeline);
  if (signature === current.timelineSignature) return;
  current.timelineSignature = signature;

  const body = $("timeline-body");
  body.replaceChildren();
  timeline.forEach((entry, index) => {
    const step = steps[index];
    const row = body.insertRow();
    row.classList.toggle("refund", entry.event === "PaymentRefunded");
    row.classList.toggle("slowest", step.slowest);
    row.classList.toggle("customer-wait", step.kind === "customer");
    cell(row, "Time (UTC)", instant(entry.at, true));
    cell(row, "Step took", stepCell(step), "step");
    cell(row, "Since accepted", stepDuration(step.sinceAccepted), "step");
    cell(row, "Event", entry.event);
    cell(row, "State", entry.from && entry.from !== entry.to ? `${entry.from} → ${entry.to}` : (entry.to ?? ""));
    cell(row, "Detail", entry.detail ?? "");
  });
  const last = timeline[timeline.length - 1];
  setText($("timeline-summary"), last
    ? `${timeline.length} ${timeline.length === 1 ? "event" : "events"}; latest: ${last.event} at ${instant(last.at)} UTC.`
    : "No events yet: a worker has not taken the order.");
}

// ---- canceling -------------------------------------------------------------------------------------

function openCancelDialog() {
  const order = current.order;
  if (!order) return;
  $("cancel-text").textContent = order.status === "Placed"
    ? `Order ${order.orderId} is placed. Canceling it refunds ${money(order.total, order.currency)} to the customer and returns the stock. This cannot be undone.`
    : `Order ${order.orderId} is ${order.status}. Canceling it releases its stock and cancels or refunds its payment. This cannot be undone.`;
  $("cancel-title").textContent = order.status === "Placed" ? "Cancel and refund this order?" : "Cancel this order?";
  const dialog = $("cancel-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  $("cancel-keep").focus();
}

function cancelDialogClosed() {
  if ($("cancel-dialog").returnValue === "confirm") {
    requestCancel();
  } else {
    const button = $("order-cancel");
    if (!button.hidden) button.focus();
  }
}

async function requestCancel() {
  const id = current.id;
  const from = current.order?.status;
  const button = $("order-cancel");
  button.disabled = true;
  try {
    await api(`/orders/${encodeURIComponent(id)}/cancel`, "POST");
    if (id !== current.id) return;
    current.cancelFrom = from;
    current.cancelAt = new Date();
    button.hidden = true;
    setText($("order-message"), `Cancel requested at ${clock(current.cancelAt)} UTC; waiting for the order to take it…`);
  } catch (error) {
    if (handled(error) || id !== current.id) return;
    button.disabled = false;
    setText($("order-message"), error instanceof UnreachableError
      ? "Not canceled: the Api did not answer. Try again."
      : `Not canceled: ${error.message}`);
  }
  $("order-message").focus();
  refreshOrder();
}

// ---- routing ---------------------------------------------------------------------------------------
//   #/               the search
//   #/attention      orders that need a person (attention.js)
//   #/orders/{id}    an order (links can be shared; the key is asked for first when the tab has none)

function showSearch() {
  stopOrderPolling();
  current.id = null;
  $("order-view").hidden = true;
  $("search-view").hidden = false;
  $("search-heading").focus();
  loadResults();
}

function route() {
  if (!storedKey()) {
    showSignIn($("signin-error").textContent);
    return;
  }
  if (!consoleStarted) startConsole(null);
  // Other pages (failed.js, reconciliation.js, attention.js) have views of their own.
  $("failed-view").hidden = true;
  $("reconciliation-view").hidden = true;
  $("attention-view").hidden = true;
  if (location.hash === "#/attention") return showAttention();
  if (location.hash === "#/failed") return showFailed();
  if (location.hash === "#/reconciliation") return showReconciliation();
  const match = /^#\/orders\/([^/?#]+)$/.exec(location.hash);
  if (match) showOrder(decodeURIComponent(match[1]));
  else showSearch();
}

document.addEventListener("DOMContentLoaded", () => {
  buildStatusCounts();
  search.params = new URLSearchParams({ limit: $("f-limit").value });
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("search-form").addEventListener("submit", runSearch);
  $("search-clear").addEventListener("click", clearFilters);
  $("page-next").addEventListener("click", nextPage);
  $("page-back").addEventListener("click", previousPage);
  $("order-refresh").addEventListener("click", () => refreshOrder());
  $("order-cancel").addEventListener("click", openCancelDialog);
  $("order-retry").addEventListener("click", requestRetry);
  $("cancel-keep").addEventListener("click", () => $("cancel-dialog").close("keep"));
  $("cancel-confirm").addEventListener("click", () => $("cancel-dialog").close("confirm"));
  $("cancel-dialog").addEventListener("close", cancelDialogClosed);
  window.addEventListener("hashchange", route);
  route();
});
