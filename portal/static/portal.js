// Restock portal: progressive enhancement over server-rendered pages.
// Reads come from the page; decisions go through the JSON API with the CSRF header.
"use strict";

const FINAL = new Set(["submitted", "completed", "nothing_to_order", "rejected", "expired", "cancelled", "failed"]);

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)restock_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(method, url, body, extraHeaders) {
  const headers = { Accept: "application/json", ...(extraHeaders || {}) };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  const raw = body instanceof Blob;  // a file, sent as it is with its own type
  if (body !== undefined) headers["Content-Type"] = raw ? (body.type || "text/csv") : "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, data: { detail: "The server cannot be reached; check your connection and try again." } };
  }
  if (response.status === 401) {
    window.location.assign("/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search));
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
  // {code: {qty, base, home}}: the draft on the server, every page's and tab's edits.
  const stored = JSON.parse(root.dataset.drafts || "{}");
  const draftUrl = `/api/customers/${customerId}/recommendations/${version}/draft`;
  const draftStatus = root.querySelector("[data-testid=draft-status]");
  const resetAll = root.querySelector("[data-testid=reset-all]");
  // Changes not yet on the server, sent together a moment after the last keystroke.
  let unsaved = {}, saveTimer = null, saving = Promise.resolve(true);
  const flush = () => {
    clearTimeout(saveTimer);
    const changes = unsaved;
    unsaved = {};
    if (!Object.keys(changes).length) return saving;
    if (draftStatus) draftStatus.textContent = "Saving…";
    saving = saving.then(async () => {
      const result = await api("PATCH", draftUrl, { edits: changes });
      if (draftStatus) draftStatus.textContent = result.ok ? "Edits saved." : "";
      if (!result.ok) showError(actionError, `Edits not saved: ${result.data.detail || "try again"}`);
      return result.ok;
    });
    return saving;
  };
  const save = (code) => {
    unsaved[code] = code in stored ? stored[code].qty : null;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(flush, 400);
    if (resetAll) resetAll.hidden = !Object.keys(stored).length;
  };
  const editsOf = () => Object.fromEntries(Object.entries(stored).map(([code, e]) => [code, e.qty]));
  const approveBtn = root.querySelector("[data-testid=approve]");
  const rejectBtn = root.querySelector("[data-testid=reject]");
  const summary = root.querySelector("[data-testid=approve-summary]");
  const actionError = document.querySelector("[data-testid=action-error]");
  const rows = [...root.querySelectorAll("tr[data-testid=line], tr[data-testid=added-line]")];
  const containers = [...root.querySelectorAll("[data-testid=container]")];
  const invalid = new Set();

  function recompute() {
    // Every stored edit moves its (last) container, whichever page of lines it was made on.
    const delta = {};
    for (const e of Object.values(stored)) {
      if (e.home) delta[e.home] = (delta[e.home] || 0) + e.qty - e.base;
    }
    for (const c of containers) {
      const base = Number(c.dataset.cartons);
      const cartons = base + (delta[c.dataset.index] || 0);
      // The server's fill is of the binding limit (cartons, weight or volume): scale it.
      const pct = (Number(c.dataset.fill) * cartons) / (base || 1);
      c.querySelector("[data-testid=container-cartons]").textContent = cartons.toLocaleString();
      c.querySelector("[data-testid=container-fill]").textContent = pct.toFixed(1);
      c.querySelector(".fill-bar").style.width = Math.min(pct, 100) + "%";
      c.querySelector(".fill").setAttribute("aria-valuenow", pct.toFixed(1));
      c.classList.toggle("over", pct > 100.05);
    }
    const chosen = containers.filter((c) => { const b = c.querySelector("[data-testid=choose-container]"); return !b || b.checked; });
    const editCount = Object.keys(stored).length;
    let problem = null;
    if (invalid.size) problem = `Fix ${invalid.size} quantit${invalid.size === 1 ? "y" : "ies"} first.`;
    else if (!chosen.length) problem = "Choose at least one container.";
    if (approveBtn) approveBtn.disabled = Boolean(problem);
    const over = chosen.filter((c) => c.classList.contains("over")).map((c) => c.dataset.index);
    if (summary) {
      summary.textContent = problem || `Review ${chosen.length} of ${containers.length} container(s)` +
        (editCount ? ` with ${editCount} edited quantit${editCount === 1 ? "y" : "ies"}.` : ".") +
        (over.length ? ` Container ${over.join(", ")} would be over its limit: the review checks whether the edits still fit the chosen containers (each container is one ERP order).` : "");
    }
  }

  for (const row of rows) {
    const input = row.querySelector("[data-testid=qty]");
    if (!input) continue;
    const code = row.dataset.code;
    if (code in stored) input.value = stored[code].qty;
    const error = row.querySelector("[data-testid=qty-error]");
    const check = () => {
      const problem = lineProblem(input.value, Number(row.dataset.pack), Number(row.dataset.moq));
      showError(error, problem);
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem) { invalid.add(code); } else {
        invalid.delete(code);
        const base = Number(row.dataset.quantity);
        const home = row.dataset.containers.split(",").filter(Boolean).pop() || null;
        if (Number(input.value) === base) delete stored[code];
        else stored[code] = { qty: Number(input.value), base, home };
        save(code);
      }
      row.classList.toggle("edited", code in stored);
      if (resetLine) resetLine.hidden = !(code in stored);
      recompute();
    };
    const resetLine = row.querySelector("[data-testid=reset-line]");
    resetLine && resetLine.addEventListener("click", () => {
      input.value = row.dataset.quantity;
      check();
      closeReview();
      input.focus();
    });
    input.addEventListener("input", check);
  }
  const withoutPull = root.querySelector("[data-testid=without-pull-forward]");
  withoutPull && withoutPull.addEventListener("click", async () => {
    await flush();
    const result = await api("POST", `${draftUrl}/without-pull-forward`);
    if (!result.ok) { showError(actionError, result.data.detail || "The change was not taken."); return; }
    location.assign(location.pathname + "?show=edited#lines");
  });
  resetAll && resetAll.addEventListener("click", async () => {
    if (!confirm("Set every line back to the suggested quantity?")) return;
    await flush();
    const result = await api("DELETE", draftUrl);
    if (!result.ok) { showError(actionError, result.data.detail || "The reset was not taken."); return; }
    location.reload();
  });
  for (const box of root.querySelectorAll("[data-testid=choose-container]")) box.addEventListener("change", recompute);
  recompute();

  // Approving is two steps: the server reviews the choice (the cycle's own rules, the
  // containers re-packed) and shows exactly the ERP orders it makes; the buyer then sends them.
  let approvalKey = null, reviewed = null, leftOut = [];
  const reviewBox = root.querySelector("[data-testid=review]");
  const confirmBtn = root.querySelector("[data-testid=confirm-approve]");
  const backBtn = root.querySelector("[data-testid=back-to-edit]");
  const approvalBody = () => {
    const boxes = [...root.querySelectorAll("[data-testid=choose-container]")];
    const chosen = boxes.filter((b) => b.checked).map((b) => Number(b.value));
    return { version, containers: chosen.length === boxes.length ? null : chosen, edits: editsOf() };
  };
  const proposeBtn = root.querySelector("[data-testid=propose]");
  const closeReview = () => {
    reviewed = null;
    if (reviewBox) reviewBox.hidden = true;
    if (approveBtn) approveBtn.hidden = false;
    if (proposeBtn) { proposeBtn.hidden = true; confirmBtn.hidden = false; }
  };
  root.addEventListener("input", (event) => { if (event.target.matches("[data-testid=qty]")) closeReview(); });
  root.addEventListener("change", (event) => { if (event.target.matches("[data-testid=choose-container]")) closeReview(); });
  backBtn && backBtn.addEventListener("click", () => { closeReview(); recompute(); approveBtn.focus(); });

  approveBtn && approveBtn.addEventListener("click", async () => {
    approveBtn.disabled = true;
    showError(actionError, "");
    if (!(await flush())) { approveBtn.disabled = false; return; }
    const body = approvalBody();
    const result = await api("POST", `/api/customers/${customerId}/recommendations/${version}/review`,
      { containers: body.containers, edits: body.edits });
    approveBtn.disabled = false;
    if (!result.ok) {
      showError(actionError, result.data.detail || "The approval cannot be reviewed.");
      if (result.status === 409) following.fast();
      return;
    }
    reviewed = body;
    leftOut = result.data.left_out;
    renderReview(reviewBox, result.data);
    approveBtn.hidden = true;
    reviewBox.hidden = false;
    confirmBtn.textContent = `Send ${result.data.erp_orders} order${result.data.erp_orders === 1 ? "" : "s"} to the ERP`;
    confirmBtn.focus();
  });

  confirmBtn && confirmBtn.addEventListener("click", async () => {
    if (!reviewed) return;
    confirmBtn.disabled = true;
    showError(actionError, "");
    following.pause(true);
    approvalKey = approvalKey || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    const result = await api("POST", `/api/customers/${customerId}/orders`, reviewed, { "Idempotency-Key": approvalKey });
    following.pause(false);
    confirmBtn.disabled = false;
    if (!result.ok) {
      showError(actionError, result.data.detail || "The approval was not taken.");
      if (result.data.error === "over_approval_limit" && proposeBtn) {
        confirmBtn.hidden = true;  // the same choice can go to an approver instead
        proposeBtn.hidden = false;
        proposeBtn.focus();
        return;
      }
      closeReview();
      if (result.status === 409) following.fast();  // decided elsewhere? catch up now
      return;
    }
    showError(actionError, "");
    const refused = result.data.orders.filter((o) => o.status === "failed");
    const outcome = refused.length
      ? `Approved, but the ERP did not take container ${refused.map((o) => o.container_index).join(", ")}: see below.`
      : "Approved. The orders below are the re-packed, final quantities.";
    lockDecision(root, outcome + (leftOut.length
      ? ` Container${leftOut.length === 1 ? "" : "s"} ${leftOut.join(", ")} ${leftOut.length === 1 ? "was" : "were"} not approved: nothing of ${leftOut.length === 1 ? "it" : "them"} is ordered now; ${leftOut.length === 1 ? "its" : "their"} products come back at the next review, re-planned.`
      : ""));
    renderOrders(result.data.orders);
    following.fast();
  });

  // Above the buyer's approval limit the reviewed choice is proposed: it waits in the cycle
  // for an approver whose limit covers it.
  proposeBtn && proposeBtn.addEventListener("click", async () => {
    if (!reviewed) return;
    proposeBtn.disabled = true;
    following.pause(true);
    const result = await api("POST", `/api/customers/${customerId}/proposals`, reviewed, { "Idempotency-Key": approvalKey });
    following.pause(false);
    proposeBtn.disabled = false;
    if (!result.ok) {
      showError(actionError, result.data.detail || "The proposal was not taken.");
      if (result.status === 409) following.fast();
      return;
    }
    showError(actionError, "");
    lockDecision(root, "Proposed: waiting for an approver. The approvers are told; nothing is ordered until one approves.");
  });

  const approveProposal = document.querySelector("[data-testid=approve-proposal]");
  approveProposal && approveProposal.addEventListener("click", async () => {
    approveProposal.disabled = true;
    showError(actionError, "");
    following.pause(true);
    approvalKey = approvalKey || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    const proposal = JSON.parse(approveProposal.dataset.proposal);
    const result = await api("POST", `/api/customers/${customerId}/orders`, proposal, { "Idempotency-Key": approvalKey });
    following.pause(false);
    if (!result.ok) {
      approveProposal.disabled = false;
      showError(actionError, result.data.detail || "The approval was not taken.");
      if (result.status === 409) following.fast();
      return;
    }
    approveProposal.hidden = true;
    lockDecision(root, "Proposal approved. The orders below are the re-packed, final quantities.");
    renderOrders(result.data.orders);
    following.fast();
  });

  // Adding a product the plan does not suggest: find it by code or name, give it cartons;
  // the draft checks it by the planner's rules, the approval packs it.
  const addSearch = root.querySelector("[data-testid=add-search]");
  const addBtn = root.querySelector("[data-testid=add-product]");
  const addError = root.querySelector("[data-testid=add-error]");
  const addHint = root.querySelector("[data-testid=add-hint]");
  let found = {}, foundFor = null, searchTimer = null;  // the last search's results, for its text
  const describe = () => {
    const product = found[addSearch.value.trim()];
    addHint.textContent = product
      ? `${product.name}: pack ${product.pack_size}${product.moq ? `, min ${product.moq.toLocaleString()}` : ""}`
      : "";
  };
  addSearch && addSearch.addEventListener("input", () => {
    describe();
    clearTimeout(searchTimer);
    const text = addSearch.value.trim();
    if (found[text]) return;  // a code picked from the list
    if (text.length < 2) { found = {}; foundFor = null; return; }
    searchTimer = setTimeout(async () => {
      const result = await api("GET", `/api/customers/${customerId}/products?q=${encodeURIComponent(text)}&page_size=20`);
      if (!result.ok || addSearch.value.trim() !== text) return;  // typed on meanwhile
      found = Object.fromEntries(result.data.items.map((p) => [p.code, p]));
      foundFor = text;
      root.querySelector("[data-testid=add-choices]").replaceChildren(...result.data.items.map((p) => {
        const option = document.createElement("option");
        option.value = p.code;
        option.label = p.name;
        return option;
      }));
      describe();
    }, 250);
  });
  addBtn && addBtn.addEventListener("click", async () => {
    const text = addSearch.value.trim();
    // A code from the list; or the one product the search for exactly this text found.
    const only = foundFor === text && Object.keys(found).length === 1 ? Object.keys(found)[0] : null;
    const code = found[text] ? text : (only || text);
    const quantity = Number(root.querySelector("[data-testid=add-qty]").value);
    if (!code) { showError(addError, "product: give a product code or name"); addSearch.focus(); return; }
    if (!Number.isInteger(quantity) || quantity <= 0) { showError(addError, "quantity: give a whole number of cartons"); return; }
    addBtn.disabled = true;
    if (!(await flush())) { addBtn.disabled = false; return; }
    const result = await api("PATCH", draftUrl, { edits: { [code]: quantity } });
    addBtn.disabled = false;
    if (!result.ok) { showError(addError, result.data.detail || "The product was not added."); return; }
    location.reload();  // the added product shows with the others, its quantity editable
  });

  const pasteBtn = root.querySelector("[data-testid=paste-apply]");
  const csvFile = root.querySelector("[data-testid=csv-file]");
  const importLines = async (send) => {
    const problemsList = root.querySelector("[data-testid=paste-problems]");
    pasteBtn.disabled = true;
    if (!(await flush())) { pasteBtn.disabled = false; return; }
    const result = await send();
    pasteBtn.disabled = false;
    problemsList.replaceChildren();
    if (!result.ok) {
      const problems = (result.data && result.data.problems) || [{ field: "", problem: result.data.detail || "The quantities were not set." }];
      for (const p of problems) {
        const item = document.createElement("li");
        item.textContent = p.field ? `${p.field}: ${p.problem}` : p.problem;
        problemsList.append(item);
      }
      problemsList.hidden = false;
      return;
    }
    location.reload();  // every row, total and container shows the new quantities
  };
  pasteBtn && pasteBtn.addEventListener("click", () => importLines(() =>
    api("POST", `${draftUrl}/paste`, { text: root.querySelector("[data-testid=paste-text]").value })));
  csvFile && csvFile.addEventListener("change", () => {
    const file = csvFile.files[0];
    if (!file) return;
    importLines(() => api("POST", `${draftUrl}/csv`, new Blob([file], { type: "text/csv" })));
  });

  rejectBtn && rejectBtn.addEventListener("click", async () => {
    const reason = root.querySelector("[data-testid=reject-reason]");
    if (!reason.value.trim()) { showError(actionError, "reason: say why you reject the recommendation"); reason.focus(); return; }
    rejectBtn.disabled = true;
    following.pause(true);
    const result = await api("POST", `/api/customers/${customerId}/recommendations/${version}/reject`, { reason: reason.value.trim() });
    following.pause(false);
    if (!result.ok) {
      showError(actionError, result.data.detail || "The rejection was not taken.");
      rejectBtn.disabled = false;
      if (result.status === 409) following.fast();
      return;
    }
    showError(actionError, "");
    lockDecision(root, "Rejected.");
    setBadge(document.querySelector("[data-testid=cycle-status]"), result.data.state.status);
  });

  // Another tab or person may decide meanwhile: follow the cycle and lock this page then.
  // A cycle passing through a sync or plan locks the page only for the while ("passing"):
  // the version it then waits with still replaces this one. Any other lock is final.
  const following = followCycle(customerId, (status, state) => {
    if (root.dataset.locked && root.dataset.locked !== "passing") return;
    const newer = state && state.recommendation && state.recommendation.version !== version;
    if (status === "awaiting_approval" && newer) {
      lockDecision(root, `A new version, v${state.recommendation.version}, replaces this one (the cycle re-planned): reload to see it. Your edits stay with v${version}.`);
      const reload = document.createElement("button");
      reload.type = "button";
      reload.dataset.testid = "show-new-version";
      reload.textContent = `Show v${state.recommendation.version}`;
      reload.addEventListener("click", () => location.reload());
      document.querySelector("[data-testid=decision-note]").append(" ", reload);
    } else if (status !== "awaiting_approval" && status !== "approving") {
      lockDecision(root, `This recommendation is no longer waiting (the cycle is ${label(status)}); reload for the latest.`);
      root.dataset.locked = "passing";
    }
  });
}

function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

// The review: one row per ERP order, the edits against the suggestion, what is left out.
function renderReview(box, review) {
  box.querySelector("[data-testid=review-summary]").textContent = review.summary;
  const body = box.querySelector("[data-testid=review-orders] tbody");
  body.replaceChildren(...review.containers.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.testid = "review-order";
    tr.dataset.cartons = c.cartons;
    const products = c.lines.map((l) => `${l.product_code} ${l.quantity.toLocaleString()}`).join(", ");
    tr.append(
      cell("td", `Container ${c.index}${c.urgent ? " (urgent)" : ""}`),
      cell("td", c.cartons.toLocaleString(), "num"),
      cell("td", `${c.fill_pct.toFixed(1)}%`, "num"),
      cell("td", c.weight_kg == null ? "\u2013" : `${Math.round(c.weight_kg).toLocaleString()} kg`, "num"),
      cell("td", c.volume_m3 == null ? "\u2013" : `${c.volume_m3.toFixed(1)} m\u00b3`, "num"),
      cell("td", `${c.lines.length} products: ${products}`, "small"),
    );
    return tr;
  }));
  const changes = box.querySelector("[data-testid=review-changes]");
  changes.replaceChildren(...review.changes.map((c) => {
    const li = cell("li", `${c.product_code} ${c.name}: ${c.suggested.toLocaleString()} \u2192 ${c.quantity.toLocaleString()} cartons (${c.quantity >= c.suggested ? "+" : ""}${(c.quantity - c.suggested).toLocaleString()})`);
    li.dataset.testid = "review-change";
    return li;
  }));
  box.querySelector("[data-testid=review-no-changes]").hidden = review.changes.length > 0;
  const leftOut = box.querySelector("[data-testid=review-left-out]");
  leftOut.hidden = !review.left_out_containers.length;
  leftOut.querySelector("ul").replaceChildren(...review.left_out_containers.map((c) => {
    const li = cell("li", `Container ${c.index} (${c.cartons.toLocaleString()} cartons): ` +
      c.lines.map((l) => `${l.product_code} ${l.quantity.toLocaleString()}`).join(", "));
    li.dataset.testid = "review-left-out-container";
    return li;
  }));
}

function lockDecision(root, note) {
  root.dataset.locked = "1";
  for (const el of root.querySelectorAll("[data-testid=qty], [data-testid=choose-container], [data-testid=approve-proposal], #decide button, #decide textarea")) el.disabled = true;
  const decide = root.querySelector("#decide");
  if (decide) decide.hidden = true;
  const notice = document.querySelector("[data-testid=decision-note]");
  if (notice && note) { notice.textContent = note; notice.hidden = false; }
}

// An ERP failure in words, from the sentences the page was given (services/erp_messages.py).
function explainFailure(text) {
  const cycle = document.getElementById("cycle");
  const texts = JSON.parse((cycle && cycle.dataset.erpFailures) || "{}");
  const match = /\bE_[A-Z_]+\b/.exec(text || "");
  if (match && texts[match[0]]) return texts[match[0]];
  return (texts[""] || "The ERP did not take this order{code}.").replace("{code}", match ? ` (${match[0]})` : "");
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
    const link = document.createElement("a");
    link.href = `/customers/${document.body.dataset.customerId}/orders/${o.order_id}`;
    link.textContent = `Container ${o.container_index}`;
    li.append(link, ` (${o.cartons.toLocaleString()} cartons): `, badge, " ", num);
    if (o.eta) li.append(` · ETA ${o.eta}`);
    if (o.failure) {
      const f = document.createElement("div");
      f.className = "alert small";
      f.dataset.testid = "order-failure";
      f.textContent = explainFailure(o.failure);
      li.append(f);
    }
    return li;
  }));
}

// Poll the cycle: quickly while something happens, slowly while it waits or tracks, not at
// all while the tab is hidden. Returns {fast(), pause(on)}: fast() after this page made (or
// was refused) a decision; pause(true) while its own decision is in flight, so a passing
// "approving" is not taken for someone else's. Only the newest answer is shown.
function followCycle(customerId, onStatus) {
  const badge = document.querySelector("[data-testid=cycle-status]");
  const pollError = document.querySelector("[data-testid=poll-error]");
  const SLOW = 5000;
  let delay = SLOW, timer = null, asked = 0, paused = false, stopped = false;
  const schedule = (ms) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, ms);
  };
  async function tick() {
    if (document.hidden) return;  // visibilitychange resumes
    const ticket = ++asked;
    const result = await api("GET", `/api/customers/${customerId}/cycles/current`);
    if (ticket !== asked) return;  // a newer request was sent meanwhile
    if (result.ok) {
      showError(pollError, "");
      const state = result.data.state;
      const status = state ? state.status : result.data.status;
      setBadge(badge, status);
      if (state && state.orders && state.orders.length) renderOrders(state.orders);
      if (onStatus && !paused) onStatus(status, state);
      if (FINAL.has(status)) { stopped = true; return; }
      const settled = !state || !state.orders.length || state.orders.every((o) => o.erp_order_number || o.failure);
      const waiting = status === "awaiting_approval" || status === "submission_failed";
      delay = waiting || (status === "tracking" && settled) ? SLOW : Math.min(delay * 1.3, 2000);
    } else if (result.status >= 500 || result.status === 0) {
      showError(pollError, (result.data && result.data.detail) || "Status is unavailable; retrying.");
      delay = SLOW;
    } else if (result.status === 404) {
      stopped = true;
      return;  // no cycle yet
    }
    schedule(delay);
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) schedule(0); });
  schedule(0);
  return {
    fast() { delay = 300; schedule(delay); },
    pause(on) { paused = on; },
  };
}

// ---- orders page ----------------------------------------------------------------------

const OPEN_ORDER = new Set(["approved", "submitted", "in_transit"]);

// Follow the orders on this page (without their lines): every few seconds while one is open,
// else now and then, so a new approval shows up.
function initOrders(root) {
  const customerId = root.dataset.customerId;
  const params = new URLSearchParams({ page: root.dataset.page || "1", page_size: "50", lines: "false" });
  if (root.dataset.status) params.append("status", root.dataset.status);
  const rows = () => [...root.querySelectorAll("tr[data-testid=order-row]")];
  const anyOpen = () => rows().some((r) => OPEN_ORDER.has(r.dataset.status));
  const refresh = async () => {
    if (document.hidden) { setTimeout(refresh, 4000); return; }
    const result = await api("GET", `/api/customers/${customerId}/orders?${params}`);
    if (result.ok) {
      const known = new Map(rows().map((r) => [r.dataset.orderId, r]));
      const listed = new Set(result.data.items.map((o) => String(o.id)));
      if ([...listed].some((id) => !known.has(id)) || [...known.keys()].some((id) => !listed.has(id))) {
        location.reload();  // orders came or went (e.g. left the filter): redraw the page
        return;
      }
      for (const o of result.data.items) {
        const row = known.get(String(o.id));
        row.dataset.status = o.status;
        row.querySelector("[data-field=erp_order_number] a").textContent = o.erp_order_number || `#${o.id}`;
        setBadge(row.querySelector("[data-field=status] .badge"), o.status);
        row.querySelector("[data-field=eta]").textContent = o.eta || "\u2013";
        row.querySelector("[data-field=delivered_on]").textContent = o.delivered_on || "\u2013";
      }
    }
    setTimeout(refresh, anyOpen() ? 4000 : 15000);
  };
  setTimeout(refresh, anyOpen() ? 4000 : 15000);
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
    if (action === "review") {
      button.disabled = true;
      const result = await reviewNow(button.dataset.customerId);
      button.disabled = false;
      if (!result.ok) { showError(errorEl, result.data.detail || "The review was not started."); return; }
      showError(errorEl, "");
      row.dataset.status = result.data.status;
      setBadge(row.querySelector("[data-field=status]") || button, result.data.status);
      button.textContent = "Review started";
      return;
    }
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

// Start a review of the customer now; a recommendation still waiting is re-planned instead.
function reviewNow(customerId) {
  return api("POST", `/api/customers/${customerId}/cycles`, undefined);
}

function initSettings(form) {
  const replan = form.querySelector("[data-testid=replan]");
  const replanned = form.querySelector("[data-testid=replanned]");
  replan && replan.addEventListener("click", async () => {
    replan.disabled = true;
    const result = await reviewNow(replan.dataset.customerId);
    replan.disabled = false;
    if (!result.ok) { showError(form.querySelector("[data-testid=action-error]"), result.data.detail || "The re-plan was not started."); return; }
    replanned.textContent = result.status === 201
      ? "A review started: the buyer gets a recommendation planned with these settings."
      : "The waiting recommendation is being re-planned with these settings; the buyer sees the new version.";
    replanned.hidden = false;
  });
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

// How the signed-in customer user is told: PUT /api/me/notify-by, audited.
function initNotifyBy(form) {
  const saved = form.querySelector("[data-testid=notify-by-saved]");
  const errorEl = form.querySelector("[data-testid=action-error]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saved.hidden = true;
    showError(errorEl, "");
    const chosen = form.querySelector("input[name=notify_by]:checked");
    if (!chosen) { showError(errorEl, "Choose how you want to be told."); return; }
    const button = form.querySelector("[data-testid=save-notify-by]");
    button.disabled = true;
    const result = await api("PUT", "/api/me/notify-by", { notify_by: chosen.value });
    button.disabled = false;
    if (result.ok) { saved.hidden = false; return; }
    showError(errorEl, (result.data && result.data.detail) || "Your choice was not saved.");
  });
}

// A product put off for N reviews (or back at once): from the next plan; a refresh re-plans.
function initSnooze(box) {
  const url = `/api/customers/${box.dataset.customerId}/products/${encodeURIComponent(box.dataset.code)}/snooze`;
  const error = box.querySelector("[data-testid=snooze-error]");
  const note = box.querySelector("[data-testid=snooze-note]");
  const replan = box.querySelector("[data-testid=replan]");
  const done = (text) => {
    showError(error, ""); note.textContent = text; note.hidden = false;
    if (replan) replan.hidden = false;
  };
  replan && replan.addEventListener("click", async () => {
    replan.disabled = true;
    const result = await api("POST", `/api/customers/${box.dataset.customerId}/cycles/current/refresh`);
    replan.disabled = false;
    if (!result.ok) { showError(error, result.data.detail || "The recommendation was not re-planned."); return; }
    replan.hidden = true;
    note.textContent = `Re-planned: recommendation v${result.data.state.recommendation ? result.data.state.recommendation.version : "?"} waits for a decision.`;
    box.querySelector("[data-testid=to-recommendation]").hidden = false;
  });
  const snooze = box.querySelector("[data-testid=snooze-product]");
  snooze && snooze.addEventListener("click", async () => {
    const reviews = Number(box.querySelector("[data-testid=snooze-reviews]").value);
    snooze.disabled = true;
    const result = await api("PUT", url, { reviews });
    snooze.disabled = false;
    if (!result.ok) { showError(error, result.data.detail || "The product was not snoozed."); return; }
    snooze.hidden = true;
    done(`Snoozed until ${result.data.until}: plans made before then do not order it.`);
  });
  const wake = box.querySelector("[data-testid=wake]");
  wake && wake.addEventListener("click", async () => {
    wake.disabled = true;
    const result = await api("DELETE", url);
    if (!result.ok) { wake.disabled = false; showError(error, result.data.detail || "The snooze was not ended."); return; }
    wake.hidden = true;
    done("Not snoozed any more: the next plan orders it as it needs.");
  });
}

// Order again: an earlier order's quantities drafted in the waiting recommendation.
function initOrderAgain(box) {
  const button = box.querySelector("[data-testid=order-again]");
  const note = document.querySelector("[data-testid=order-again-note]");
  const error = document.querySelector("[data-testid=order-again-error]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { customerId, orderId, version } = box.dataset;
    const result = await api("POST", `/api/customers/${customerId}/recommendations/${version}/draft/from-order/${orderId}`);
    button.disabled = false;
    if (!result.ok) { showError(error, result.data.detail || "The quantities were not set."); return; }
    showError(error, "");
    const applied = Object.keys(result.data.applied).length;
    const skipped = result.data.skipped;
    note.replaceChildren(
      `${applied} quantit${applied === 1 ? "y" : "ies"} set in recommendation v${version}.` +
      (skipped.length ? ` Not ordered any more (discontinued or gone): ${skipped.join(", ")}.` : "") + " ",
    );
    const link = document.createElement("a");
    link.href = `/customers/${customerId}/recommendation`;
    link.textContent = "Review them";
    link.dataset.testid = "to-recommendation";
    note.append(link);
    note.hidden = false;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const orderAgain = document.querySelector("[data-testid=order-again-box]");
  if (orderAgain) initOrderAgain(orderAgain);
  const snoozeBox = document.querySelector("[data-testid=snooze]");
  if (snoozeBox) initSnooze(snoozeBox);
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
  const notifyBy = document.querySelector("[data-testid=notify-by-form]");
  if (notifyBy) initNotifyBy(notifyBy);
});
