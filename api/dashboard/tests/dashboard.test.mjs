// The dashboard in a real browser: Debian's headless Chromium driven by
// playwright-core, against a real `taskflow serve` (started here on a free
// port with a fresh data directory, stopped by its process id). Each step
// waits on a condition with a deadline and saves a screenshot.
//
//   TASKFLOW_BIN=target/debug/taskflow SCREENSHOTS=target/dashboard node --test api/dashboard/tests/

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createServer, connect as tcpConnect } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const BIN = resolve(process.env.TASKFLOW_BIN || "target/debug/taskflow");
const SHOTS = resolve(process.env.SCREENSHOTS || "target/dashboard-screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let server, base, token, browser, context, tabA, tabB, dataDir;

function startServer() {
  dataDir = mkdtempSync(join(tmpdir(), "taskflow-dashboard-"));
  const env = { ...process.env, RUST_LOG: "warn" };
  delete env.TASKFLOW_DATABASE_URL; // embedded mode: SQLite in the data directory
  // Webhooks may go to this machine's receiver (development mode).
  const child = spawn(BIN, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--webhooks-allow-insecure"], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error("serve did not start within 20 s")), 20_000);
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

async function call(method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/// The task row titled `title` (open list), within `timeout` ms.
function row(page, title) {
  return page.locator("#tasks li.task", { has: page.locator(".title", { hasText: new RegExp(`^${title}$`) }) });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ({ child: server, url: base } = await startServer());
  const signIn = await fetch(`${base}/api/local-sign-in`, { method: "POST" });
  token = (await signIn.json()).token;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
});

after(async () => {
  await browser?.close();
  if (server) {
    process.kill(server.pid, "SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("sign in with one click, then both tabs go live", async () => {
  tabA = await context.newPage();
  await tabA.goto(base);
  await tabA.getByRole("button", { name: /Sign in as local/ }).click();
  await tabA.locator("#app").waitFor({ state: "visible", timeout: 5000 });
  tabB = await context.newPage();
  await tabB.goto(base); // the token is remembered
  await tabB.locator("#app").waitFor({ state: "visible", timeout: 5000 });
  await tabA.locator("#live.on").waitFor({ timeout: 5000 });
  await tabB.locator("#live.on").waitFor({ timeout: 5000 });
  await shot(tabA, "01-signed-in");
});

test("a task created in tab A appears in tab B within 1 s", async () => {
  await tabA.getByRole("button", { name: "New task" }).click();
  await tabA.locator("#t-title").fill("Write the report");
  await tabA.locator("#t-priority").selectOption("high");
  await tabA.locator("#t-tags").fill("work");
  // Tab B notes when the row appears; the clock starts when tab A's
  // create is answered.
  await tabB.evaluate(() => {
    window.seenAt = null;
    new MutationObserver((_, observer) => {
      const titles = [...document.querySelectorAll("#tasks .title")].map((t) => t.textContent);
      if (titles.includes("Write the report")) {
        window.seenAt = Date.now();
        observer.disconnect();
      }
    }).observe(document.getElementById("tasks"), { childList: true, subtree: true });
  });
  const [created] = await Promise.all([
    tabA.waitForResponse((r) => r.url().endsWith("/api/tasks") && r.request().method() === "POST"),
    tabA.getByRole("button", { name: "Save" }).click(),
  ]);
  assert.equal(created.status(), 201);
  const createdAt = Date.now();
  await row(tabB, "Write the report").waitFor({ timeout: 2000 });
  const seenAt = await tabB.evaluate(() => window.seenAt);
  const elapsed = seenAt - createdAt;
  assert.ok(elapsed < 1000, `appeared ${elapsed} ms after the create was answered`);
  await shot(tabB, "02-created-in-a-seen-in-b");
});

test("completing a weekly task brings its next occurrence", async () => {
  await tabA.getByRole("button", { name: "New task" }).click();
  await tabA.locator("#t-title").fill("Weekly sync");
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await tabA.locator("#t-date").fill(tomorrow);
  await tabA.locator("#t-time").fill("10:00");
  await tabA.locator("#t-zone").selectOption("UTC");
  await tabA.locator("#t-repeat").selectOption("WEEKLY");
  await tabA.getByRole("button", { name: "Save" }).click();
  const first = row(tabA, "Weekly sync");
  await first.waitFor({ timeout: 2000 });
  const firstId = await first.getAttribute("data-id");
  await tabA.getByRole("checkbox", { name: "Complete Weekly sync" }).check();
  // The recurrence worker creates the next one; both tabs show it.
  for (const tab of [tabA, tabB]) {
    await tab.waitForFunction(
      (id) => [...document.querySelectorAll("#tasks li.task")].some(
        (li) => li.querySelector(".title")?.textContent === "Weekly sync" && li.dataset.id !== id,
      ),
      firstId,
      { timeout: 3000 },
    );
  }
  const next = await row(tabB, "Weekly sync").getAttribute("data-id");
  const task = await call("GET", `/api/tasks/${next}`);
  assert.equal(task.previous_id, Number(firstId));
  assert.equal(task.recurrence, "FREQ=WEEKLY");
  await shot(tabB, "03-next-occurrence");

  // Edit it: the form reads the rule back; "end after 3" and Thursdays too.
  await tabB.getByRole("button", { name: "Edit Weekly sync" }).click();
  assert.equal(await tabB.locator("#t-repeat").inputValue(), "WEEKLY");
  await tabB.locator('#t-days input[value="TH"]').check();
  await tabB.locator('#t-days input[value="' + ["SU", "MO", "TU", "WE", "TH", "FR", "SA"][new Date(`${task.due}Z`).getUTCDay()] + '"]').check();
  await tabB.locator("#t-end").selectOption("count");
  await tabB.locator("#t-count").fill("3");
  await tabB.getByRole("button", { name: "Save" }).click();
  await tabB.locator("#task-dialog[open]").waitFor({ state: "detached", timeout: 3000 });
  const edited = await call("GET", `/api/tasks/${next}`);
  assert.match(edited.recurrence, /^FREQ=WEEKLY;BYDAY=[A-Z,]*TH[A-Z,]*;COUNT=3$/);
  // The row words the rule as every surface does: the task's recurrence_text.
  assert.match(edited.recurrence_text, /^every .*Thursday.* at 10:00, (\d+ more times?|ending with this one)$/);
  await row(tabB, "Weekly sync").locator("span", { hasText: `↻ ${edited.recurrence_text}` })
    .waitFor({ timeout: 3000 });
  // Its history shows the creation by the worker and the edit from the app.
  await tabB.getByRole("button", { name: "History of Weekly sync" }).click();
  await tabB.locator("#history-list li", { hasText: "local updated via api" }).waitFor({ timeout: 3000 });
  await tabB.locator("#history-list li", { hasText: "local created via worker" }).waitFor({ timeout: 3000 });
  await shot(tabB, "03b-history");
  await tabB.getByRole("button", { name: "Close" }).click();
});

test("a reminder that fires raises the bell count at once", async () => {
  assert.equal(await tabA.locator("#unread").textContent(), "0");
  const at = new Date(Date.now() + 1500).toISOString();
  await call("POST", "/api/tasks", { title: "Stretch", reminder: { at } });
  await tabA.waitForFunction(() => document.getElementById("unread").textContent === "1", null, { timeout: 6000 });
  await tabA.getByRole("button", { name: /Notifications/ }).click();
  await tabA.locator("#notification-list li.unread").first().waitFor({ timeout: 2000 });
  await shot(tabA, "04-reminder-bell");
  await tabA.getByRole("button", { name: "Mark all read" }).click();
  await tabA.waitForFunction(() => document.getElementById("unread").textContent === "0", null, { timeout: 2000 });
  await tabA.keyboard.press("Escape");
});

test("chat: 'Add buy milk tomorrow' puts the task in the list", async () => {
  await tabA.getByRole("button", { name: "Chat" }).click();
  await tabA.locator("#chat-input").fill("Add buy milk tomorrow");
  await tabA.locator("#chat-input").press("Enter");
  await tabA.locator("#chat-log li.assistant", { hasText: "Added 'Buy milk'" }).waitFor({ timeout: 3000 });
  await row(tabB, "Buy milk").waitFor({ timeout: 2000 });
  await shot(tabA, "05-chat");
  await tabA.keyboard.press("Escape");
});

/// A TCP proxy to the server that can drop every connection, as a network
/// outage would, and refuse new ones until it is restored.
function dropProxy(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  let down = false;
  const proxy = createServer((client) => {
    if (down) return client.destroy();
    const upstream = tcpConnect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolvePromise) =>
    proxy.listen(0, "127.0.0.1", () =>
      resolvePromise({
        url: `http://127.0.0.1:${proxy.address().port}`,
        drop() {
          down = true;
          for (const s of sockets) s.destroy();
        },
        restore() {
          down = false;
        },
        close: () => proxy.close(),
      }),
    ),
  );
}

test("after a network drop the stream reconnects and replays what it missed", async () => {
  const link = await dropProxy(base);
  const tab = await context.newPage();
  try {
    await tab.goto(link.url);
    await tab.getByRole("button", { name: /Sign in as local/ }).click();
    await tab.locator("#live.on").waitFor({ timeout: 5000 });
    await call("POST", "/api/tasks", { title: "Seen before the outage" });
    await row(tab, "Seen before the outage").waitFor({ timeout: 2000 });
    link.drop();
    await tab.waitForFunction(() => !document.getElementById("live").classList.contains("on"), null, { timeout: 5000 });
    // Changed elsewhere while this tab is cut off.
    await call("POST", "/api/tasks", { title: "Made during the outage" });
    const replayed = tab.waitForRequest((r) => r.url().includes("/api/stream/tasks"), { timeout: 15_000 });
    link.restore();
    const request = await replayed;
    const headers = await request.allHeaders();
    const lastEventId = headers["last-event-id"] || new URL(request.url()).searchParams.get("last_event_id");
    assert.ok(Number(lastEventId) > 0, "the reconnect names the last event seen");
    await row(tab, "Made during the outage").waitFor({ timeout: 10_000 });
    await tab.locator("#live.on").waitFor({ timeout: 10_000 });
    await shot(tab, "06-reconnected");
  } finally {
    await tab.close();
    link.close();
  }
});

test("lists: a new list, subtasks under their parent, reorder, blocked badge, move and archive", async () => {
  const page = tabA;
  page.once("dialog", (dialog) => dialog.accept("Trip"));
  await page.getByRole("button", { name: "New list" }).click();
  const trip = page.locator("#list-nav button.list", { hasText: "Trip" });
  await trip.waitFor({ timeout: 3000 });
  assert.equal(await trip.getAttribute("aria-current"), "true");
  await page.locator("#list-title", { hasText: "Trip" }).waitFor({ timeout: 2000 });
  // A task made in the form goes to the list shown.
  await page.getByRole("button", { name: "New task" }).click();
  await page.locator("#t-title").fill("Pack bags");
  await page.getByRole("button", { name: "Save" }).click();
  await row(page, "Pack bags").waitFor({ timeout: 3000 });
  const lists = await call("GET", "/api/lists");
  const tripId = lists.find((l) => l.title === "Trip").id;
  const inbox = lists.find((l) => l.inbox);
  const pack = (await call("GET", `/api/tasks?list_id=${tripId}`)).tasks[0];
  assert.equal(pack.title, "Pack bags");
  const flights = await call("POST", "/api/tasks", { title: "Book flights", list_id: tripId });
  await call("POST", "/api/tasks", { title: "Passport", parent_id: pack.id });
  // The subtask shows under its parent, with the parent's progress.
  const nested = page.locator(`#tasks li.task[data-id="${pack.id}"] .subtasks .title`, { hasText: "Passport" });
  await nested.waitFor({ timeout: 3000 });
  await page.locator(`#tasks li.task[data-id="${pack.id}"] .progress`, { hasText: "0/1" }).first().waitFor({ timeout: 2000 });
  await shot(page, "09-list-with-subtask");
  // Keyboard-reachable reorder: "Book flights" up, above "Pack bags".
  const order = () => page.evaluate(() => [...document.querySelectorAll("#tasks > li.task > div > .title")].map((t) => t.textContent));
  assert.deepEqual(await order(), ["Pack bags", "Book flights"]);
  await page.getByRole("button", { name: "Move Book flights up" }).click();
  await page.waitForFunction(() => document.querySelector("#tasks > li.task .title")?.textContent === "Book flights", null, { timeout: 3000 });
  assert.deepEqual(await order(), ["Book flights", "Pack bags"]);
  // Blocked, and by what.
  await call("PUT", `/api/tasks/${pack.id}/links/blocked_by/${flights.id}`);
  await page.locator(`#tasks li.task[data-id="${pack.id}"] .blocked`, { hasText: "Blocked by Book flights" }).waitFor({ timeout: 3000 });
  await shot(page, "10-blocked-and-reordered");
  // Fold the subtasks away.
  await page.getByRole("button", { name: /Hide subtasks of Pack bags/ }).click();
  await nested.waitFor({ state: "detached", timeout: 2000 });
  // Move to another list: it leaves this one.
  await page.getByRole("combobox", { name: "Move Book flights to another list" }).selectOption(String(inbox.id));
  await row(page, "Book flights").waitFor({ state: "detached", timeout: 3000 });
  assert.equal((await call("GET", `/api/tasks/${flights.id}`)).list_id, inbox.id);
  // Archive hides the list; "Show archived" and Restore bring it back.
  await page.getByRole("button", { name: "Archive Trip" }).click();
  await trip.waitFor({ state: "detached", timeout: 3000 });
  await page.locator("#show-archived").check();
  await page.getByRole("button", { name: "Restore Trip" }).click();
  await page.locator("#list-nav li:not(.archived) button.list", { hasText: "Trip" }).waitFor({ timeout: 3000 });
  await shot(page, "11-archive-restored");
  await page.locator("#show-archived").uncheck();
  await page.locator("#list-nav button.list", { hasText: "All tasks" }).click();
});

test("sharing: two people in one list, live — invite, accept, assign, comment, remove", async () => {
  // Bob signs in with his own token, in a browser context of his own.
  const bobToken = execFileSync(BIN, ["token", "--user", "bob", "--data-dir", dataDir], { encoding: "utf8" }).trim();
  const bobContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const bob = await bobContext.newPage();
  try {
    await bob.goto(base);
    await bob.locator("#token-input").fill(bobToken);
    await bob.getByRole("button", { name: "Sign in", exact: true }).click();
    await bob.locator("#live.on").waitFor({ timeout: 5000 });
    const alice = tabA;
    const family = await call("POST", "/api/lists", { title: "Family" });
    const milk = await call("POST", "/api/tasks", { title: "Buy oat milk", list_id: family.id });
    await alice.getByRole("button", { name: "Share Family" }).click();
    await alice.locator("#share-username").fill("bob");
    await alice.locator("#share-role").selectOption("editor");
    await alice.getByRole("button", { name: "Invite" }).click();
    await alice.locator("#pending-list li", { hasText: "bob is invited as editor" }).waitFor({ timeout: 3000 });
    await shot(alice, "12-share-dialog");
    await alice.getByRole("button", { name: "Close" }).click();

    // Bob's bell rings at once; he accepts, and Family is in his lists.
    await bob.waitForFunction(() => document.getElementById("unread").textContent === "1", null, { timeout: 3000 });
    await bob.getByRole("button", { name: /Notifications/ }).click();
    await bob.locator("#notification-list li", { hasText: "invited you to Family as an editor" }).waitFor({ timeout: 3000 });
    await bob.getByRole("button", { name: "Accept invitation to Family" }).click();
    await bob.locator("#list-nav button.list", { hasText: "Family" }).waitFor({ timeout: 3000 });
    await bob.keyboard.press("Escape");
    await bob.locator("#list-nav button.list", { hasText: "Family" }).click();
    await row(bob, "Buy oat milk").waitFor({ timeout: 3000 });
    // An editor neither archives nor shares it.
    assert.equal(await bob.getByRole("button", { name: "Archive Family" }).count(), 0);
    assert.equal(await bob.getByRole("button", { name: "Share Family" }).count(), 0);

    // Alice assigns the task to bob in the form; his row shows his initials,
    // and "Assigned: Me" keeps it.
    await row(alice, "Buy oat milk").waitFor({ timeout: 3000 });
    await alice.getByRole("button", { name: "Edit Buy oat milk" }).click();
    await alice.locator("#t-assignees-label").waitFor({ state: "visible", timeout: 3000 });
    await alice.locator("#t-assignees").selectOption(["bob"]);
    await alice.getByRole("button", { name: "Save" }).click();
    await row(bob, "Buy oat milk").locator(".people[aria-label='Assigned to bob (you)']").waitFor({ timeout: 3000 });
    await bob.locator("#f-assignee").selectOption("me");
    await row(bob, "Buy oat milk").waitFor({ timeout: 3000 });
    await shot(bob, "13-assigned-to-bob");
    assert.deepEqual((await call("GET", `/api/tasks/${milk.id}`)).assignees, ["bob"]);

    // Bob comments; alice, with the comments open, sees it arrive, and is
    // notified of it.
    await alice.getByRole("button", { name: "Comments on Buy oat milk" }).click();
    await alice.locator("#comment-list li", { hasText: "No comments yet." }).waitFor({ timeout: 3000 });
    await bob.getByRole("button", { name: "Comments on Buy oat milk" }).click();
    await bob.locator("#comment-body").fill("Barista edition?");
    await bob.getByRole("button", { name: "Comment", exact: true }).click();
    await alice.locator("#comment-list li", { hasText: "Barista edition?" }).waitFor({ timeout: 3000 });
    await alice.locator("#comment-list li .by", { hasText: "bob" }).waitFor({ timeout: 3000 });
    await shot(alice, "14-comment-arrives");
    await alice.locator("#comments-close").click();
    await bob.locator("#comments-close").click();
    await alice.waitForFunction(() => Number(document.getElementById("unread").textContent) >= 1, null, { timeout: 3000 });

    // Alice removes bob: Family leaves his lists at once.
    await alice.getByRole("button", { name: "Share Family" }).click();
    alice.once("dialog", (dialog) => dialog.accept());
    await alice.getByRole("button", { name: "Remove bob" }).click();
    await alice.locator("#member-list li", { hasText: "bob" }).waitFor({ state: "detached", timeout: 3000 });
    await alice.locator("#share-close").click();
    await bob.locator("#list-nav button.list", { hasText: "Family" }).waitFor({ state: "detached", timeout: 3000 });
    await row(bob, "Buy oat milk").waitFor({ state: "detached", timeout: 3000 });
    await shot(bob, "15-removed");
  } finally {
    await bobContext.close();
  }
});

// A webhook receiver on loopback: keeps each request, answers 200.
async function startReceiver() {
  const received = [];
  const http = createHttpServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200).end();
    });
  });
  await new Promise((done) => http.listen(0, "127.0.0.1", done));
  return { received, http, url: `http://127.0.0.1:${http.address().port}/hooks/taskflow` };
}

/// Whether a request carries a Standard Webhooks signature by `secret`.
function signedBy(request, secret) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const id = request.headers["webhook-id"];
  const timestamp = request.headers["webhook-timestamp"];
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${request.body}`).digest();
  return request.headers["webhook-signature"].split(" ").some((signature) => {
    const [version, value] = signature.split(",");
    const given = Buffer.from(value || "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function until(what, condition, timeout = 5000) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeout) throw new Error(`gave up waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

test("webhooks: add an endpoint, copy its secret once, send a test, see deliveries, redeliver", async () => {
  const receiver = await startReceiver();
  const page = tabA;
  try {
    await page.getByRole("button", { name: "Webhooks" }).click();
    await page.locator("#webhook-url").fill(receiver.url);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.locator("#webhook-secret").waitFor({ state: "visible", timeout: 3000 });
    const secret = await page.locator("#webhook-secret-value").textContent();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    await page.locator("#webhook-list li", { hasText: receiver.url }).waitFor({ timeout: 3000 });
    await shot(page, "16-webhook-added");

    // A test goes out, signed, and shows as delivered with its answer.
    await page.getByRole("button", { name: `Send a test to ${receiver.url}` }).click();
    await until("the test", () => receiver.received.length >= 1);
    const ping = receiver.received[0];
    assert.equal(JSON.parse(ping.body).type, "taskflow.ping.v1");
    assert.ok(signedBy(ping, secret), "the test is signed with the secret shown");
    const delivered = page.locator("#delivery-rows tr", { hasText: "ping" });
    await delivered.locator("td.state-succeeded").waitFor({ timeout: 3000 });
    await delivered.locator("td", { hasText: "200" }).waitFor({ timeout: 3000 });

    // A change made anywhere is delivered too.
    await call("POST", "/api/tasks", { title: "Webhook me" });
    await until("the task's delivery", () => receiver.received.some((r) => JSON.parse(r.body).data?.task?.title === "Webhook me"));
    const created = receiver.received.find((r) => JSON.parse(r.body).data?.task?.title === "Webhook me");
    assert.equal(JSON.parse(created.body).type, "taskflow.task.created.v1");
    assert.ok(signedBy(created, secret));

    // Redeliver the test: the same webhook-id again.
    await delivered.getByRole("button", { name: "Redeliver" }).click();
    await until("the redelivery", () => receiver.received.filter((r) => r.headers["webhook-id"] === ping.headers["webhook-id"]).length === 2);
    await shot(page, "17-webhook-deliveries");
    // Reopened later, the secret is not shown again.
    await page.locator("#webhooks-close").click();
    await page.getByRole("button", { name: "Webhooks" }).click();
    assert.equal(await page.locator("#webhook-secret").isVisible(), false);
    await page.locator("#webhooks-close").click();
  } finally {
    receiver.http.close();
  }
});

test("an app asks to connect: consent, Allow, its code buys a token; Connected apps disconnects it", async () => {
  // The app: registered, listening on loopback for the redirect.
  const callback = await startReceiver();
  const redirect = callback.url.replace("/hooks/taskflow", "/callback");
  const registered = await (await fetch(`${base}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Helper Bot", redirect_uris: [redirect] }),
  })).json();
  const verifier = "dBjftJeZ4CVP-mJ92ZoDdyaBgvD1Z9Qy4FkXoOj2GGM";
  const challenge = "BEBkUsvnr4CuOjojqYNGE4ykYC7_Q0vo02yVOFxPBkg"; // its S256, computed apart
  const query = new URLSearchParams({
    response_type: "code", client_id: registered.client_id, redirect_uri: redirect, scope: "tasks:read tasks:write",
    state: "s1", code_challenge: challenge, code_challenge_method: "S256", resource: `${base}/mcp`,
  });
  const page = await context.newPage();
  try {
    await page.goto(`${base}/oauth/authorize?${query}`);
    await page.locator("#consent", { hasText: "Helper Bot" }).waitFor({ timeout: 5000 });
    assert.match(await page.locator("#consent-scopes").textContent(), /tasks:write/);
    await shot(page, "18-oauth-consent");
    // Allow reading only: untick the other permission.
    await page.locator('#consent-scopes input[value="tasks:write"]').uncheck();
    await page.getByRole("button", { name: "Allow" }).click();
    // The browser goes back to the app with a code, the state and the issuer.
    await page.waitForURL((url) => url.href.startsWith(redirect), { timeout: 5000 });
    const back = new URL(page.url());
    assert.equal(back.searchParams.get("state"), "s1");
    assert.equal(back.searchParams.get("iss"), base);
    const tokens = await (await fetch(`${base}/oauth/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "authorization_code", code: back.searchParams.get("code"),
        client_id: registered.client_id, redirect_uri: redirect, code_verifier: verifier }),
    })).json();
    assert.equal(tokens.scope, "tasks:read");
    const mcp = () => fetch(`${base}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    assert.equal((await mcp()).status, 200);

    // Connected apps lists it; Disconnect ends its token at once.
    await tabA.getByRole("button", { name: "Connected apps" }).click();
    const listed = tabA.locator("#app-list li", { hasText: "Helper Bot" });
    await listed.waitFor({ timeout: 3000 });
    assert.match(await listed.textContent(), /tasks:read/);
    assert.doesNotMatch(await listed.textContent(), /tasks:write/);
    await shot(tabA, "19-connected-apps");
    tabA.once("dialog", (dialog) => dialog.accept());
    await tabA.getByRole("button", { name: "Disconnect Helper Bot" }).click();
    await tabA.locator("#app-list li", { hasText: "No app is connected." }).waitFor({ timeout: 3000 });
    assert.equal((await mcp()).status, 401);
    await tabA.locator("#apps-close").click();
  } finally {
    await page.close();
    callback.http.closeAllConnections();
    callback.http.close();
  }
});

test("calendar: make a feed, copy its address once, a calendar app reads it, delete revokes it", async () => {
  const page = tabA;
  await call("POST", "/api/tasks", { title: "Dentist", due: "2027-03-01" });
  await page.getByRole("button", { name: "Calendar", exact: true }).click();
  await page.locator("#feed-name").fill("My tasks");
  await page.getByRole("radio", { name: "Events" }).check();
  await page.getByRole("button", { name: "Make feed" }).click();
  await page.locator("#feed-url").waitFor({ state: "visible", timeout: 3000 });
  const url = await page.locator("#feed-url-value").textContent();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/feeds\/cal_[A-Za-z0-9_-]{43}\.ics$/);
  assert.equal(await page.locator("#feed-webcal").getAttribute("href"), url.replace("http://", "webcal://"));
  const listed = page.locator("#feed-list li", { hasText: "My tasks" });
  await listed.waitFor({ timeout: 3000 });
  assert.match(await listed.textContent(), new RegExp(`Events.*all lists.*…${url.slice(-8, -4)}`));
  await shot(page, "20-calendar-feed");
  // What a calendar app would fetch: the page's origin serves it.
  const ics = await page.evaluate(async (u) => (await fetch(u)).text(), url);
  assert.ok(ics.startsWith("BEGIN:VCALENDAR\r\n"), ics.slice(0, 80));
  assert.ok(ics.includes("SUMMARY:Dentist\r\nDTSTART;VALUE=DATE:20270301\r\n"), ics);
  // Reopened, the address is not shown again; deleting it revokes it.
  await page.locator("#calendar-close").click();
  await page.getByRole("button", { name: "Calendar", exact: true }).click();
  assert.equal(await page.locator("#feed-url").isVisible(), false);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete the feed My tasks" }).click();
  await listed.waitFor({ state: "detached", timeout: 3000 });
  const status = await page.evaluate(async (u) => (await fetch(u)).status, url);
  assert.equal(status, 404);
  await page.locator("#calendar-close").click();
});

test("calendar: an app password is shown once, signs a CalDAV app in, and revoking it signs the app out", async () => {
  const page = tabA;
  await page.getByRole("button", { name: "Calendar", exact: true }).click();
  const davUrl = await page.locator("#dav-url").textContent();
  assert.match(davUrl, /^http:\/\/127\.0\.0\.1:\d+\/dav\/$/);
  const username = await page.locator("#dav-username").textContent();
  assert.ok(username.length > 0);
  await page.locator("#app-password-name").fill("My iPhone");
  await page.getByRole("button", { name: "Make app password" }).click();
  await page.locator("#app-password-once").waitFor({ state: "visible", timeout: 3000 });
  const password = await page.locator("#app-password-value").textContent();
  assert.match(password, /^tfap_[A-Za-z0-9_-]{43}$/);
  const listed = page.locator("#app-password-list li", { hasText: "My iPhone" });
  await listed.waitFor({ timeout: 3000 });
  assert.match(await listed.textContent(), new RegExp(`…${password.slice(-4)}.*never used`));
  await shot(page, "21-app-password");
  // What a CalDAV app does with it: a PROPFIND of the server address (from
  // here, not the page: a browser answers a Basic challenge with a prompt).
  const propfind = async (secret) => {
    const response = await fetch(davUrl, {
      method: "PROPFIND",
      headers: { Authorization: `Basic ${btoa(`${username}:${secret}`)}`, Depth: "0" },
    });
    return [response.status, await response.text()];
  };
  const [status, body] = await propfind(password);
  assert.equal(status, 207, body);
  assert.ok(body.includes(`<d:href>/dav/principals/`), body);
  // Reopened, the password is not shown again; revoking it signs the app out.
  await page.locator("#calendar-close").click();
  await page.getByRole("button", { name: "Calendar", exact: true }).click();
  assert.equal(await page.locator("#app-password-once").isVisible(), false);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Revoke the app password My iPhone" }).click();
  await listed.waitFor({ state: "detached", timeout: 3000 });
  assert.equal((await propfind(password))[0], 401);
  await page.locator("#calendar-close").click();
});

test("usable at phone width, with labels on every control", async () => {
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(base);
  await row(phone, "Buy milk").waitFor({ timeout: 3000 });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  const unlabeled = await phone.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea, button")]
      .filter((c) => !(c.labels?.length || c.getAttribute("aria-label") || c.textContent.trim()))
      .map((c) => c.id || c.outerHTML.slice(0, 60)),
  );
  assert.deepEqual(unlabeled, []);
  // Keyboard: Tab reaches "New task", Enter opens the form, Escape closes it.
  await phone.keyboard.press("Tab");
  for (let i = 0; i < 10 && !(await phone.evaluate(() => document.activeElement?.id === "new-task")); i++) {
    await phone.keyboard.press("Tab");
  }
  await phone.keyboard.press("Enter");
  await phone.locator("#task-dialog[open]").waitFor({ timeout: 2000 });
  await shot(phone, "07-phone-form");
  await phone.keyboard.press("Escape");
  await phone.locator("#task-dialog[open]").waitFor({ state: "detached", timeout: 2000 });
  await shot(phone, "08-phone-list");
});
