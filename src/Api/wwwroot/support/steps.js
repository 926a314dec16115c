"use strict";

// How long each step of an order took, read from its timeline (the order page of the support console).
//
// A step is the time between one timeline entry and the entry before it; the first entry's step starts when the Api
// accepted the order (the order's createdAt), so it covers the outbox, the broker and a worker taking it. Each entry
// therefore ends exactly one step, and the steps add up to the time from acceptance to the last entry.
//
// Not every step is the system working. Whose time a step was follows from where the order stood when it began:
// - "customer": the order was AwaitingPayment with its QR code ready (a PaymentRequested entry before it): the
//   system was waiting for the customer to pay (or for the window to close). It includes the provider's webhook
//   or the next poll telling the saga, which is short next to a person paying.
// - "ended": the order had reached a final status; what came next (a support cancel, a late payment, a refund
//   confirmation) started from outside, so the gap is time at rest, not time spent.
// - "system": everything else: the saga, its consumers and the provider doing the work.
// The slowest "system" step is the one marked, so a slow customer is never mistaken for a slow system.
// FINAL (the final statuses) is console.js's.

/** Milliseconds since the epoch of a timestamp the Api sent; digits beyond the millisecond are dropped, not rounded. */
function epochMs(value) {
  return Date.parse(String(value).replace(/(\.\d{3})\d+/, "$1"));
}

/** A step's length: "420 ms" below a second, "3.4 s" below a minute, "2 min 5 s" below an hour, then "1 h 12 min". */
function stepDuration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${Math.floor(tenths / 10)}.${tenths % 10} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function stepKind(stateBefore, qrReady) {
  if (FINAL.has(stateBefore)) return "ended";
  return stateBefore === "AwaitingPayment" && qrReady ? "customer" : "system";
}

/**
 * One step per timeline entry: { took, sinceAccepted (ms), kind, slowest }, plus the step still open after the
 * last entry ({ kind } of the time since). A clock that ran backwards between two processes reads as 0 ms.
 */
function orderSteps(timeline, acceptedAt) {
  const accepted = epochMs(acceptedAt);
  let before = accepted;
  let stateBefore = null;
  let qrReady = false;
  const steps = timeline.map((entry) => {
    const at = epochMs(entry.at);
    const step = { took: Math.max(0, at - before), sinceAccepted: Math.max(0, at - accepted), kind: stepKind(stateBefore, qrReady), slowest: false };
    before = at;
    stateBefore = entry.to;
    if (entry.event === "PaymentRequested") qrReady = true;
    return step;
  });

  const system = steps.filter((step) => step.kind === "system");
  if (system.length > 1) system.reduce((slowest, step) => (step.took > slowest.took ? step : slowest)).slowest = true;
  return { steps, open: { since: before, kind: stepKind(stateBefore, qrReady) } };
}

/**
 * "Accepted → Placed: 41.3 s, of which 38.0 s the customer's time" (up to the entry that made the order what it is
 * now), or "Accepted → now: …" while it is not final.
 */
function stepsTotal(order, timeline, { steps, open }, now = Date.now()) {
  const accepted = epochMs(order.createdAt);
  let end = timeline.length - 1;
  let customer = 0;
  let total;
  let to;
  if (FINAL.has(order.status)) {
    const reached = timeline.findLastIndex((entry) => entry.to === order.status && entry.from !== order.status);
    if (reached >= 0) end = reached;
    total = end >= 0 ? steps[end].sinceAccepted : 0;
    to = order.status;
  } else {
    total = Math.max(0, now - accepted);
    to = "now";
    if (open.kind === "customer") customer += Math.max(0, now - open.since);
  }
  for (let i = 0; i <= end; i++) if (steps[i].kind === "customer") customer += steps[i].took;
  return `Accepted → ${to}: ${stepDuration(total)}` + (customer > 0 ? `, of which ${stepDuration(customer)} the customer's time` : "") +
    (to === "now" ? ` (${order.status}, not final yet)` : "") + ".";
}

/**
 * The "Step took" cell's content, one element (a phone's stacked row lays a cell's children out as grid items): the
 * length, and what kind of time it was when that is worth saying.
 */
function stepCell(step) {
  const content = document.createElement("span");
  const length = document.createElement("span");
  length.className = "step-length";
  length.textContent = stepDuration(step.took);
  content.append(length);
  const tag = step.slowest ? "slowest step" : step.kind === "customer" ? "customer's time" : step.kind === "ended" ? "order had ended" : null;
  if (tag) {
    const label = document.createElement("span");
    label.className = `step-tag ${step.slowest ? "slowest" : step.kind}`;
    label.textContent = tag;
    content.append(" ", label);
  }
  return content;
}
