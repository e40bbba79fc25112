// Restock portal: progressive enhancement over server-rendered pages.
// Reads come from the page; decisions go through the JSON API with the CSRF header.
"use strict";

const FINAL = new Set(["completed", "nothing_to_order", "rejected", "expired", "cancelled", "failed"]);

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)restock_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(method, url, body, extraHeaders) {
  const headers = { Accept: "application/json", ...(extraHeaders || {}) };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, data: { detail: "The server cannot be reached; check your connection and try again." } };
  }
  if (response.status === 401) {
    window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = { detail: response.statusText }; }
  return { ok: response.ok, status: response.status, data };
}

function showError(el, message) {
  if (!el) return;
  el.textContent = message || "";
  el.hidden = !message;
}

function label(status) { return String(status || "").replaceAll("_", " "); }

function setBadge(el, status) {
  el.textContent = label(status);
  el.className = "badge status-" + status;
}

// ---- recommendation page ----------------------------------------------------------------

function lineProblem(value, pack, moq) {
  if (value.trim() === "") return "enter a quantity (0 to leave it out)";
  const qty = Number(value);
  if (!Number.isInteger(qty)) return "whole cartons only";
  if (qty < 0) return "cannot be negative";
  if (qty === 0) return null;
  if (pack > 1 && qty % pack !== 0) {
    const down = Math.floor(qty / pack) * pack, up = down + pack;
    return `must be a multiple of the pack size ${pack} (e.g. ${down || up} or ${up})`;
  }
  if (moq && qty < moq) return `below the minimum order of ${moq.toLocaleString()}`;
  return null;
}

function initRecommendation(root) {
  const customerId = root.dataset.customerId;
  const version = Number(root.dataset.version);
  const storeKey = `restock-edits-${customerId}-v${version}`;
  const edits = JSON.parse(sessionStorage.getItem(storeKey) || "{}");
  const approveBtn = root.querySelector("[data-testid=approve]");
  const rejectBtn = root.querySelector("[data-testid=reject]");
  const summary = root.querySelector("[data-testid=approve-summary]");
  const actionError = document.querySelector("[data-testid=action-error]");
  const rows = [...root.querySelectorAll("tr[data-testid=line]")];
  const containers = [...root.querySelectorAll("[data-testid=container]")];
  const invalid = new Set();

  function recompute() {
    const delta = {};
    for (const row of rows) {
      const input = row.querySelector("[data-testid=qty]");
      if (!input || invalid.has(row.dataset.code)) continue;
      const diff = Number(input.value) - Number(row.dataset.quantity);
      const home = row.dataset.containers.split(",").filter(Boolean).pop();
      if (home && diff) delta[home] = (delta[home] || 0) + diff;
    }
    for (const c of containers) {
      const cartons = Number(c.dataset.cartons) + (delta[c.dataset.index] || 0);
      const pct = (100 * cartons) / Number(c.dataset.capacity || 1);
      c.querySelector("[data-testid=container-cartons]").textContent = cartons.toLocaleString();
      c.querySelector("[data-testid=container-fill]").textContent = pct.toFixed(1);
      c.querySelector(".fill-bar").style.width = Math.min(pct, 100) + "%";
      c.querySelector(".fill").setAttribute("aria-valuenow", pct.toFixed(1));
      c.classList.toggle("over", pct > 100.05);
    }
    const chosen = containers.filter((c) => { const b = c.querySelector("[data-testid=choose-container]"); return !b || b.checked; });
    const editCount = Object.keys(edits).length;
    let problem = null;
    if (invalid.size) problem = `Fix ${invalid.size} quantit${invalid.size === 1 ? "y" : "ies"} first.`;
    else if (!chosen.length) problem = "Choose at least one container.";
    if (approveBtn) approveBtn.disabled = Boolean(problem);
    if (summary) {
      summary.textContent = problem || `Approve ${chosen.length} of ${containers.length} container(s)` +
        (editCount ? ` with ${editCount} edited quantit${editCount === 1 ? "y" : "ies"}.` : ".");
    }
  }

  for (const row of rows) {
    const input = row.querySelector("[data-testid=qty]");
    if (!input) continue;
    const code = row.dataset.code;
    if (code in edits) input.value = edits[code];
    const error = row.querySelector("[data-testid=qty-error]");
    const check = () => {
      const problem = lineProblem(input.value, Number(row.dataset.pack), Number(row.dataset.moq));
      showError(error, problem);
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) { invalid.add(code); } else {
        invalid.delete(code);
        if (Number(input.value) === Number(row.dataset.quantity)) delete edits[code];
        else edits[code] = Number(input.value);
        sessionStorage.setItem(storeKey, JSON.stringify(edits));
      }
      row.classList.toggle("edited", code in edits);
      recompute();
    };
    input.addEventListener("input", check);
    if (code in edits) check();
  }
  for (const box of root.querySelectorAll("[data-testid=choose-container]")) box.addEventListener("change", recompute);
  recompute();

  let approvalKey = null;
  approveBtn && approveBtn.addEventListener("click", async () => {
    approveBtn.disabled = true;
    showError(actionError, "");
    const boxes = [...root.querySelectorAll("[data-testid=choose-container]")];
    const chosen = boxes.filter((b) => b.checked).map((b) => Number(b.value));
    approvalKey = approvalKey || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    const body = { version, containers: chosen.length === boxes.length ? null : chosen, edits };
    const result = await api("POST", `/api/customers/${customerId}/orders`, body, { "Idempotency-Key": approvalKey });
    if (!result.ok) {
      showError(actionError, result.data.detail || "The approval was not taken.");
      approveBtn.disabled = false;
      if (result.status === 409) following.fast();  // decided elsewhere? catch up now
      return;
    }
    showError(actionError, "");
    sessionStorage.removeItem(storeKey);
    lockDecision(root, "Approved. The orders below are the re-packed, final quantities.");
    renderOrders(result.data.orders);
    following.fast();
  });

  rejectBtn && rejectBtn.addEventListener("click", async () => {
    const reason = root.querySelector("[data-testid=reject-reason]");
    if (!reason.value.trim()) { showError(actionError, "reason: say why you reject the recommendation"); reason.focus(); return; }
    rejectBtn.disabled = true;
    const result = await api("POST", `/api/customers/${customerId}/recommendations/${version}/reject`, { reason: reason.value.trim() });
    if (!result.ok) {
      showError(actionError, result.data.detail || "The rejection was not taken.");
      rejectBtn.disabled = false;
      if (result.status === 409) following.fast();
      return;
    }
    showError(actionError, "");
    sessionStorage.removeItem(storeKey);
    lockDecision(root, "Rejected.");
    setBadge(document.querySelector("[data-testid=cycle-status]"), result.data.state.status);
  });

  // Another tab or person may decide meanwhile: follow the cycle and lock this page then.
  const following = followCycle(customerId, (status) => {
    if (status !== "awaiting_approval" && !root.dataset.locked) {
      lockDecision(root, `This recommendation is no longer waiting (the cycle is ${label(status)}); reload for the latest.`);
    }
  });
}

function lockDecision(root, note) {
  root.dataset.locked = "1";
  for (const el of root.querySelectorAll("[data-testid=qty], [data-testid=choose-container], #decide button, #decide textarea")) el.disabled = true;
  const decide = root.querySelector("#decide");
  if (decide) decide.hidden = true;
  const notice = document.querySelector("[data-testid=decision-note]");
  if (notice && note) { notice.textContent = note; notice.hidden = false; }
}

function renderOrders(orders) {
  const list = document.querySelector("[data-testid=orders]");
  if (!list) return;
  list.replaceChildren(...orders.map((o) => {
    const li = document.createElement("li");
    li.dataset.testid = "order";
    li.dataset.status = o.status;
    li.dataset.container = o.container_index;
    const badge = document.createElement("span");
    setBadge(badge, o.status);
    const num = document.createElement("span");
    num.dataset.testid = "erp-order-number";
    num.textContent = o.erp_order_number || "";
    li.append(`Container ${o.container_index} (${o.cartons.toLocaleString()} cartons): `, badge, " ", num);
    if (o.eta) li.append(` · ETA ${o.eta}`);
    if (o.failure) { const f = document.createElement("div"); f.className = "alert small"; f.textContent = o.failure; li.append(f); }
    return li;
  }));
}

// Poll the cycle: quickly while something happens, slowly while it waits or tracks.
// Returns {fast()} to speed up after this page made (or was refused) a decision.
function followCycle(customerId, onStatus) {
  const badge = document.querySelector("[data-testid=cycle-status]");
  const errorEl = document.querySelector("[data-testid=action-error]");
  const SLOW = 5000;
  let delay = SLOW, timer = null, shownByPoll = false;
  const schedule = (ms) => { clearTimeout(timer); timer = setTimeout(tick, ms); };
  async function tick() {
    const result = await api("GET", `/api/customers/${customerId}/cycles/current`);
    if (result.ok) {
      const state = result.data.state;
      const status = state ? state.status : result.data.status;
      if (shownByPoll) { showError(errorEl, ""); shownByPoll = false; }
      setBadge(badge, status);
      if (state && state.orders && state.orders.length) renderOrders(state.orders);
      if (onStatus) onStatus(status);
      if (FINAL.has(status)) return;
      const settled = !state || !state.orders.length || state.orders.every((o) => o.erp_order_number || o.failure);
      const waiting = status === "awaiting_approval" || status === "submission_failed";
      delay = waiting || (status === "tracking" && settled) ? SLOW : Math.min(delay * 1.3, 2000);
    } else if (result.status >= 500 || result.status === 0) {
      showError(errorEl, (result.data && result.data.detail) || "Status is unavailable; retrying.");
      shownByPoll = true;
      delay = SLOW;
    } else if (result.status === 404) {
      return;  // no cycle yet
    }
    schedule(delay);
  }
  schedule(0);
  return { fast() { delay = 300; schedule(delay); } };
}

// ---- orders page ----------------------------------------------------------------------

function initOrders(root) {
  const customerId = root.dataset.customerId;
  const params = new URLSearchParams({ page: root.dataset.page || "1", page_size: "50" });
  if (root.dataset.status) params.append("status", root.dataset.status);
  const refresh = async () => {
    const result = await api("GET", `/api/customers/${customerId}/orders?${params}`);
    if (!result.ok) return;
    const known = new Map([...root.querySelectorAll("tr[data-testid=order-row]")].map((r) => [r.dataset.orderId, r]));
    let missing = false;
    for (const o of result.data.items) {
      const row = known.get(String(o.id));
      if (!row) { missing = true; continue; }
      row.dataset.status = o.status;
      row.querySelector("[data-field=erp_order_number]").textContent = o.erp_order_number || "–";
      setBadge(row.querySelector("[data-field=status] .badge"), o.status);
      row.querySelector("[data-field=eta]").textContent = o.eta || "–";
      row.querySelector("[data-field=delivered_on]").textContent = o.delivered_on || "–";
    }
    if (missing) { location.reload(); return; }
  };
  setInterval(refresh, 4000);
}

// ---- ops console ----------------------------------------------------------------------

function initOps(table) {
  const errorEl = document.querySelector("[data-testid=action-error]");
  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "cancel" && !confirm("Cancel the failed orders and end this cycle?")) return;
    const row = button.closest("tr");
    for (const b of row.querySelectorAll("button[data-action]")) b.disabled = true;
    const result = await api("POST", `/api/cycles/${button.dataset.cycleId}/${action}`, { reason: `${action} from the ops console` });
    if (!result.ok) {
      showError(errorEl, result.data.detail || `The ${action} was not taken.`);
      for (const b of row.querySelectorAll("button[data-action]")) b.disabled = false;
      return;
    }
    showError(errorEl, "");
    const status = result.data.state.status;
    row.dataset.status = status;
    setBadge(row.querySelector("[data-field=status]"), status);
    for (const b of row.querySelectorAll("button[data-action]")) b.remove();
  });
  const refresh = async () => {
    const result = await api("GET", "/api/cycles?page_size=200");
    if (!result.ok) return;
    const latest = new Map();
    for (const c of result.data.items) if (!latest.has(c.customer_id)) latest.set(c.customer_id, c);
    for (const row of table.querySelectorAll("tr[data-testid=cycle-row]")) {
      const c = latest.get(Number(row.dataset.customerId));
      if (!c || String(c.id) !== row.dataset.cycleId || c.status === row.dataset.status) continue;
      row.dataset.status = c.status;
      setBadge(row.querySelector("[data-field=status]"), c.status);
      row.querySelector("[data-field=detail]").textContent = c.detail || "";
      if (c.status !== "submission_failed") for (const b of row.querySelectorAll("button[data-action]")) b.remove();
    }
  };
  setInterval(refresh, 4000);
}

function initSettings(form) {
  const errorEl = form.querySelector("[data-testid=action-error]");
  const saved = form.querySelector("[data-testid=saved]");
  const fieldError = (name) => form.querySelector(`.field[data-field="${name}"] [data-testid=field-error]`);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const el of form.querySelectorAll("[data-testid=field-error]")) showError(el, "");
    showError(errorEl, "");
    saved.hidden = true;
    const body = {};
    for (const input of form.querySelectorAll("[name]")) {
      const kind = input.dataset.kind;
      if (kind === "checkbox") body[input.name] = input.checked;
      else if (kind === "number") body[input.name] = input.value.trim() === "" ? (input.dataset.nullable === "1" ? null : "") : Number(input.value);
      else if (kind === "json") {
        try { body[input.name] = JSON.parse(input.value || "{}"); }
        catch (err) { showError(fieldError(input.name), "not valid JSON, e.g. {\"P-00017\": 12}"); return; }
      } else body[input.name] = input.value;
    }
    const button = form.querySelector("[data-testid=save-settings]");
    button.disabled = true;
    const result = await api("PUT", `/api/customers/${form.dataset.customerId}/settings`, body);
    button.disabled = false;
    if (result.ok) { saved.hidden = false; return; }
    const problems = (result.data && result.data.problems) || [];
    let shown = false;
    for (const p of problems) {
      const name = String(p.field || "").split(".")[0];
      const el = fieldError(name);
      if (el) { showError(el, p.problem); shown = true; }
    }
    if (!shown && result.data && result.data.field && fieldError(result.data.field.split(".")[0])) {
      showError(fieldError(result.data.field.split(".")[0]), result.data.detail);
      shown = true;
    }
    showError(errorEl, (result.data && result.data.detail) || "The settings were not saved.");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const rec = document.getElementById("recommendation");
  const cycle = document.getElementById("cycle");
  if (rec && rec.dataset.decidable === "1") initRecommendation(rec);
  else if (cycle && cycle.dataset.live === "1") followCycle(document.body.dataset.customerId).fast();
  const orders = document.getElementById("orders-live");
  if (orders) initOrders(orders);
  const ops = document.getElementById("ops-cycles");
  if (ops) initOps(ops);
  const settings = document.querySelector("[data-testid=settings-form]");
  if (settings) initSettings(settings);
});
