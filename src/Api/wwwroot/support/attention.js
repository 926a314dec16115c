"use strict";
// Orders that need a person (#/attention): GET /support/attention, oldest flag first, a page at a time, each with its
// reason, since when and what happened, and a retry of its pending step (POST /orders/{id}/retry-compensation) after a
// confirmation. Uses console.js's api(), $, cell(), handled() and instant(); console.js's route() shows this view.

const attention = { cursors: [null], next: null };

function showAttention() {
  stopOrderPolling();
  current.id = null;
  $("order-view").hidden = true;
  $("search-view").hidden = true;
  $("attention-view").hidden = false;
  $("attention-heading").focus();
  loadAttention();
}

async function loadAttention() {
  const status = $("attention-status");
  status.textContent = "Loading…";
  const query = new URLSearchParams({ limit: "50" });
  const cursor = attention.cursors[attention.cursors.length - 1];
  if (cursor) query.set("cursor", cursor);
  try {
    const page = await api(`/support/attention?${query}`);
    renderAttentionList(page);
    status.textContent = page.items.length === 0 ? "No order needs a person." : `${page.items.length} shown, longest waiting first.`;
  } catch (error) {
    if (!handled(error)) status.textContent = `Could not load the orders: ${error.message}`;
  }
}

function renderAttentionList(page) {
  const body = $("attention-body");
  body.replaceChildren();
  for (const order of page.items) {
    const row = body.insertRow();
    cell(row, "Since (UTC)", instant(order.attention.since));
    const link = document.createElement("a");
    link.href = `#/orders/${encodeURIComponent(order.orderId)}`;
    link.textContent = order.orderId;
    link.className = "mono";
    cell(row, "Order", link);
    cell(row, "Status", order.status);
    cell(row, "Reason", order.attention.reason);
    cell(row, "What happened", order.attention.detail ?? "");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Retry the pending step…";
    retry.setAttribute("aria-label", `Retry the pending step of order ${order.orderId}`);
    retry.addEventListener("click", () => retryFromAttention(order, retry));
    cell(row, "Action", retry);
  }
  $("attention-table").hidden = page.items.length === 0;
  attention.next = page.nextCursor;
  $("attention-next").disabled = !page.nextCursor;
  $("attention-back").disabled = attention.cursors.length <= 1;
}

async function retryFromAttention(order, button) {
  if (!confirm(`Issue the pending step of order ${order.orderId} again (${order.attention.reason})?`)) return;
  button.disabled = true;
  const status = $("attention-status");
  try {
    await api(`/orders/${encodeURIComponent(order.orderId)}/retry-compensation`, "POST");
    status.textContent = `Retry of order ${order.orderId} requested; it leaves this list once the step succeeds.`;
  } catch (error) {
    if (handled(error)) return;
    status.textContent = error.status === 409
      ? `Order ${order.orderId} has nothing pending any more.`
      : `Not retried: ${error.message}`;
    button.disabled = false;
  }
  status.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("attention-refresh").addEventListener("click", loadAttention);
  $("attention-next").addEventListener("click", () => {
    attention.cursors.push(attention.next);
    loadAttention();
  });
  $("attention-back").addEventListener("click", () => {
    if (attention.cursors.length > 1) attention.cursors.pop();
    loadAttention();
  });
});
