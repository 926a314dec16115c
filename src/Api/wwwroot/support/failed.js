"use strict";
// Failed messages (issue 15): the groups (by exception and message type), the messages of one group or of all, a page
// at a time, and retry / discard after a confirmation. Uses console.js's api(), $, handled and instant; console.js's
// route() shows this view for #/failed.

const failed = { group: "", cursors: [null], next: null, pending: null };

function renderFailedCount(count) {
  const link = document.getElementById("stats-failed");
  const text = !count ? "none" : `${count} waiting`;
  if (link.textContent !== text) link.textContent = text;
  link.parentElement.classList.toggle("alarm", (count ?? 0) > 0);
}

function showFailed() {
  stopOrderPolling();
  current.id = null;
  $("order-view").hidden = true;
  $("search-view").hidden = true;
  $("failed-view").hidden = false;
  $("failed-heading").focus();
  loadFailed();
}

async function loadFailed() {
  const status = $("failed-status");
  status.textContent = "Loading…";
  const query = new URLSearchParams({ limit: "50" });
  if (failed.group) query.set("group", failed.group);
  const cursor = failed.cursors[failed.cursors.length - 1];
  if (cursor) query.set("cursor", cursor);
  try {
    const [groups, page] = await Promise.all([api("/support/failed-messages/groups"), api(`/support/failed-messages?${query}`)]);
    renderFailedGroups(groups);
    renderFailedMessages(page);
    status.textContent = page.items.length === 0 ? "No failed messages waiting." : `${page.items.length} shown, oldest first.`;
  } catch (error) {
    if (!handled(error)) status.textContent = `Could not load failed messages: ${error.message}`;
  }
}

function renderFailedGroups(groups) {
  const list = $("failed-groups");
  list.replaceChildren();
  const all = document.createElement("li");
  all.append(groupButton("All groups", "", groups.reduce((sum, g) => sum + g.count, 0)));
  list.append(all);
  for (const group of groups) {
    const item = document.createElement("li");
    item.append(groupButton(`${shortType(group.messageType)} — ${shortType(group.exceptionType)}`, group.group, group.count));
    const since = document.createElement("span");
    since.className = "muted";
    since.textContent = ` oldest ${instant(group.oldest)}`;
    item.append(since);
    list.append(item);
  }
}

function groupButton(label, group, count) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = `${label} (${count})`;
  button.setAttribute("aria-pressed", String(failed.group === group));
  button.addEventListener("click", () => {
    failed.group = group;
    failed.cursors = [null];
    loadFailed();
  });
  return button;
}

function renderFailedMessages(page) {
  const body = $("failed-body");
  body.replaceChildren();
  for (const message of page.items) {
    const row = body.insertRow();
    cell(row, "Failed (UTC)", instant(message.lastFailedAt));
    cell(row, "Queue", message.outboxId ? `${message.queue} (parked outbox)` : message.queue, "mono");
    cell(row, "Message", shortType(message.messageType));
    const order = document.createElement("span");
    if (message.orderId) {
      const link = document.createElement("a");
      link.href = `#/orders/${message.orderId}`;
      link.textContent = message.orderId;
      link.className = "mono";
      order.append(link);
    } else order.textContent = "–";
    cell(row, "Order", order);
    cell(row, "Exception", `${shortType(message.exceptionType)}: ${message.reason}`);
    cell(row, "Attempts", String(message.attempts));
    const actions = document.createElement("span");
    actions.append(actionButton("Retry…", message, "retry"), " ", actionButton("Discard…", message, "discard"));
    cell(row, "Actions", actions);
  }
  $("failed-table").hidden = page.items.length === 0;
  failed.next = page.nextCursor;
  $("failed-next").disabled = !page.nextCursor;
  $("failed-back").disabled = failed.cursors.length <= 1;
}

function actionButton(label, message, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.className = action === "discard" ? "danger" : "";
  button.setAttribute("aria-label", `${label.replace("…", "")} failed message ${message.id}`);
  button.addEventListener("click", () => openFailedDialog(message, action));
  return button;
}

function openFailedDialog(message, action) {
  failed.pending = { message, action };
  const retry = action === "retry";
  $("failed-dialog-title").textContent = retry ? "Send this message back to its queue?" : "Discard this message for good?";
  $("failed-dialog-text").textContent = retry
    ? message.outboxId
      ? `The parked outbox holding ${shortType(message.messageType)} for ${message.queue} is delivered again, once; it was parked after: ${message.reason}`
      : `${shortType(message.messageType)} goes back to ${message.queue} once; it failed with ${shortType(message.exceptionType)}: ${message.reason}`
    : message.outboxId
      ? `The parked outbox holding ${shortType(message.messageType)} for ${message.queue} is deleted with its messages: they will never be sent. Say why.`
      : `${shortType(message.messageType)} from ${message.queue} will never be sent. Say why.`;
  $("failed-reason-field").hidden = retry;
  $("failed-reason").value = "";
  $("failed-dialog-error").textContent = "";
  $("failed-confirm").textContent = retry ? "Yes, retry it" : "Yes, discard it";
  $("failed-dialog").showModal();
}

async function confirmFailedAction() {
  const { message, action } = failed.pending;
  const reason = $("failed-reason").value.trim();
  if (action === "discard" && !reason) {
    $("failed-dialog-error").textContent = "A reason is required.";
    return;
  }
  try {
    if (action === "retry") await api(`/support/failed-messages/${message.id}/retry`, "POST");
    else await api(`/support/failed-messages/${message.id}/discard`, "POST", { reason });
    $("failed-dialog").close();
    $("failed-status").textContent = action === "retry" ? `Message ${message.id} sent back to ${message.queue}.` : `Message ${message.id} discarded.`;
    failed.cursors = [null];
    await loadFailed();
  } catch (error) {
    if (!handled(error)) $("failed-dialog-error").textContent = error.message;
  }
}

function shortType(name) {
  return name.slice(Math.max(name.lastIndexOf(":"), name.lastIndexOf(".")) + 1);
}

document.addEventListener("DOMContentLoaded", () => {
  $("failed-refresh").addEventListener("click", () => loadFailed());
  $("failed-next").addEventListener("click", () => {
    failed.cursors.push(failed.next);
    loadFailed();
  });
  $("failed-back").addEventListener("click", () => {
    failed.cursors.pop();
    loadFailed();
  });
  $("failed-keep").addEventListener("click", () => $("failed-dialog").close());
  $("failed-confirm").addEventListener("click", confirmFailedAction);
});
