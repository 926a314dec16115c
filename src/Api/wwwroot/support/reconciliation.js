"use strict";

// The reconciliation page of the support console (#/reconciliation): the latest scheduled report of our orders
// against the payment provider's own listing (GET /reconciliation/latest) and its mismatches, and a check over a
// range support picks (GET /reconciliation?from=&to=, computed by the Workers on the spot). The header's
// "Reconciliation" figure is the latest scheduled report's mismatch count (GET /orders/stats). Uses console.js's
// api(), cell(), instant(), utcFromInput() and handled(); loaded before it.

const MISMATCH_MEANING = {
  "captured-not-placed": "the provider holds money for an order we did not place",
  "placed-not-captured": "we placed an order the provider shows no capture for",
  "refund-of-placed": "the provider refunded an order we placed",
  "refunded-more-than-captured": "the provider refunded more than it captured",
  "amount-differs": "the captured amount is not the order's",
};

/** The header's figure: a link to this page, raised when the latest report found anything. */
function renderReconciliationCount(mismatches) {
  const link = document.getElementById("stats-reconciliation");
  const text = mismatches == null ? "no report yet" : mismatches === 0 ? "all matched" : `${mismatches} mismatch${mismatches === 1 ? "" : "es"}`;
  if (link.textContent !== text) link.textContent = text;
  link.parentElement.classList.toggle("alarm", (mismatches ?? 0) > 0);
}

function showReconciliation() {
  stopOrderPolling();
  current.id = null;
  document.getElementById("search-view").hidden = true;
  document.getElementById("order-view").hidden = true;
  document.getElementById("reconciliation-view").hidden = false;
  document.getElementById("reconciliation-heading").focus();
  loadLatestReconciliation();
}

async function loadLatestReconciliation() {
  const status = document.getElementById("reconciliation-status");
  status.textContent = "Loading the latest report…";
  try {
    renderReconciliation(await api("/reconciliation/latest"), "Latest scheduled report");
  } catch (error) {
    if (handled(error)) return;
    renderReconciliation(null, error.status === 404 ? "No scheduled report yet." : `Could not load the report: ${error.message}`);
  }
}

async function checkReconciliationRange(event) {
  event.preventDefault();
  const from = utcFromInput(document.getElementById("r-from").value);
  const to = utcFromInput(document.getElementById("r-to").value);
  const error = document.getElementById("reconciliation-error");
  error.textContent = !from || !to ? "Give both ends of the range (UTC)." : "";
  if (!from || !to) return;
  document.getElementById("reconciliation-status").textContent = "Comparing with the provider…";
  try {
    renderReconciliation(await api(`/reconciliation?${new URLSearchParams({ from, to })}`), "Report for the range asked for");
  } catch (failure) {
    if (handled(failure)) return;
    const fields = failure.problem?.errors ? Object.values(failure.problem.errors).flat().join(" ") : "";
    error.textContent = fields || failure.message;
    document.getElementById("reconciliation-status").textContent = "";
  }
}

function renderReconciliation(report, title) {
  const table = document.getElementById("reconciliation-mismatches");
  const body = document.getElementById("reconciliation-body");
  body.replaceChildren();
  document.getElementById("reconciliation-status").textContent = report
    ? `${title}: ${instant(report.from)} to ${instant(report.to)} UTC, checked ${instant(report.checkedAt)}. `
      + `${report.payments} payment(s) at the provider, ${report.captured} captured, ${report.refunded} refunded; `
      + (report.mismatches.length ? `${report.mismatches.length} mismatch(es).` : "nothing to put right.")
    : title;
  table.hidden = !report || report.mismatches.length === 0;
  for (const mismatch of report?.mismatches ?? []) {
    const row = body.insertRow();
    const link = document.createElement("a");
    link.href = `#/orders/${encodeURIComponent(mismatch.orderId)}`;
    link.textContent = mismatch.orderId;
    link.className = "mono";
    cell(row, "Order", link);
    const kind = document.createElement("span");
    kind.className = "mismatch-kind";
    kind.textContent = mismatch.kind;
    kind.title = MISMATCH_MEANING[mismatch.kind] ?? "";
    cell(row, "Kind", kind);
    cell(row, "Detail", mismatch.detail);
  }
}

// Another route hides this page.
window.addEventListener("hashchange", () => {
  if (location.hash !== "#/reconciliation") document.getElementById("reconciliation-view").hidden = true;
});
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("reconciliation-form").addEventListener("submit", checkReconciliationRange);
  document.getElementById("reconciliation-latest").addEventListener("click", loadLatestReconciliation);
});
