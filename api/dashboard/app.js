// Taskflow's dashboard: plain modules, no build step. Every change comes
// back through /api/stream/tasks, so this tab, other tabs, MCP, chat and
// the workers all update the list the same way.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "taskflow.token";
const PAGE = 50;

const state = {
  token: localStorage.getItem(TOKEN_KEY) || "",
  user: "",
  tasks: [],
  cursor: null,
  lists: [],
  // The list shown (null: all lists).
  listId: null,
  // Parents whose subtasks are folded away.
  folded: new Set(),
  // People's display names by user id, and each list's members, as read.
  people: new Map(),
  members: new Map(),
  // The list whose share dialog is open, and the task whose comments are.
  sharing: null,
  // The webhook endpoint whose deliveries are shown.
  webhook: null,
  commenting: null,
  conversation: null,
  lastEventId: null,
  source: null,
  retry: 0,
  refreshTimer: null,
  // Bumped by every connect and sign-out, so a slower, older connect
  // cannot leave a second stream open.
  generation: 0,
};

// ---- HTTP -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (state.token) init.headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && path !== "/api/users/me") {
    signOut("Your session has ended; sign in again.");
    throw new ApiError(401, { detail: "signed out" });
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data || {});
  return { data, response };
}

// ---- Sign-in --------------------------------------------------------------

async function start() {
  if (state.token) {
    try {
      const { data } = await api("GET", "/api/users/me");
      state.user = data;
      return showApp();
    } catch {
      localStorage.removeItem(TOKEN_KEY);
      state.token = "";
    }
  }
  showSignIn();
}

async function showSignIn(message = "") {
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  try {
    const response = await fetch("/api/local-sign-in");
    if (response.ok) {
      const { user } = await response.json();
      $("local-user").textContent = user;
      $("local-signin").hidden = false;
    }
  } catch {
    /* no local sign-in here */
  }
  $("token-input").focus();
}

async function signIn(token) {
  state.token = token.trim();
  try {
    const { data } = await api("GET", "/api/users/me");
    state.user = data;
    localStorage.setItem(TOKEN_KEY, state.token);
    showApp();
  } catch (error) {
    state.token = "";
    $("signin-error").textContent = error.status === 401 ? "That token was not accepted." : error.message;
  }
}

function signOut(message = "") {
  localStorage.removeItem(TOKEN_KEY);
  state.token = "";
  state.generation += 1;
  if (state.source) state.source.close();
  // Nothing of this user stays on the page for the next one.
  Object.assign(state, { source: null, user: "", tasks: [], cursor: null, conversation: null, lastEventId: null, lists: [], listId: null,
    people: new Map(), members: new Map(), sharing: null, commenting: null });
  $("tasks").replaceChildren();
  $("list-nav").replaceChildren();
  $("chat-log").replaceChildren();
  $("notification-list").replaceChildren();
  showSignIn(message);
}

function showApp() {
  $("signin").hidden = true;
  if (location.pathname === "/oauth/authorize") return showConsent();
  $("app").hidden = false;
  $("who").textContent = `(${state.user.display_name})`;
  refresh();
  loadLists();
  loadTags();
  loadUnread();
  connect();
  openLinkedTask();
}

// A calendar item's link (`/?task=ID`) opens that task.
async function openLinkedTask() {
  const id = Number(new URLSearchParams(location.search).get("task"));
  if (!Number.isInteger(id) || id <= 0) return;
  history.replaceState(null, "", location.pathname);
  try {
    const { data } = await api("GET", `/api/tasks/${id}`);
    openForm(data);
  } catch (error) {
    announce(error.message);
  }
}

// ---- OAuth consent and connected apps -------------------------------------

// The consent screen of an app's authorization request (this page's query):
// what the app asks for, then Allow or Deny, after which the browser goes
// back to the app.
async function showConsent() {
  $("consent").hidden = false;
  $("consent-user").textContent = state.user.display_name;
  const query = location.search;
  try {
    const { data } = await api("GET", `/api/oauth/authorize${query}`);
    $("consent-client").textContent = data.client_name;
    $("consent-client-again").textContent = data.client_name;
    $("consent-redirect").textContent = data.redirect_uri;
    // An app known by its metadata document: the name is its own claim,
    // the host is where Taskflow read it.
    $("consent-from").hidden = !data.client_host;
    $("consent-host").textContent = data.client_host ?? "";
    // Each scope asked for, ticked; the person may untick any but one.
    $("consent-scopes").replaceChildren(
      ...data.scopes.map((s) =>
        el("li", {}, el("label", { class: "check" }, el("input", { type: "checkbox", value: s.scope, checked: true }), " ", s.description, " ", el("code", {}, s.scope))),
      ),
    );
    $("consent-approve").focus();
  } catch (error) {
    if (error.problem?.redirect_to) return location.assign(error.problem.redirect_to);
    $("consent-actions").hidden = true;
    $("consent-error").textContent = `This request cannot be approved: ${error.message}`;
  }
}

async function decide(approve) {
  const params = Object.fromEntries(new URLSearchParams(location.search));
  const granted = [...$("consent-scopes").querySelectorAll("input:checked")].map((box) => box.value);
  if (approve && !granted.length) {
    $("consent-error").textContent = "Tick at least one permission, or choose Deny.";
    return;
  }
  try {
    const { data } = await api("POST", "/api/oauth/authorize", { ...params, approve, granted: granted.join(" ") });
    $("consent-actions").hidden = true;
    location.assign(data.redirect_to);
  } catch (error) {
    if (error.problem?.redirect_to) return location.assign(error.problem.redirect_to);
    $("consent-error").textContent = error.message;
  }
}

async function openApps() {
  $("apps-error").textContent = "";
  await renderApps();
  $("apps-dialog").showModal();
}

async function renderApps() {
  const { data } = await api("GET", "/api/connected-apps");
  $("app-list").replaceChildren(
    ...(data.length
      ? data.map((a) =>
          el(
            "li",
            { class: "webhook" },
            el("span", { class: "name" }, a.name),
            el("span", { class: "webhook-state" }, a.scopes.join(", ")),
            el("span", { class: "webhook-state" }, a.last_used_at ? `used ${new Date(a.last_used_at).toLocaleString()}` : "never used"),
            el("button", { type: "button", onclick: () => disconnectApp(a), "aria-label": `Disconnect ${a.name}` }, "Disconnect"),
          ),
        )
      : [el("li", {}, "No app is connected.")]),
  );
}

async function disconnectApp(a) {
  if (!confirm(`Disconnect ${a.name}? It can no longer act for you.`)) return;
  try {
    await api("DELETE", `/api/connected-apps/${a.id}`);
    announce(`Disconnected ${a.name}`);
  } catch (error) {
    $("apps-error").textContent = error.message;
  }
  await renderApps();
}

// ---- Lists ----------------------------------------------------------------

async function loadLists() {
  try {
    const archived = $("show-archived").checked ? "?archived=true" : "";
    const { data } = await api("GET", `/api/lists${archived}`);
    state.lists = data;
    // Members may have changed: read them again when next needed.
    state.members.clear();
    if (state.listId !== null && !data.some((l) => l.id === state.listId)) {
      // The list shown is gone (deleted, given away, or no longer shared).
      state.listId = null;
      refresh();
    }
    renderLists();
  } catch (error) {
    announce(error.message);
  }
}

// The lists as a tree: the Inbox first, each list after its parent.
function listTree() {
  const children = new Map();
  for (const list of state.lists) {
    const key = list.parent_id ?? 0;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(list);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const list of children.get(parent) || []) {
      out.push({ list, depth });
      walk(list.id, depth + 1);
    }
  };
  walk(0, 0);
  return out;
}

function renderLists() {
  const current = state.listId;
  const item = (label, id, count, depth = 0, list = null) => {
    const select = el(
      "button",
      { type: "button", class: "list", "aria-current": String(current === id), onclick: () => chooseList(id), style: `padding-left: ${0.7 + depth}rem` },
      el("span", {}, label),
      count === null ? null : el("span", { class: "count", "aria-label": `${count} open` }, String(count)),
    );
    const extra = [];
    // Archiving, restoring and sharing are the owner's and admins'.
    const manages = list?.role === "owner" || list?.role === "admin";
    if (list && !list.inbox && !list.archived_at && manages) {
      extra.push(el("button", { type: "button", class: "small", onclick: () => archiveList(list, "archive"), "aria-label": `Archive ${list.title}` }, "Archive"));
    }
    if (list?.archived_at && manages) {
      extra.push(el("button", { type: "button", class: "small", onclick: () => archiveList(list, "unarchive"), "aria-label": `Restore ${list.title}` }, "Restore"));
    }
    if (list && !list.inbox && manages) {
      extra.push(el("button", { type: "button", class: "small", onclick: () => openShare(list), "aria-label": `Share ${list.title}` }, "Share"));
    } else if (list && list.role && list.role !== "owner") {
      extra.push(el("span", { class: "count", title: `Shared with you as ${list.role}` }, "shared"));
    }
    return el("li", { class: list?.archived_at ? "archived" : "" }, select, ...extra);
  };
  $("list-nav").replaceChildren(
    item("All tasks", null, null),
    ...listTree().map(({ list, depth }) => item(list.title, list.id, list.open_count, depth, list)),
  );
  const chosen = state.lists.find((l) => l.id === state.listId);
  $("list-title").textContent = chosen ? `${chosen.title}${chosen.archived_at ? " (archived)" : ""}` : "All tasks";
  $("t-list").replaceChildren(...listTree().map(({ list, depth }) => el("option", { value: String(list.id) }, `${"— ".repeat(depth)}${list.title}`)));
}

function chooseList(id) {
  state.listId = id;
  // A list reads best in its own order.
  if (id !== null) $("f-sort").value = "position";
  renderLists();
  refresh();
}

async function newList() {
  const title = prompt("Name of the new list");
  if (!title || !title.trim()) return;
  try {
    const { data } = await api("POST", "/api/lists", { title: title.trim() });
    announce(`Created the list ${data.title}`);
    state.listId = data.id;
    $("f-sort").value = "position";
    await loadLists();
    refresh();
  } catch (error) {
    announce(error.message);
  }
}

async function archiveList(list, action) {
  try {
    await api("POST", `/api/lists/${list.id}/${action}`);
    announce(action === "archive" ? `Archived ${list.title}` : `Restored ${list.title}`);
  } catch (error) {
    announce(error.message);
  }
  loadLists();
  refresh();
}

// ---- Tasks ----------------------------------------------------------------

function query(cursor) {
  const params = new URLSearchParams();
  const q = $("f-q").value.trim();
  if (q) params.set("q", q);
  params.set("status", $("f-status").value);
  if ($("f-priority").value) params.set("priority", $("f-priority").value);
  if ($("f-tag").value) params.set("tag", $("f-tag").value);
  if ($("f-overdue").checked) params.set("overdue", "true");
  if ($("f-assignee").value) params.set("assignee", $("f-assignee").value);
  if (state.listId !== null) params.set("list_id", String(state.listId));
  params.set("sort", $("f-sort").value);
  params.set("limit", String(PAGE));
  if (cursor) params.set("cursor", cursor);
  return `/api/tasks?${params}`;
}

async function refresh() {
  try {
    const { data } = await api("GET", query());
    state.tasks = data.tasks;
    state.cursor = data.next_cursor;
    render();
  } catch (error) {
    announce(error.message);
  }
}

async function more() {
  if (!state.cursor) return;
  const { data } = await api("GET", query(state.cursor));
  state.tasks = state.tasks.concat(data.tasks);
  state.cursor = data.next_cursor;
  render();
}

// Many events arrive together (a completion and the next occurrence):
// refetch once for all of them.
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    refresh();
    loadLists();
    loadTags();
  }, 50);
}

function describeDue(task) {
  if (!task.due) return null;
  const [date, time] = task.due.split("T");
  const day = new Date(`${date}T00:00:00`);
  const text = day.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  return time ? `${text} ${time.slice(0, 5)}${task.timezone && task.timezone !== browserZone() ? ` (${task.timezone})` : ""}` : text;
}

function isOverdue(task) {
  if (task.completed || !task.due) return false;
  const [date, time] = task.due.split("T");
  if (!time) {
    const now = new Date();
    const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
    return date < today;
  }
  return new Date(`${date}T${time}`) < new Date(); // approximate: browser zone
}

// Subtasks under their parent (when it is on the page), in the page's order.
function render() {
  const shown = new Set(state.tasks.map((t) => t.id));
  const children = new Map();
  for (const task of state.tasks) {
    if (task.parent && shown.has(task.parent.id)) {
      if (!children.has(task.parent.id)) children.set(task.parent.id, []);
      children.get(task.parent.id).push(task);
    }
  }
  const tree = (task, siblings) => renderTask(task, siblings, children.get(task.id) || [], tree);
  const top = state.tasks.filter((t) => !(t.parent && shown.has(t.parent.id)));
  $("tasks").replaceChildren(...top.map((task) => tree(task, top)));
  $("empty").hidden = state.tasks.length > 0;
  $("more").hidden = !state.cursor;
  showBlockers();
}

// What blocks each blocked task, read from its links.
async function showBlockers() {
  for (const badge of document.querySelectorAll("#tasks .blocked[data-id]")) {
    try {
      const { data } = await api("GET", `/api/tasks/${badge.dataset.id}?include=links`);
      const open = data.links.blocked_by.filter((t) => !t.completed).map((t) => t.title);
      if (open.length) badge.textContent = `Blocked by ${open.join(", ")}`;
    } catch {
      /* the plain badge stays */
    }
  }
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function renderTask(task, siblings = [], children = [], tree = null) {
  const done = el("input", {
    type: "checkbox",
    "aria-label": task.completed ? `Reopen ${task.title}` : `Complete ${task.title}`,
    onchange: () => act(task, task.completed ? "reopen" : "complete"),
  });
  done.checked = task.completed;
  const meta = el("div", { class: "meta" });
  const due = describeDue(task);
  if (due) meta.append(el("span", { class: isOverdue(task) ? "overdue" : "" }, `Due ${due}`));
  if (task.recurrence_text) meta.append(el("span", { title: task.recurrence }, `↻ ${task.recurrence_text}`));
  if (task.priority !== "none") meta.append(el("span", { class: `prio-${task.priority}` }, `${task.priority} priority`));
  for (const tag of task.tags) meta.append(el("span", { class: "tag" }, `#${tag}`));
  if (task.blocked && !task.completed) meta.append(el("span", { class: "blocked", "data-id": task.id }, "Blocked"));
  if (task.assignees?.length) meta.append(assigneesOf(task));
  if (state.listId === null) {
    const list = state.lists.find((l) => l.id === task.list_id);
    if (list && !list.inbox) meta.append(el("span", { class: "tag" }, list.title));
  }
  if (task.snoozed_until && new Date(task.snoozed_until) > new Date()) {
    meta.append(el("span", {}, `Snoozed until ${new Date(task.snoozed_until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`));
  }
  let toggle = null;
  if (task.child_count > 0) {
    const folded = state.folded.has(task.id);
    const finished = task.child_count - task.open_child_count;
    toggle = el(
      "button",
      {
        type: "button",
        class: "small progress",
        "aria-expanded": String(!folded),
        "aria-label": `${folded ? "Show" : "Hide"} subtasks of ${task.title}, ${finished} of ${task.child_count} done`,
        onclick: () => {
          if (state.folded.has(task.id)) state.folded.delete(task.id);
          else state.folded.add(task.id);
          render();
        },
      },
      `${folded ? "▸" : "▾"} ${finished}/${task.child_count}`,
    );
    meta.prepend(toggle);
  }
  // Up and down in the manual order, among the tasks beside it.
  const at = siblings.indexOf(task);
  const manual = $("f-sort").value === "position";
  const move = (body, label) => () => moveTask(task, body, label);
  const targets = state.lists.filter((l) => l.id !== task.list_id && !l.archived_at);
  const mover = targets.length && !task.parent
    ? el(
        "select",
        {
          "aria-label": `Move ${task.title} to another list`,
          onchange: (e) => e.target.value && moveTask(task, { list_id: Number(e.target.value) }, `to ${e.target.selectedOptions[0].textContent}`),
        },
        el("option", { value: "" }, "Move to…"),
        ...targets.map((l) => el("option", { value: String(l.id) }, l.title)),
      )
    : null;
  const buttons = el(
    "div",
    { class: "buttons" },
    manual && at > 0 ? el("button", { type: "button", onclick: move({ before_id: siblings[at - 1].id }, "up"), "aria-label": `Move ${task.title} up` }, "↑") : null,
    manual && at >= 0 && at < siblings.length - 1 ? el("button", { type: "button", onclick: move({ after_id: siblings[at + 1].id }, "down"), "aria-label": `Move ${task.title} down` }, "↓") : null,
    mover,
    el("button", { type: "button", onclick: () => openForm(task), "aria-label": `Edit ${task.title}` }, "Edit"),
    task.completed ? null : el("button", { type: "button", onclick: () => snooze(task), "aria-label": `Snooze ${task.title} for an hour` }, "Snooze 1h"),
    el("button", { type: "button", onclick: () => showHistory(task), "aria-label": `History of ${task.title}` }, "History"),
    el("button", { type: "button", onclick: () => openComments(task), "aria-label": `Comments on ${task.title}` }, "Comments"),
    el("button", { type: "button", onclick: () => remove(task), "aria-label": `Delete ${task.title}` }, "Delete"),
  );
  const body = el("div", {}, el("div", { class: "title" }, task.title), task.description ? el("div", { class: "meta" }, task.description) : null, meta);
  const sub = children.length && !state.folded.has(task.id) && tree
    ? el("ul", { class: "subtasks", "aria-label": `Subtasks of ${task.title}` }, ...children.map((child) => tree(child, children)))
    : null;
  return el("li", { class: `task${task.completed ? " done" : ""}`, "data-id": task.id }, done, body, buttons, sub);
}

async function moveTask(task, body, label) {
  try {
    await api("POST", `/api/tasks/${task.id}/move`, body, { "if-match": `"${task.version}"` });
    announce(`Moved ${task.title} ${label}`);
  } catch (error) {
    announce(error.message);
  }
  refreshSoon();
}

async function act(task, action) {
  try {
    await api("POST", `/api/tasks/${task.id}/${action}`, undefined, { "if-match": `"${task.version}"` });
    announce(action === "complete" ? `Completed ${task.title}` : `Reopened ${task.title}`);
  } catch (error) {
    announce(error.message);
  }
  refreshSoon();
}

async function snooze(task) {
  try {
    await api("POST", `/api/tasks/${task.id}/snooze`, { minutes: 60 });
    announce(`Snoozed ${task.title} for an hour`);
  } catch (error) {
    announce(error.message);
  }
  refreshSoon();
}

async function remove(task) {
  if (!confirm(`Delete “${task.title}”?`)) return;
  try {
    await api("DELETE", `/api/tasks/${task.id}`, undefined, { "if-match": `"${task.version}"` });
    announce(`Deleted ${task.title}`);
  } catch (error) {
    announce(error.message);
  }
  refreshSoon();
}

async function loadTags() {
  try {
    const { data } = await api("GET", "/api/tags");
    const select = $("f-tag");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "Any"), ...data.map((t) => el("option", { value: t.tag }, `${t.tag} (${t.count})`)));
    select.value = data.some((t) => t.tag === chosen) ? chosen : "";
  } catch {
    /* the list still works without tags */
  }
}

// ---- People ---------------------------------------------------------------

// The members of a list (the owner first), read once per list until the
// lists change (one request, however many ask meanwhile); each one's name
// is remembered.
function membersOf(listId) {
  if (!state.members.has(listId)) {
    const reading = api("GET", `/api/lists/${listId}/members`).then(({ data }) => {
      for (const member of data) state.people.set(member.user.id, member.user.display_name);
      return data;
    });
    reading.catch(() => state.members.delete(listId));
    state.members.set(listId, reading);
  }
  return state.members.get(listId);
}

function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return (words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || "?").slice(0, 2)).toUpperCase();
}

// A task's assignees as initials; names not known yet are read from its
// list's members, then the tasks are drawn again.
function assigneesOf(task) {
  const unknown = task.assignees.filter((id) => !state.people.has(id));
  if (unknown.length && !state.members.has(task.list_id)) {
    membersOf(task.list_id).then(render, () => {});
  }
  const names = task.assignees.map((id) => (id === state.user.id ? `${state.people.get(id) || id} (you)` : state.people.get(id) || id));
  return el(
    "span",
    { class: "people", "aria-label": `Assigned to ${names.join(", ")}` },
    ...task.assignees.map((id, i) => el("span", { class: "initials", title: names[i] }, initials(state.people.get(id) || id))),
  );
}

// The task form's "Assign to": the members of the task's list, shown when
// there is someone besides the user. A later call (another form, another
// list) wins over one still reading.
let filling = 0;
async function fillAssignees(listId, chosen) {
  const label = $("t-assignees-label");
  const call = ++filling;
  label.hidden = true;
  if (!listId) return;
  try {
    const members = await membersOf(listId);
    if (call !== filling) return;
    $("t-assignees").replaceChildren(
      ...members.map((m) => {
        const option = el("option", { value: m.user.id }, m.user.id === state.user.id ? `${m.user.display_name} (you)` : m.user.display_name);
        option.selected = chosen.includes(m.user.id);
        return option;
      }),
    );
    label.hidden = members.length < 2;
  } catch {
    /* no members to show */
  }
}

// ---- Sharing --------------------------------------------------------------

async function openShare(list) {
  state.sharing = list;
  $("share-title").textContent = `Share “${list.title}”`;
  $("share-error").textContent = "";
  $("share-username").value = "";
  await renderShare();
  $("share-dialog").showModal();
  $("share-username").focus();
}

async function renderShare() {
  const list = state.sharing;
  if (!list) return;
  state.members.delete(list.id);
  const [members, invitations] = await Promise.all([
    membersOf(list.id),
    api("GET", `/api/lists/${list.id}/invitations`).then((r) => r.data, () => []),
  ]);
  $("member-list").replaceChildren(
    ...members.map((m) => {
      const name = el("span", { class: "name" }, el("span", { class: "initials" }, initials(m.user.display_name)), ` ${m.user.display_name} (${m.user.username})`);
      if (m.role === "owner") return el("li", {}, name, el("span", {}, "owner"));
      if (m.granted_on !== list.id) return el("li", {}, name, el("span", {}, `${m.role}, from a list above`));
      const role = el(
        "select",
        { "aria-label": `Role of ${m.user.display_name}`, onchange: (e) => changeRole(m, e.target.value) },
        ...["viewer", "editor", "admin"].map((r) => el("option", { value: r }, r)),
      );
      role.value = m.role;
      return el("li", {}, name, role, el("button", { type: "button", onclick: () => removeMember(m), "aria-label": `Remove ${m.user.display_name}` }, "Remove"));
    }),
  );
  $("pending-list").replaceChildren(
    ...invitations.map((i) => el("li", {}, el("span", { class: "name" }, `${i.invitee.display_name} is invited as ${i.role}`))),
  );
}

async function invite(event) {
  event.preventDefault();
  const list = state.sharing;
  const username = $("share-username").value.trim();
  try {
    await api("POST", `/api/lists/${list.id}/invitations`, { username, role: $("share-role").value });
    $("share-username").value = "";
    $("share-error").textContent = "";
    announce(`Invited ${username} to ${list.title}`);
    await renderShare();
  } catch (error) {
    $("share-error").textContent = error.message;
  }
}

async function changeRole(member, role) {
  try {
    await api("PATCH", `/api/lists/${state.sharing.id}/members/${encodeURIComponent(member.user.id)}`, { role });
    announce(`${member.user.display_name} is now ${role}`);
  } catch (error) {
    $("share-error").textContent = error.message;
  }
  await renderShare();
}

async function removeMember(member) {
  if (!confirm(`Remove ${member.user.display_name} from “${state.sharing.title}”? They lose access at once.`)) return;
  try {
    await api("DELETE", `/api/lists/${state.sharing.id}/members/${encodeURIComponent(member.user.id)}`);
    announce(`Removed ${member.user.display_name}`);
  } catch (error) {
    $("share-error").textContent = error.message;
  }
  await renderShare();
}

// ---- Calendar feeds -------------------------------------------------------

async function openCalendar() {
  $("feed-error").textContent = "";
  $("feed-url").hidden = true;
  $("feed-lists").replaceChildren(
    ...state.lists
      .filter((l) => !l.archived_at)
      .map((l) => el("option", { value: String(l.id) }, l.title)),
  );
  $("app-password-once").hidden = true;
  $("app-password-error").textContent = "";
  $("dav-url").textContent = `${location.origin}/dav/`;
  const [me] = await Promise.all([api("GET", "/api/users/me"), renderFeeds(), renderAppPasswords()]);
  $("dav-username").textContent = me.data.username;
  $("calendar-dialog").showModal();
  $("feed-name").focus();
}

async function renderFeeds() {
  const { data } = await api("GET", "/api/calendar-feeds");
  const titles = new Map(state.lists.map((l) => [l.id, l.title]));
  $("feed-list").replaceChildren(
    ...data.map((f) =>
      el(
        "li",
        { class: "feed" },
        el("span", { class: "name" }, f.name),
        el("span", {}, f.as === "events" ? "Events" : "To-dos"),
        el("span", {}, f.lists === "all" ? "all lists" : f.lists.map((id) => titles.get(id) ?? `list ${id}`).join(", ")),
        el("span", { class: "hint" }, `…${f.url_hint}`, f.last_fetched_at ? `, fetched ${new Date(f.last_fetched_at).toLocaleString()}` : ", never fetched"),
        el("button", { type: "button", onclick: () => deleteFeed(f), "aria-label": `Delete the feed ${f.name}` }, "Delete"),
      ),
    ),
  );
}

async function addFeed(event) {
  event.preventDefault();
  const all = $("feed-all").checked;
  const lists = all ? "all" : [...$("feed-lists").selectedOptions].map((o) => Number(o.value));
  const name = $("feed-name").value.trim();
  try {
    const { data } = await api("POST", "/api/calendar-feeds", {
      ...(name ? { name } : {}),
      lists,
      as: document.querySelector('input[name="feed-as"]:checked').value,
      include_completed: $("feed-completed").checked,
    });
    $("feed-name").value = "";
    $("feed-error").textContent = "";
    $("feed-url-value").textContent = data.url;
    $("feed-webcal").href = data.webcal_url;
    $("feed-url").hidden = false;
    announce(`Made the calendar feed ${data.name}`);
    await renderFeeds();
  } catch (error) {
    $("feed-error").textContent = error.message;
  }
}

async function deleteFeed(f) {
  if (!confirm(`Delete the feed ${f.name}? Calendar apps subscribed to it stop getting your tasks at once.`)) return;
  try {
    await api("DELETE", `/api/calendar-feeds/${f.id}`);
    $("feed-url").hidden = true;
  } catch (error) {
    $("feed-error").textContent = error.message;
  }
  await renderFeeds();
}

async function renderAppPasswords() {
  const { data } = await api("GET", "/api/app-passwords");
  const when = (at) => new Date(at).toLocaleString();
  $("app-password-list").replaceChildren(
    ...data.map((p) =>
      el(
        "li",
        { class: "app-password" },
        el("span", { class: "name" }, p.name),
        el("span", { class: "hint" }, `…${p.hint}, made ${when(p.created_at)}`, p.last_used_at ? `, last used ${when(p.last_used_at)}` : ", never used", p.expires_at ? `, expires ${when(p.expires_at)}` : ""),
        el("button", { type: "button", onclick: () => revokeAppPassword(p), "aria-label": `Revoke the app password ${p.name}` }, "Revoke"),
      ),
    ),
  );
}

async function addAppPassword(event) {
  event.preventDefault();
  const days = Number($("app-password-expiry").value);
  try {
    const { data } = await api("POST", "/api/app-passwords", {
      name: $("app-password-name").value.trim(),
      scopes: ["caldav"],
      ...(days ? { expires_at: new Date(Date.now() + days * 86_400_000).toISOString() } : {}),
    });
    $("app-password-name").value = "";
    $("app-password-error").textContent = "";
    $("app-password-value").textContent = data.password;
    $("dav-url").textContent = data.dav_url;
    $("dav-username").textContent = data.username;
    $("app-password-once").hidden = false;
    announce(`Made the app password ${data.name}`);
    await renderAppPasswords();
  } catch (error) {
    $("app-password-error").textContent = error.message;
  }
}

async function revokeAppPassword(p) {
  if (!confirm(`Revoke the app password ${p.name}? The app using it is signed out at once.`)) return;
  try {
    await api("DELETE", `/api/app-passwords/${p.id}`);
    $("app-password-once").hidden = true;
  } catch (error) {
    $("app-password-error").textContent = error.message;
  }
  await renderAppPasswords();
}

// ---- Webhooks -------------------------------------------------------------

async function openWebhooks() {
  $("webhook-error").textContent = "";
  $("webhook-secret").hidden = true;
  $("webhook-deliveries").hidden = true;
  state.webhook = null;
  if (!$("webhook-events").options.length) {
    const { data } = await api("GET", "/api/webhooks/event-types");
    $("webhook-events").replaceChildren(
      ...data.event_types.map((t) => el("option", { value: t }, t.replace(/^taskflow\./, "").replace(/\.v1$/, ""))),
    );
  }
  await renderWebhooks();
  $("webhooks-dialog").showModal();
  $("webhook-url").focus();
}

function webhookState(w) {
  if (!w.enabled) return w.disabled_reason ? `disabled: ${w.disabled_reason}` : "disabled";
  return w.failing_since ? "failing" : "enabled";
}

async function renderWebhooks() {
  const { data } = await api("GET", "/api/webhooks");
  $("webhook-list").replaceChildren(
    ...data.map((w) =>
      el(
        "li",
        { class: "webhook" },
        el("span", { class: "name" }, w.url, w.event_types ? ` (${w.event_types.length} event types)` : " (every change)"),
        el("span", { class: "webhook-state" }, webhookState(w)),
        el("button", { type: "button", onclick: () => testWebhook(w), "aria-label": `Send a test to ${w.url}` }, "Send test"),
        el("button", { type: "button", onclick: () => showDeliveries(w), "aria-label": `Deliveries to ${w.url}` }, "Deliveries"),
        el("button", { type: "button", onclick: () => setWebhookEnabled(w, !w.enabled) }, w.enabled ? "Disable" : "Enable"),
        el("button", { type: "button", onclick: () => deleteWebhook(w), "aria-label": `Delete ${w.url}` }, "Delete"),
      ),
    ),
  );
}

async function addWebhook(event) {
  event.preventDefault();
  const types = [...$("webhook-events").selectedOptions].map((o) => o.value);
  try {
    const { data } = await api("POST", "/api/webhooks", {
      url: $("webhook-url").value.trim(),
      event_types: types.length ? types : null,
    });
    $("webhook-url").value = "";
    $("webhook-error").textContent = "";
    $("webhook-secret-value").textContent = data.secret;
    $("webhook-secret").hidden = false;
    announce(`Added a webhook to ${data.url}`);
    await renderWebhooks();
  } catch (error) {
    $("webhook-error").textContent = error.message;
  }
}

async function testWebhook(w) {
  try {
    await api("POST", `/api/webhooks/${w.id}/test`);
    announce(`Test sent to ${w.url}`);
    await showDeliveries(w, true);
  } catch (error) {
    $("webhook-error").textContent = error.message;
  }
}

async function setWebhookEnabled(w, enabled) {
  try {
    await api("PATCH", `/api/webhooks/${w.id}`, { enabled });
  } catch (error) {
    $("webhook-error").textContent = error.message;
  }
  await renderWebhooks();
}

async function deleteWebhook(w) {
  if (!confirm(`Delete the webhook to ${w.url}? Its deliveries are deleted too.`)) return;
  try {
    await api("DELETE", `/api/webhooks/${w.id}`);
    if (state.webhook?.id === w.id) {
      state.webhook = null;
      $("webhook-deliveries").hidden = true;
    }
  } catch (error) {
    $("webhook-error").textContent = error.message;
  }
  await renderWebhooks();
}

// The endpoint's recent deliveries; `follow` reads them again (briefly)
// while some are still on their way.
async function showDeliveries(w, follow = false) {
  state.webhook = w;
  $("deliveries-title").textContent = `Recent deliveries to ${w.url}`;
  $("webhook-deliveries").hidden = false;
  for (let round = 0; round < (follow ? 10 : 1); round++) {
    if (state.webhook?.id !== w.id) return;
    const { data } = await api("GET", `/api/webhooks/${w.id}/deliveries?limit=20`);
    $("delivery-rows").replaceChildren(...data.deliveries.map((d) => deliveryRow(w, d)));
    if (!data.deliveries.some((d) => d.status === "pending")) return;
    await new Promise((done) => setTimeout(done, 300));
  }
}

function deliveryRow(w, d) {
  return el(
    "tr",
    { class: "delivery" },
    el("td", {}, d.event_type.replace(/^taskflow\./, "").replace(/\.v1$/, "")),
    el("td", { class: `state-${d.status}` }, d.attempts > 1 ? `${d.status} (${d.attempts} attempts)` : d.status),
    el("td", {}, d.last_status ? String(d.last_status) : "—"),
    el("td", {}, d.last_duration_ms === null ? "—" : `${d.last_duration_ms} ms`),
    el("td", { class: "error-text" }, d.last_error || ""),
    el(
      "td",
      {},
      d.status === "pending"
        ? null
        : el("button", { type: "button", class: "small", onclick: () => redeliver(w, d) }, "Redeliver"),
    ),
  );
}

async function redeliver(w, d) {
  try {
    await api("POST", `/api/webhooks/${w.id}/deliveries/${d.id}/redeliver`);
    announce("Delivery sent again");
  } catch (error) {
    $("webhook-error").textContent = error.message;
  }
  await showDeliveries(w, true);
}

// The invitations waiting for the user, in the notifications panel.
async function loadInvitations() {
  try {
    const { data } = await api("GET", "/api/invitations");
    $("invitation-list").replaceChildren(
      ...data.map((i) =>
        el(
          "li",
          {},
          el("span", { class: "text" }, `${i.invited_by.display_name} invited you to ${i.list_title} as ${i.role}`),
          el("button", { type: "button", class: "primary", onclick: () => answer(i, "accept"), "aria-label": `Accept invitation to ${i.list_title}` }, "Accept"),
          el("button", { type: "button", onclick: () => answer(i, "decline"), "aria-label": `Decline invitation to ${i.list_title}` }, "Decline"),
        ),
      ),
    );
  } catch {
    /* shown again on the next notice */
  }
}

async function answer(invitation, how) {
  try {
    await api("POST", `/api/invitations/${invitation.id}/${how}`);
    announce(how === "accept" ? `Joined ${invitation.list_title}` : `Declined ${invitation.list_title}`);
  } catch (error) {
    announce(error.message);
  }
  loadInvitations();
  loadLists();
  refresh();
}

// ---- Comments -------------------------------------------------------------

async function openComments(task) {
  state.commenting = task;
  $("comments-title").textContent = `Comments on “${task.title}”`;
  $("comment-error").textContent = "";
  $("comment-body").value = "";
  await loadComments();
  $("comments-dialog").showModal();
  $("comment-body").focus();
}

async function loadComments() {
  const task = state.commenting;
  if (!task) return;
  try {
    const { data } = await api("GET", `/api/tasks/${task.id}/comments?limit=100`);
    $("comment-list").replaceChildren(
      ...data.comments.slice().reverse().map((c) =>
        el("li", {}, el("span", { class: "by" }, c.author.display_name), el("time", { datetime: c.created_at }, new Date(c.created_at).toLocaleString()), el("div", {}, c.body)),
      ),
    );
    if (!data.comments.length) $("comment-list").append(el("li", {}, "No comments yet."));
  } catch (error) {
    $("comment-error").textContent = error.message;
  }
}

async function addComment(event) {
  event.preventDefault();
  const body = $("comment-body").value.trim();
  if (!body) return;
  try {
    await api("POST", `/api/tasks/${state.commenting.id}/comments`, { body });
    $("comment-body").value = "";
    await loadComments();
  } catch (error) {
    $("comment-error").textContent = error.message;
  }
}

// ---- History --------------------------------------------------------------

async function showHistory(task) {
  const { data } = await api("GET", `/api/tasks/${task.id}/history?limit=50`);
  $("history-title").textContent = `History of “${task.title}”`;
  $("history-list").replaceChildren(
    ...data.entries.map((entry) => {
      const fields = entry.event_type === "updated" ? Object.keys(entry.changes || {}).join(", ") : "";
      const when = new Date(entry.occurred_at).toLocaleString();
      // An agent's change reads "Claude for Alice".
      const who = entry.actor.on_behalf_of ? `${entry.actor.name} for ${entry.actor.on_behalf_of.name}` : entry.actor.name;
      return el("li", {}, `${when}: ${who} ${entry.event_type} via ${entry.source}${fields ? ` (${fields})` : ""}`);
    }),
  );
  $("history-dialog").showModal();
}

// ---- Create and edit ------------------------------------------------------

let editing = null;

function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function fillZones() {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [browserZone()];
  if (!zones.includes("UTC")) zones.unshift("UTC");
  $("t-zone").replaceChildren(...zones.map((z) => el("option", { value: z }, z)));
}

const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

function syncRepeat() {
  const repeat = $("t-repeat").value;
  $("t-days").hidden = repeat !== "WEEKLY";
  $("t-end-row").hidden = repeat === "";
  $("t-interval").disabled = repeat === "" || repeat === "WEEKDAYS";
  $("t-unit").textContent = { DAILY: "days", WEEKLY: "weeks", MONTHLY: "months", YEARLY: "years" }[repeat] || "";
  $("t-count-label").hidden = $("t-end").value !== "count";
  $("t-until-label").hidden = $("t-end").value !== "until";
}

function ruleFromForm() {
  const repeat = $("t-repeat").value;
  if (!repeat) return null;
  let rule;
  if (repeat === "WEEKDAYS") rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR";
  else {
    rule = `FREQ=${repeat}`;
    const interval = Number($("t-interval").value || 1);
    if (interval > 1) rule += `;INTERVAL=${interval}`;
    if (repeat === "WEEKLY") {
      const days = [...$("t-days").querySelectorAll("input:checked")].map((c) => c.value);
      if (days.length) rule += `;BYDAY=${days.join(",")}`;
    }
  }
  if ($("t-end").value === "count") rule += `;COUNT=${Number($("t-count").value || 1)}`;
  if ($("t-end").value === "until" && $("t-until").value) rule += `;UNTIL=${$("t-until").value.replaceAll("-", "")}`;
  return rule;
}

function ruleToForm(rule) {
  const parts = rule ? Object.fromEntries(rule.split(";").map((p) => p.split("="))) : {};
  const weekdays = parts.FREQ === "WEEKLY" && parts.BYDAY === "MO,TU,WE,TH,FR" && !parts.INTERVAL;
  $("t-repeat").value = !rule ? "" : weekdays ? "WEEKDAYS" : parts.FREQ;
  $("t-interval").value = parts.INTERVAL || 1;
  const days = (parts.BYDAY || "").split(",");
  for (const box of $("t-days").querySelectorAll("input")) box.checked = !weekdays && days.includes(box.value);
  $("t-end").value = parts.COUNT ? "count" : parts.UNTIL ? "until" : "";
  $("t-count").value = parts.COUNT || 10;
  $("t-until").value = parts.UNTIL ? `${parts.UNTIL.slice(0, 4)}-${parts.UNTIL.slice(4, 6)}-${parts.UNTIL.slice(6, 8)}` : "";
  syncRepeat();
}

function openForm(task = null) {
  editing = task;
  $("task-dialog-title").textContent = task ? "Edit task" : "New task";
  $("task-error").textContent = "";
  $("t-title").value = task?.title || "";
  $("t-description").value = task?.description || "";
  const [date, time] = (task?.due || "").split("T");
  $("t-date").value = date || "";
  $("t-time").value = time ? time.slice(0, 5) : "";
  $("t-zone").value = task?.timezone || browserZone();
  ruleToForm(task?.recurrence || null);
  // A reminder at a set time (from the API, MCP or chat) is kept as it is
  // unless another choice is made.
  $("t-reminder").querySelector('option[value="at"]')?.remove();
  if (task?.reminder?.at) {
    const at = new Date(task.reminder.at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    $("t-reminder").append(el("option", { value: "at" }, `At ${at}`));
  }
  const minutes = task?.reminder?.minutes_before;
  $("t-reminder").value = task?.reminder?.at ? "at" : minutes === undefined ? "" : String(minutes);
  if (minutes !== undefined && $("t-reminder").value !== String(minutes)) {
    $("t-reminder").append(el("option", { value: String(minutes) }, `${minutes} minutes before`));
    $("t-reminder").value = String(minutes);
  }
  $("t-priority").value = task?.priority || "none";
  $("t-tags").value = (task?.tags || []).join(", ");
  const inbox = state.lists.find((l) => l.inbox);
  const chosen = state.lists.find((l) => l.id === state.listId && !l.archived_at);
  $("t-list").value = String(task?.list_id ?? chosen?.id ?? inbox?.id ?? "");
  // A subtask stays in its parent's list.
  $("t-list").disabled = Boolean(task?.parent);
  fillAssignees(Number($("t-list").value) || null, task?.assignees || []);
  $("task-dialog").showModal();
  $("t-title").focus();
}

function formFields() {
  const date = $("t-date").value;
  const time = $("t-time").value;
  const due = date ? (time ? `${date}T${time}` : date) : null;
  const choice = $("t-reminder").value;
  const reminder = choice === "" ? null : choice === "at" ? editing?.reminder ?? null : { minutes_before: Number(choice) };
  return {
    title: $("t-title").value.trim(),
    description: $("t-description").value.trim() || null,
    priority: $("t-priority").value,
    tags: $("t-tags").value.split(",").map((t) => t.trim().replace(/^#/, "")).filter(Boolean),
    due,
    timezone: $("t-zone").value,
    recurrence: ruleFromForm(),
    reminder,
    list_id: $("t-list").disabled || !$("t-list").value ? null : Number($("t-list").value),
    // Left out when the list has nobody to assign besides the user.
    assignees: $("t-assignees-label").hidden ? undefined : [...$("t-assignees").selectedOptions].map((o) => o.value),
  };
}

async function saveForm(event) {
  event.preventDefault();
  const fields = formFields();
  try {
    if (editing) {
      if (fields.list_id === null || fields.list_id === editing.list_id) delete fields.list_id;
      await api("PATCH", `/api/tasks/${editing.id}`, fields, { "if-match": `"${editing.version}"` });
    } else {
      const body = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined));
      await api("POST", "/api/tasks", body, { "idempotency-key": crypto.randomUUID() });
    }
    $("task-dialog").close();
    announce(`Saved ${fields.title}`);
    refreshSoon();
  } catch (error) {
    const field = error.problem?.field ? ` (${error.problem.field})` : "";
    $("task-error").textContent = `${error.message}${field}`;
  }
}

// ---- Notifications --------------------------------------------------------

async function loadUnread() {
  try {
    const { data } = await api("GET", "/api/notifications/unread-count");
    $("unread").textContent = String(data.unread);
    $("unread").classList.toggle("zero", data.unread === 0);
  } catch {
    /* shown again on the next event */
  }
}

async function loadNotifications() {
  loadInvitations();
  const { data } = await api("GET", "/api/notifications?limit=30");
  $("notification-list").replaceChildren(
    ...data.notifications.map((n) =>
      el(
        "li",
        { class: n.read_at ? "" : "unread" },
        el("span", {}, `${n.text} · ${new Date(n.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`),
        n.read_at ? null : el("button", { type: "button", onclick: () => markRead(n.id) }, "Mark read"),
      ),
    ),
  );
  if (!data.notifications.length) $("notification-list").append(el("li", {}, "Nothing yet."));
}

async function markRead(id) {
  await api("POST", `/api/notifications/${id}/read`);
  await Promise.all([loadUnread(), loadNotifications()]);
}

function togglePanel(button, panel, onOpen) {
  const open = panel.hidden;
  panel.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (open && onOpen) onOpen();
}

// ---- Live updates ---------------------------------------------------------

async function connect() {
  const generation = ++state.generation;
  if (state.source) state.source.close();
  state.source = null;
  let ticket;
  try {
    ({ data: { ticket } } = await api("POST", "/api/stream/ticket"));
  } catch {
    return retryLater();
  }
  if (generation !== state.generation) return; // a newer connect won
  const params = new URLSearchParams({ ticket });
  // A new EventSource cannot send Last-Event-ID itself: pass it along.
  if (state.lastEventId) params.set("last_event_id", state.lastEventId);
  const source = new EventSource(`/api/stream/tasks?${params}`);
  state.source = source;
  source.onopen = () => {
    state.retry = 0;
    // A resumed stream replays what it missed by sequence; a change of
    // another owner's shared list that was still on its way when the
    // connection dropped can sort below that point, so refetch the view.
    if (state.lastEventId) refreshSoon();
    $("live").classList.add("on");
    $("live").title = "Live updates: connected";
  };
  const onTask = (event) => {
    if (event.lastEventId) state.lastEventId = event.lastEventId;
    refreshSoon();
    let notice = {};
    try {
      notice = JSON.parse(event.data);
    } catch {
      /* a notice without a body */
    }
    if (event.type.startsWith("comment.") && state.commenting?.id === notice.task_id && $("comments-dialog").open) loadComments();
    if (event.type.startsWith("list.") && state.sharing?.id === notice.list_id && $("share-dialog").open) renderShare();
  };
  for (const name of ["task.created", "task.updated", "task.completed", "task.reopened", "task.deleted", "task.moved", "task.linked", "task.unlinked",
    "list.created", "list.updated", "list.moved", "list.archived", "list.unarchived", "list.deleted",
    "list.member_added", "list.member_changed", "list.member_removed", "list.transferred",
    "comment.created", "comment.updated", "comment.deleted"]) {
    source.addEventListener(name, onTask);
  }
  source.addEventListener("notification.created", (event) => {
    if (event.lastEventId) state.lastEventId = event.lastEventId;
    loadUnread();
    if (!$("notifications").hidden) loadNotifications();
  });
  source.addEventListener("resync", () => {
    refreshSoon();
    loadUnread();
  });
  source.onerror = () => {
    $("live").classList.remove("on");
    $("live").title = "Live updates: reconnecting";
    // The browser retries on its own while the ticket is valid; once it
    // gives up (CLOSED), start over with a fresh ticket.
    if (source.readyState === EventSource.CLOSED) retryLater();
  };
}

function retryLater() {
  if (!state.token) return;
  state.retry = Math.min(state.retry + 1, 6);
  setTimeout(() => {
    if (state.token) {
      connect();
      refreshSoon();
      loadUnread();
    }
  }, 250 * 2 ** state.retry);
}

// ---- Chat -----------------------------------------------------------------

function chatLine(role, text) {
  const line = el("li", { class: role }, text);
  $("chat-log").append(line);
  line.scrollIntoView({ block: "end" });
}

async function sendChat(event) {
  event.preventDefault();
  const input = $("chat-input");
  const message = input.value.trim();
  if (!message) return;
  input.value = "";
  chatLine("user", message);
  try {
    const { data } = await api("POST", "/api/chat", {
      conversation_id: state.conversation,
      message,
      timezone: browserZone(),
    });
    state.conversation = data.conversation_id;
    chatLine("assistant", data.reply);
    if (data.actions.length) refreshSoon();
  } catch (error) {
    chatLine("assistant", `Sorry — ${error.message}`);
  }
}

// ---- Wiring ---------------------------------------------------------------

function announce(text) {
  $("status").textContent = text;
}

function wire() {
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token-input").value);
  });
  $("local-signin-button").addEventListener("click", async () => {
    const response = await fetch("/api/local-sign-in", { method: "POST" });
    if (response.ok) signIn((await response.json()).token);
    else $("signin-error").textContent = "Local sign-in is not available here.";
  });
  $("signout").addEventListener("click", () => signOut());
  $("new-task").addEventListener("click", () => openForm());
  $("new-list").addEventListener("click", newList);
  $("show-archived").addEventListener("change", loadLists);
  $("task-form").addEventListener("submit", saveForm);
  $("task-cancel").addEventListener("click", () => $("task-dialog").close());
  $("history-close").addEventListener("click", () => $("history-dialog").close());
  $("share-form").addEventListener("submit", invite);
  $("share-close").addEventListener("click", () => {
    state.sharing = null;
    $("share-dialog").close();
  });
  $("calendar-open").addEventListener("click", openCalendar);
  $("feed-form").addEventListener("submit", addFeed);
  $("feed-all").addEventListener("change", () => {
    $("feed-lists").disabled = $("feed-all").checked;
  });
  $("calendar-close").addEventListener("click", () => $("calendar-dialog").close());
  $("app-password-form").addEventListener("submit", addAppPassword);
  for (const [button, value, said] of [
    ["dav-url-copy", "dav-url", "Server address copied"],
    ["app-password-copy", "app-password-value", "App password copied"],
  ]) {
    $(button).addEventListener("click", async () => {
      await navigator.clipboard?.writeText($(value).textContent);
      announce(said);
    });
  }
  $("feed-url-copy").addEventListener("click", async () => {
    await navigator.clipboard?.writeText($("feed-url-value").textContent);
    announce("Feed address copied");
  });
  $("webhooks-open").addEventListener("click", openWebhooks);
  $("apps-open").addEventListener("click", openApps);
  $("apps-close").addEventListener("click", () => $("apps-dialog").close());
  $("consent-approve").addEventListener("click", () => decide(true));
  $("consent-deny").addEventListener("click", () => decide(false));
  $("webhook-form").addEventListener("submit", addWebhook);
  $("webhooks-close").addEventListener("click", () => {
    state.webhook = null;
    $("webhooks-dialog").close();
  });
  $("webhook-secret-copy").addEventListener("click", async () => {
    await navigator.clipboard?.writeText($("webhook-secret-value").textContent);
    announce("Secret copied");
  });
  $("deliveries-refresh").addEventListener("click", () => state.webhook && showDeliveries(state.webhook));
  $("comment-form").addEventListener("submit", addComment);
  $("comments-close").addEventListener("click", () => {
    state.commenting = null;
    $("comments-dialog").close();
  });
  $("t-list").addEventListener("change", () => fillAssignees(Number($("t-list").value) || null, editing?.assignees || []));
  $("t-repeat").addEventListener("change", syncRepeat);
  $("t-end").addEventListener("change", syncRepeat);
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("filters").addEventListener("change", refresh);
  let typing;
  $("f-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(refresh, 200);
  });
  $("more").addEventListener("click", more);
  $("bell").addEventListener("click", () => togglePanel($("bell"), $("notifications"), loadNotifications));
  $("read-all").addEventListener("click", async () => {
    await api("POST", "/api/notifications/read-all");
    await Promise.all([loadUnread(), loadNotifications()]);
  });
  $("chat-toggle").addEventListener("click", () => togglePanel($("chat-toggle"), $("chat"), () => $("chat-input").focus()));
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-new").addEventListener("click", () => {
    state.conversation = null;
    $("chat-log").replaceChildren();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      for (const [button, panel] of [[$("bell"), $("notifications")], [$("chat-toggle"), $("chat")]]) {
        if (!panel.hidden) togglePanel(button, panel);
      }
    }
  });
  // Back online after a drop: reconnect at once rather than at the next retry.
  window.addEventListener("online", () => state.token && connect());
  fillZones();
}

wire();
start();
