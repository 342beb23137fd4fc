// End to end: the Library page shows how much of the library is searchable by meaning. A
// server of the test's own runs without the vector outbox worker, so new passages wait for
// their vectors: the page shows a progress bar at zero, follows items added through the API by
// polling, says search by words already covers everything, and a passage search finds an item
// by its words (mode full_text). Restarted on the same database and port with the worker on,
// the open page watches the bar fill and says the index is complete; the answer it showed is
// asked again and no longer says "words only".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eventually, launch, newPage, screenshot, signIn, startServer } from "./browser.mjs";

// A fresh organization per run, so the test can run again against the same database.
const run = Date.now().toString(36);
const admin = { org: `org_e2e_index_${run}`, orgName: "Harbour Ferries E2E", user: "user_ida", role: "admin" };

/** Words only the timetable contains, to find it by passage search. */
const QUERY = "quayside timetable";
const ITEMS = [
  {
    title: "Winter ferry timetable",
    text: "# Winter timetable\n\nFrom November the quayside ferry leaves every forty minutes, and the last boat back sails at half past ten.",
  },
  { title: "Bicycles on board", text: "# Bicycles\n\nBring your bicycle on any crossing; racks sit on the lower deck beside the stairs." },
  { title: "Dogs and pets", text: "# Pets\n\nDogs on a lead are welcome in the open-air seating but not in the café." },
  { title: "Lost property", text: "# Lost property\n\nAsk at the ticket office within a month; after that, items go to charity." },
];

let browser;
let page;
let server;
let dataDir;

before(async () => {
  browser = await launch();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "vf-e2e-index-"));
  server = await startServer({ dataDir, env: { VECTOR_OUTBOX_WORKER: "false" } });
  page = await newPage(browser);
  // Generous: the worker's first drain loads the model, beside compilers on a busy machine.
  page.setDefaultTimeout(60_000);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Runs a test's steps; a failure carries the end of the test's server log (scripts/e2e shows only the shared one's). */
const withServerLog = (steps) => async () => {
  try {
    await steps();
  } catch (error) {
    if (server) error.message += `\n--- the test's server log, last lines ---\n${server.logTail()}`;
    throw error;
  }
};

/** Calls the test's server as the admin, the way the signed-in page does (dev token, bearer). */
async function api(method, apiPath, body) {
  const minted = await fetch(`${server.url}/api/dev/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ org: admin.org, user: admin.user, role: admin.role, org_name: admin.orgName }),
  });
  assert.equal(minted.status, 200, await minted.clone().text());
  const { token } = await minted.json();
  const response = await fetch(`${server.url}/api${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

const nav = () => page.getByRole("navigation", { name: "Main" });
const indexRegion = () => page.getByRole("region", { name: "Search index" });
const bar = () => page.getByRole("progressbar", { name: "Passages searchable by meaning" });
const passageSearch = () => page.getByRole("search", { name: "Search passages" });

test("while passages wait for their vectors, the Library shows the bar and finds items by their words", withServerLog(async () => {
  await signIn(page, admin, server.url);
  await nav().getByRole("link", { name: "Library" }).click();
  await page.getByText("The library is empty.").waitFor();
  assert.equal(await bar().count(), 0, "an empty library has nothing to index");

  // One item through the page: adding it makes the Library ask for the index status again.
  await page.getByRole("button", { name: "Add content" }).click();
  const form = page.getByRole("form", { name: "Add content" });
  await form.getByLabel("Title", { exact: true }).fill(ITEMS[0].title);
  await form.getByLabel("Text", { exact: true }).fill(ITEMS[0].text);
  await form.getByRole("button", { name: "Add to library" }).click();
  await page.getByRole("heading", { name: ITEMS[0].title, level: 1 }).waitFor();
  await page.getByRole("link", { name: "← Library" }).click();

  await bar().waitFor();
  const first = Number(await bar().getAttribute("aria-valuemax"));
  assert.ok(first >= 1, "the new item's passages are counted");
  assert.equal(await bar().getAttribute("aria-valuenow"), "0", "nothing is searchable by meaning without the worker");

  // Three more through the API, unseen by the page: its polling must bring them in.
  for (const item of ITEMS.slice(1)) assert.equal((await api("POST", "/contents", item)).status, 201);
  const status = (await api("GET", "/search/status")).body;
  assert.equal(status.mode, "full_text");
  assert.equal(status.embedded, 0);
  assert.equal(status.pending, status.passages);
  assert.ok(status.passages > first);
  await eventually(
    async () => assert.equal(Number(await bar().getAttribute("aria-valuemax")), status.passages),
    "the bar polls and counts every passage",
  );
  const table = page.getByRole("table", { name: "Library items" });
  await eventually(
    async () => assert.equal(await table.locator("tbody tr").count(), ITEMS.length),
    "the list follows the index and shows the items added elsewhere",
  );
  const region = await indexRegion().innerText();
  assert.match(region, new RegExp(`0 of ${status.passages} passages\\s+searchable by meaning \\(0%\\)`));
  assert.match(region, new RegExp(`Search by words already covers all ${status.passages} passages\\.`));
  assert.doesNotMatch(region, /left/, "no time is promised while nothing is being embedded");

  // Search by words already answers.
  await passageSearch().getByRole("searchbox").fill(QUERY);
  await passageSearch().getByRole("button", { name: "Find passages" }).click();
  const results = page.getByRole("list", { name: "Matching passages" });
  const hit = results.getByRole("listitem").filter({ has: page.getByRole("link", { name: ITEMS[0].title }) });
  await hit.waitFor();
  const marked = await hit.locator("mark").allInnerTexts();
  assert.ok(marked.some((word) => /quayside/i.test(word)), `matched words are marked (${marked.join(", ")})`);
  await page.getByText("Searching by words only — 0% of the library is searchable by meaning so far.").waitFor();
  await screenshot(page, "library-index-pending");
}));

test("restarted with the worker on the same database, the open page watches the index complete", withServerLog(async () => {
  const { port } = server;
  await server.stop();
  server = await startServer({ dataDir, port, env: { VECTOR_OUTBOX_WORKER: "true" } });

  // No reload: the page keeps polling and sees the passages embedded.
  const done = page.getByRole("status").filter({ hasText: "Search index complete" });
  await done.waitFor({ timeout: 180_000 });
  const status = (await api("GET", "/search/status")).body;
  assert.equal(status.pending, 0);
  assert.equal(status.mode, "hybrid");
  assert.equal(
    await done.innerText(),
    `Search index complete: all ${status.passages} passages are searchable by meaning and by words.`,
  );
  assert.equal(await bar().count(), 0, "the bar is gone");

  // The answer found by words alone is asked again now that meaning can help.
  const results = page.getByRole("list", { name: "Matching passages" });
  await eventually(
    async () => assert.equal(await page.getByText(/Searching by words only/).count(), 0),
    "the search is no longer by words only",
  );
  await results.getByRole("link", { name: ITEMS[0].title }).waitFor();
  assert.equal((await api("POST", "/search", { query: QUERY })).body.mode, "hybrid");
  await screenshot(page, "library-index-complete");

  // Coming back to a complete index shows nothing about it.
  await page.reload();
  await page.getByRole("table", { name: "Library items" }).waitFor();
  await page.getByRole("table", { name: "Library items" }).getByRole("link", { name: ITEMS[3].title }).waitFor();
  assert.equal(await indexRegion().count(), 0, "no bar for a complete index");
  assert.equal(await done.count(), 0, "and no notice either");
}));
