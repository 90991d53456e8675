// The order board: plain ES module, no build step. Every call goes to /app/api/ signed with
// Telegram's initData; the server decides what may be seen and done.
const tg = window.Telegram && window.Telegram.WebApp ? window.Telegram.WebApp : null;
const $ = (id) => document.getElementById(id);
const state = {
  me: null, t: {}, view: "board", scope: null, manager: "", query: "", column: "new",
  board: null, boardTag: null, card: null, cardTag: null, services: null, timer: null,
};

// ---- helpers ---------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") node.style.cssText = value; // CSSOM: allowed by the page's CSP
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const t = (key, params = {}) =>
  (state.t[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
const money = (kopecks, currency) => {
  try {
    return new Intl.NumberFormat(state.me.locale, { style: "currency", currency }).format(kopecks / 100);
  } catch (e) {
    return `${(kopecks / 100).toFixed(2)} ${currency}`;
  }
};
const when = (iso) => new Intl.DateTimeFormat(state.me.locale, {
  timeZone: state.me.timezone, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
}).format(new Date(iso));
const day = (iso) => new Intl.DateTimeFormat(state.me.locale, {
  timeZone: "UTC", day: "numeric", month: "long", year: "numeric",
}).format(new Date(iso + "T00:00:00Z")).replace(/\s?г\.$/, ""); // "22 октября 2027", no "г."

function toast(text, error = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = error ? "toast error" : "toast";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3000);
}

function authorization() {
  if (tg && tg.initData) return `tma ${tg.initData}`;
  const dev = sessionStorage.getItem("shopdesk-dev-id");
  return dev ? `dev ${dev}` : "";
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || t("error"));
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

async function call(method, path, body, tag) {
  const headers = { Authorization: authorization() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (tag) headers["If-None-Match"] = tag;
  const response = await fetch(`/app/api/${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 304) return { notModified: true };
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, tag: response.headers.get("ETag") };
}

// ---- theme and Telegram's buttons ------------------------------------------------------------
function applyTheme() {
  const root = document.documentElement;
  const params = (tg && tg.themeParams) || {};
  for (const [key, value] of Object.entries(params)) {
    root.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
  }
  const dark = tg ? tg.colorScheme === "dark"
    : window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  root.dataset.scheme = dark ? "dark" : "light";
}

const main = {
  handler: null,
  show(text, handler) {
    if (!tg || !tg.MainButton) return;
    if (this.handler) tg.MainButton.offClick(this.handler);
    this.handler = handler;
    tg.MainButton.setText(text);
    tg.MainButton.onClick(handler);
    tg.MainButton.show();
  },
  hide() {
    if (!tg || !tg.MainButton) return;
    if (this.handler) tg.MainButton.offClick(this.handler);
    this.handler = null;
    tg.MainButton.hide();
  },
};

function backButton(on) {
  if (!tg || !tg.BackButton) return;
  if (on) tg.BackButton.show(); else tg.BackButton.hide();
}

function haptic(kind) {
  if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred(kind);
}

// ---- the board -------------------------------------------------------------------------------
function boardPath() {
  const params = new URLSearchParams();
  if (state.scope) params.set("scope", state.scope);
  if (state.manager && state.scope === "team") params.set("manager", state.manager);
  if (state.query) params.set("q", state.query);
  return `board?${params}`;
}

async function loadBoard(quiet = false) {
  const path = boardPath();
  const result = await call("GET", path, undefined, quiet ? state.boardTag : null);
  if (result.notModified || path !== boardPath()) return;
  state.board = result.data;
  state.boardTag = result.tag;
  state.scope = result.data.scope;
  if (state.view === "board") renderBoard();
}

function columnTitle(key) {
  if (key === "done_today" && state.board && state.board.query) return t("col_done");
  return t(`col_${key}`);
}

function renderControls() {
  const board = state.board;
  const scopes = $("scopes");
  scopes.replaceChildren(...board.scopes.map((scope) => el("button", {
    type: "button", role: "tab", "data-scope": scope,
    "aria-selected": String(scope === board.scope),
    text: scope === "team" && board.full_view ? t("scope_all") : t(`scope_${scope}`),
    onclick: () => { state.scope = scope; refresh(); },
  })));
  const manager = $("manager");
  manager.hidden = !(board.managers.length && board.scope === "team");
  manager.replaceChildren(
    el("option", { value: "", text: t("all_managers") }),
    ...board.managers.map((m) => el("option", { value: String(m.id), text: m.name })),
  );
  manager.value = state.manager;
  $("tabs").replaceChildren(...board.columns.map((column) => el("button", {
    type: "button", role: "tab", "data-col": column.key,
    "aria-selected": String(column.key === state.column),
    onclick: () => { state.column = column.key; renderBoard(); },
  }, columnTitle(column.key), el("span", { class: "count", text: countText(column) }))));
}

// A long column is counted up to a limit: "1 000+".
const countText = (column) => column.more ? `${number(column.count)}+` : number(column.count);

function orderRow(row, columnKey) {
  const meta = [when(row.created_at), row.assignee || t("unassigned")].join(" · ");
  const canClaim = columnKey === "new" && !state.me.read_only;
  return el("li", { class: row.stale ? "order stale" : "order", "data-id": row.id,
    "data-number": row.number },
  el("button", { type: "button", class: "num", text: `№ ${row.number}`,
    onclick: () => openCard(row.id) }),
  el("span", { class: "sum", text: money(row.total, row.currency) }),
  el("span", { class: "meta", text: meta }),
  canClaim ? el("button", { type: "button", class: "claim", text: t("claim"),
    onclick: (event) => { event.stopPropagation(); claim(row.id); } }) : el("span"),
  row.stale ? el("span", { class: "flag", text: t("stale") }) : null);
}

function renderBoard() {
  const board = state.board;
  if (!board) return;
  $("tabs").hidden = false;
  document.querySelector(".top").hidden = false;
  renderControls();
  const columns = board.columns.map((column) => el("section", {
    class: column.key === state.column ? "column active" : "column", "data-col": column.key,
  },
  el("h2", {}, columnTitle(column.key), el("span", { class: "count", text: countText(column) })),
  column.rows.length
    ? el("ol", {}, column.rows.map((row) => orderRow(row, column.key)))
    : el("p", { class: "empty", text: t("empty") })));
  $("main").replaceChildren(el("div", { class: "board" }, columns));
}

async function claim(orderId) {
  try {
    const { data } = await call("POST", `orders/${orderId}/claim`);
    if (data.won || data.mine) {
      haptic("success");
      toast(t("claimed"));
      state.column = "in_progress";
    } else {
      haptic("error");
      toast(t("claimed_by", { name: data.holder || "—" }), true);
    }
    if (state.view === "card") showCard(data.view); else await loadBoard();
  } catch (error) {
    fail(error);
  }
}

// ---- the order card --------------------------------------------------------------------------
async function openCard(orderId) {
  try {
    const { data, tag } = await call("GET", `orders/${orderId}`);
    state.cardTag = tag;
    showCard(data);
    window.scrollTo(0, 0);
  } catch (error) {
    fail(error);
  }
}

async function act(method, path, body) {
  try {
    const { data } = await call(method, path, body);
    state.cardTag = null;
    showCard(data.view);
    return true;
  } catch (error) {
    fail(error);
    return false;
  }
}

// The customer's history in one line, as the bot's order card shows it.
function customerLine(c) {
  if (c.orders === 1) return t("customer_first");
  const category = new Intl.PluralRules(state.me.locale).select(c.orders);
  const orders = (state.t[`orders_${category}`] || state.t.orders_many || "{n}").replace("{n}", c.orders);
  let line = "👤 " + t(c.spent ? "customer_history" : "customer_history_unpaid", {
    orders, spent: money(c.spent, c.currency), first: day(c.first_on), last: day(c.last_on) });
  if (c.usual_manager) line += "; " + t("customer_usual", { manager: c.usual_manager });
  return line;
}

function showCard(view) {
  state.view = "card";
  state.card = view;
  document.querySelector(".top").hidden = true;
  $("tabs").hidden = true;
  backButton(true);
  const order = view.order;
  const parts = [
    el("div", { class: "actions" },
      tg && tg.BackButton ? null : el("button", { type: "button", class: "btn plain", id: "back",
        text: `← ${t("back")}`, onclick: closeCard })),
    el("h1", {}, `№ ${order.number} `, el("span", { class: `chip ${order.status}`, id: "card-status",
      text: t(`status_${order.status}`) })),
    el("dl", { class: "kv section" },
      el("dt", { text: t("total") }), el("dd", { text: money(order.total, order.currency) }),
      el("dt", { text: t("assignee") }), el("dd", { id: "card-assignee", text: order.assignee || t("unassigned") }),
      el("dt", { text: t("received") }), el("dd", { text: when(order.created_at) })),
  ];
  if (view.details) {
    const d = view.details;
    const rows = [["customer", d.customer_name], ["phone", d.customer_phone],
      ["email", d.customer_email], ["address", d.customer_address], ["comment", d.comment]];
    parts.push(el("section", { class: "section", id: "customer" }, el("h3", { text: t("customer") }),
      el("dl", { class: "kv" }, rows.filter(([, v]) => v).map(([k, v]) =>
        [el("dt", { text: t(k) }), el("dd", {}, k === "phone"
          ? el("a", { href: `tel:${v.replace(/[^\d+]/g, "")}`, text: v }) : v)])),
      d.items.length ? el("ul", { class: "log" }, d.items.map((i) =>
        el("li", { text: `${i.title} × ${i.qty} — ${money(i.price * i.qty, order.currency)}` }))) : null,
      view.customer ? el("p", { class: "note", id: "customer-history",
        text: customerLine(view.customer) }) : null));
  } else if (view.limited) {
    parts.push(el("p", { class: "note", id: "limited", text: t(`limited_${view.limited}`) }));
  }
  const buttons = [];
  if (view.actions.includes("claim")) {
    buttons.push(el("button", { type: "button", class: "btn", id: "card-claim", text: t("claim"),
      onclick: () => claim(order.id) }));
  }
  for (const status of view.next_statuses) {
    buttons.push(el("button", {
      type: "button", class: status === "cancelled" ? "btn danger" : "btn plain",
      "data-status": status, text: `→ ${t(`status_${status}`)}`,
      onclick: status === "cancelled" ? () => pickReason(order.id)
        : () => act("POST", `orders/${order.id}/status`, { status }),
    }));
  }
  if (view.actions.includes("assign")) {
    buttons.push(el("button", { type: "button", class: "btn plain", id: "assign", text: t("assign"),
      onclick: () => pickAssignee(order.id) }));
  }
  if (view.actions.includes("unassign")) {
    buttons.push(el("button", { type: "button", class: "btn plain", text: t("unassign"),
      onclick: () => act("POST", `orders/${order.id}/assign`, { member_id: null }) }));
  }
  if (buttons.length) parts.push(el("div", { class: "actions", id: "card-actions" }, buttons));
  parts.push(el("div", { id: "picker" }));
  if (view.tasks) parts.push(tasksSection(view));
  if (view.log) {
    parts.push(el("section", { class: "section" }, el("h3", { text: t("log") }),
      el("ol", { class: "log", id: "log" }, view.log.map((row) => el("li", {},
        el("time", { text: when(row.created_at) }), " ",
        state.t[`log_${row.action}`] || row.action,
        row.after && row.after.status ? ` → ${t(`status_${row.after.status}`)}` : "",
        row.actor ? ` · ${row.actor}` : "")))));
  }
  $("main").replaceChildren(el("article", { class: "card", id: "card", "data-id": order.id }, parts));
  if (view.actions.includes("claim") && !state.me.read_only) {
    main.show(t("claim"), () => claim(order.id));
  } else {
    main.hide();
  }
}

function tasksSection(view) {
  const order = view.order;
  const items = view.tasks.map((task) => el("li", {
    class: task.status === "done" ? "task done" : "task", "data-task": task.id,
  },
  el("span", { class: "text", text: task.text }),
  task.due_at ? el("span", { class: task.overdue ? "due overdue" : "due",
    text: `${task.overdue ? t("overdue") + " · " : ""}${when(task.due_at)}` }) : null,
  task.assignee ? el("span", { class: "due", text: task.assignee }) : null,
  el("div", { class: "actions" },
    task.actions.includes("done") ? el("button", { type: "button", class: "btn plain",
      "data-act": "done", text: t("task_done"),
      onclick: () => act("POST", `tasks/${task.id}/done`) }) : null,
    task.actions.includes("postpone") ? [
      el("button", { type: "button", class: "btn plain", text: t("postpone_hour"),
        onclick: () => act("POST", `tasks/${task.id}/postpone`, { step: "hour" }) }),
      el("button", { type: "button", class: "btn plain", text: t("postpone_day"),
        onclick: () => act("POST", `tasks/${task.id}/postpone`, { step: "day" }) }),
    ] : null)));
  const form = view.can_add_task ? el("form", { class: "add", id: "add-task",
    onsubmit: async (event) => {
      event.preventDefault();
      const text = form.elements.text.value.trim();
      if (!text) return;
      await act("POST", `orders/${order.id}/tasks`, { text, due: form.elements.due.value });
    },
  },
  el("input", { type: "text", name: "text", maxlength: "500", placeholder: t("task_text"), required: true }),
  el("input", { type: "text", name: "due", maxlength: "60", placeholder: t("task_due") }),
  el("button", { type: "submit", class: "btn", text: t("add_task") })) : null;
  return el("section", { class: "section", id: "tasks" }, el("h3", { text: t("tasks") }),
    items.length ? el("ul", { class: "list" }, items) : el("p", { class: "note", text: t("no_tasks") }),
    form);
}

const CANCEL_REASONS = ["customer_refused", "out_of_stock", "unreachable", "duplicate"];

function pickReason(orderId) {
  // Cancelling asks why, as in the chat: a reason from the list or the member's own words.
  const send = (reason) => act("POST", `orders/${orderId}/status`, { status: "cancelled", reason });
  const own = el("input", { type: "text", id: "reason-own", maxlength: "200",
    placeholder: t("reason_own"), "aria-label": t("reason_own") });
  $("picker").replaceChildren(el("section", { class: "section", id: "reasons" },
    el("h3", { text: t("cancel_why") }),
    el("div", { class: "actions" }, CANCEL_REASONS.map((code) => el("button", {
      type: "button", class: "btn plain", "data-reason": code, text: t(`reason_${code}`),
      onclick: () => send(code) }))),
    el("div", { class: "actions" }, own, el("button", { type: "button", class: "btn danger",
      id: "reason-send", text: t("cancel_order"),
      onclick: () => (own.value.trim() ? send(own.value.trim()) : own.focus()) }))));
}

async function pickAssignee(orderId) {
  try {
    const { data } = await call("GET", `orders/${orderId}/assignees`);
    const select = el("select", { id: "assignee-pick", "aria-label": t("assign_to") },
      el("option", { value: "", text: t("assign_to") }),
      data.members.map((m) => el("option", { value: String(m.id), text: m.name })));
    select.addEventListener("change", () => {
      if (select.value) act("POST", `orders/${orderId}/assign`, { member_id: Number(select.value) });
    });
    $("picker").replaceChildren(select);
  } catch (error) {
    fail(error);
  }
}

function closeCard() {
  state.card = null;
  backButton(false);
  main.hide();
  state.view = "board";
  state.boardTag = null;
  renderNav();
  refresh();
}

// ---- services --------------------------------------------------------------------------------
async function loadServices() {
  const { data } = await call("GET", "services");
  state.services = data;
  if (state.view === "services") renderServices();
}

function renderServices() {
  const data = state.services;
  document.querySelector(".top").hidden = true;
  $("tabs").hidden = true;
  const rows = data.rows.map((row) => el("li", { class: `svc ${row.color}`, "data-service": row.id },
    el("strong", { text: row.name }),
    el("span", { class: "sum", text: money(row.price, currency()) }),
    el("span", { class: `state ${row.color}`, text: t(`svc_${row.status}`) }),
    row.ends_on ? el("span", { class: row.end_marked ? "ends marked" : "ends",
      text: t("ends_on", { date: day(row.ends_on) }) }) : el("span"),
    row.return_days_left > 0 && ["suspended", "disconnected"].includes(row.status)
      ? el("span", { class: "meta", text: t("return_days", { days: row.return_days_left }) }) : null,
    data.can_manage && row.return_days_left > 0 && ["suspended", "disconnected"].includes(row.status)
      ? el("button", { type: "button", class: "btn plain", "data-return": row.id,
        text: t("return", { price: money(row.price, currency()) }),
        onclick: () => returnService(row) }) : null,
    data.can_manage && ["ordered", "needs_setup", "active", "suspended"].includes(row.status)
      ? el("label", { class: "switch" }, el("input", {
        type: "checkbox", role: "switch", "data-renew": row.id, checked: row.auto_renew,
        onchange: (event) => toggleRenew(row.id, event.target),
      }), t("auto_renew")) : null));
  $("main").replaceChildren(el("div", { class: "card", id: "services" },
    el("section", { class: "section" }, el("h3", { text: t("balance") }),
      el("span", { class: "balance", id: "balance", text: money(data.balance, currency()) }),
      runwayLine(data)),
    rows.length ? el("ul", { class: "list" }, rows) : el("p", { class: "note", text: t("no_services") })));
}

const currency = () => state.me.currency || "RUB";

function runwayLine(data) {
  if (!data.renews) return el("p", { class: "runway", id: "runway", text: t("runway_none") });
  if (!data.short_on) return el("p", { class: "runway ok", id: "runway", text: t("runway_year") });
  const soon = (new Date(data.short_on) - new Date(data.today)) / 86400000 <= 30;
  const text = soon
    ? t("runway_short", { amount: money(data.shortfall, currency()), date: day(data.short_on) })
    : t("runway_until", { date: day(data.short_on) });
  return el("p", { class: soon ? "runway short" : "runway ok", id: "runway", text });
}

const POPUP_CHARS = 256; // Telegram's popups hold at most this many characters

function fitted(text) {
  if (text.length <= POPUP_CHARS) return text;
  const lines = text.split("\n");
  while (lines.length > 1 && lines.join("\n").length > POPUP_CHARS - 2) lines.pop();
  return `${lines.join("\n")}\n…`.slice(0, POPUP_CHARS);
}

async function confirmed(text) {
  if (tg && tg.showConfirm) return new Promise((resolve) => tg.showConfirm(fitted(text), resolve));
  return window.confirm(text);
}

// What the return does to the renewals ahead, as the bot's confirmation says it.
function returnPreview(p) {
  const cur = currency();
  const reach = (date) => (date ? t("reach_until", { date: day(date) }) : t("reach_year"));
  const lines = [
    t("return_confirm", { price: money(p.price, cur) }),
    t("return_balance", { balance: money(p.balance, cur), after: money(p.after, cur) }),
    t(p.auto_renew ? "return_renews" : "return_ends", { date: day(p.period_ends) }),
    p.covered_after === p.covered_before
      ? t("return_reach_same", { reach: reach(p.covered_after) })
      : t("return_reach", { after: reach(p.covered_after), before: reach(p.covered_before) }),
  ];
  if (p.not_covered.length) {
    lines.push(t("return_not_covered"), ...p.not_covered.map((r) => t("return_not_covered_line",
      { date: day(r.on), name: r.name, price: money(r.price, cur) })));
  }
  return lines.join("\n");
}

async function returnService(row) {
  let question;
  try {
    question = returnPreview((await call("GET", `services/${row.id}/return`)).data);
  } catch (error) {
    fail(error);
    return;
  }
  if (!await confirmed(question)) return;
  try {
    await call("POST", `services/${row.id}/return`, { version: row.version });
    haptic("success");
    await loadServices();
  } catch (error) {
    fail(error);
  }
}

// ---- the sales report: a bar per member, tap for the figures ---------------------------------
async function loadReport() {
  const { data } = await call("GET", `report?period=${state.period || "7d"}`);
  state.report = data;
  if (state.view === "report") renderReport();
}

function renderReport() {
  const data = state.report;
  document.querySelector(".top").hidden = true;
  $("tabs").hidden = true;
  const periods = ["today", "7d", "month", "last_month"];
  const picker = el("div", { class: "segmented wrap", id: "periods", role: "tablist" },
    periods.map((period) => el("button", {
      type: "button", role: "tab", "data-period": period,
      "aria-selected": String(period === data.period), text: t(`period_${period}`),
      onclick: () => { state.period = period; refresh(); },
    })));
  const rows = data.rows.filter((row) => row.completed || row.open || row.revenue);
  const top = Math.max(1, ...rows.map((row) => row.revenue));
  const detail = el("dl", { class: "kv section", id: "report-detail" });
  const show = (row) => {
    state.reportPick = row.member_id;  // kept when a refresh draws the chart again
    for (const bar of document.querySelectorAll(".bar")) {
      bar.classList.toggle("picked", bar.dataset.member === String(row.member_id));
    }
    detail.replaceChildren(...[
      el("dt", { text: t("assignee") }), el("dd", { text: row.name || t("no_assignee") }),
      el("dt", { text: t("revenue") }), el("dd", { text: money(row.revenue, data.currency) }),
      el("dt", { text: t("orders_done") }), el("dd", { text: number(row.completed) }),
      el("dt", { text: t("average") }), el("dd", { text: money(row.average, data.currency) }),
      el("dt", { text: t("orders_open") }), el("dd", { text: number(row.open) }),
      row.share !== undefined ? [el("dt", { text: t("share") }),
        el("dd", { text: `${number(row.share / 10)} %` })] : null,
    ].flat().filter(Boolean));
  };
  const chart = el("ul", { class: "chart", id: "chart" }, rows.map((row) => el("li", {},
    el("button", { type: "button", class: "bar", "data-member": String(row.member_id),
      onclick: () => show(row) },
    el("span", { class: "who", text: row.name || t("no_assignee") }),
    el("span", { class: "track" }, el("span", { class: "fill",
      style: `width: ${Math.max(2, Math.round((100 * row.revenue) / top))}%` })),
    el("span", { class: "amount", text: money(row.revenue, data.currency) })))));
  const total = { ...data.totals, name: t("revenue"), member_id: "total" };
  $("main").replaceChildren(el("div", { class: "card", id: "report" }, picker,
    el("section", { class: "section" }, el("h3", {
      text: data.first === data.last ? day(data.first) : `${day(data.first)} — ${day(data.last)}`,
    }),
      el("span", { class: "balance", id: "report-total", text: money(data.totals.revenue, data.currency) })),
    rows.length ? chart : el("p", { class: "note", text: t("no_sales") }),
    rows.length ? detail : null));
  if (rows.length) show(rows.find((row) => row.member_id === state.reportPick) || total);
}

const number = (value) => new Intl.NumberFormat(state.me.locale, { maximumFractionDigits: 1 }).format(value);

async function toggleRenew(serviceId, input) {
  input.disabled = true;
  try {
    const { data } = await call("POST", `services/${serviceId}/auto-renew`, { on: input.checked });
    input.checked = data.auto_renew;
    haptic("success");
  } catch (error) {
    input.checked = !input.checked;
    fail(error);
  } finally {
    input.disabled = false;
  }
}

// ---- navigation, polling, start --------------------------------------------------------------
function renderNav() {
  const bottom = $("bottom");
  bottom.hidden = !(state.me.services || state.me.reports);
  $("to-board").textContent = t("board");
  $("to-services").textContent = t("services");
  $("to-services").hidden = !state.me.services;
  $("to-report").textContent = t("report");
  $("to-report").hidden = !state.me.reports;
  for (const button of bottom.querySelectorAll("button")) {
    button.setAttribute("aria-current", button.dataset.view === state.view ? "page" : "false");
  }
}

async function refresh() {
  try {
    if (state.view === "board") await loadBoard();
    else if (state.view === "services") await loadServices();
    else if (state.view === "report") await loadReport();
  } catch (error) {
    fail(error);
  }
}

async function poll() {
  if (document.hidden) return;
  try {
    if (state.view === "board") await loadBoard(true);
    else if (state.view === "card" && state.card) {
      const result = await call("GET", `orders/${state.card.order.id}`, undefined, state.cardTag);
      if (!result.notModified && state.view === "card") {
        state.cardTag = result.tag;
        const focused = document.activeElement && document.activeElement.tagName === "INPUT";
        if (!focused) showCard(result.data);
      }
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) stop(error.message);
  }
}

function fail(error) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403) &&
      !state.me) {
    stop(error.message);
    return;
  }
  haptic("error");
  toast(error instanceof ApiError ? error.message : t("offline"), true);
}

function stop(message) {
  clearInterval(state.timer);
  $("main").replaceChildren(el("p", { class: "note", id: "refused", text: message }));
}

function devSignIn(message) {
  const form = el("form", { class: "dev", id: "dev-login", onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem("shopdesk-dev-id", form.elements.id.value.trim());
    start();
  } },
  el("h1", { text: "Development sign-in" }),
  message ? el("p", { class: "note", text: message }) : null,
  el("input", { type: "text", name: "id", inputmode: "numeric", placeholder: "Telegram user id", required: true }),
  el("button", { type: "submit", class: "btn", text: "Sign in" }));
  $("main").replaceChildren(form);
}

async function start() {
  applyTheme();
  if (tg) {
    tg.ready();
    if (tg.expand) tg.expand();
    if (tg.onEvent) {
      tg.onEvent("themeChanged", applyTheme);
      tg.onEvent("backButtonClicked", () => { if (state.view === "card") closeCard(); });
    }
  }
  if (!authorization()) { devSignIn(""); return; }
  try {
    const { data } = await call("GET", "me");
    state.me = data;
    state.t = data.texts;
  } catch (error) {
    if (!(tg && tg.initData) && error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem("shopdesk-dev-id");
      devSignIn(error.message);
      return;
    }
    stop(error.message || "…");
    return;
  }
  document.documentElement.lang = state.me.locale;
  document.title = t("title");
  $("search").placeholder = t("search");
  let typing = null;
  $("search").addEventListener("input", (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.query = event.target.value.trim(); refresh(); }, 250);
  });
  $("manager").addEventListener("change", (event) => { state.manager = event.target.value; refresh(); });
  for (const button of $("bottom").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      if (state.view === "card") { backButton(false); main.hide(); }
      state.view = button.dataset.view;
      renderNav();
      refresh();
    });
  }
  renderNav();
  await refresh();
  state.timer = setInterval(poll, Math.max(1, state.me.poll_seconds) * 1000);
}

start();
