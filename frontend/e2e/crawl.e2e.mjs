// End to end: an admin crawls a small site served on loopback from the Crawls page, watches it
// finish, reads its per-page outcomes, cancels a second crawl, sets the re-crawl schedule,
// finds a crawled passage in the library, adds and deletes an item, and sees usage rise on the
// dashboard; then a member of another organization sees none of it.
// scripts/e2e sets CRAWL_ALLOW_PRIVATE_NETWORKS=true, so the crawler may fetch 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { baseUrl, eventually, launch, meterUsed, newPage, screenshot, signIn } from "./browser.mjs";

const orgA = { org: "org_e2e_crawl_a", orgName: "Northwind E2E", user: "user_nora", role: "admin" };
const orgB = { org: "org_e2e_crawl_b", orgName: "Initech E2E", user: "user_ike", role: "member" };

/** A phrase that only the cold-brew post contains, to find it by passage search. */
const PHRASE = "steeped for eighteen hours in filtered mountain water";

function layout(title, body, links = []) {
  const nav = links.map(([href, text]) => `<li><a href="${href}">${text}</a></li>`).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="description" content="${title} at Northwind Roasters"></head>
<body><header><nav><ul>${nav}</ul></nav></header>
<main><article><h1>${title}</h1>${body}</article></main>
<footer><p>Northwind Roasters, 12 Harbour Lane.</p></footer></body></html>`;
}

const paragraphs = (...texts) => texts.map((t) => `<p>${t}</p>`).join("\n");

/** The small site: five pages of prose, a page robots.txt forbids, and a broken link. */
const SITE = {
  "/": layout(
    "Northwind Roasters",
    paragraphs(
      "We roast single-origin coffee in small batches every Tuesday and ship it the same week, so the beans in your cup are never more than ten days from the roaster.",
      "Our roastery started in a garage with a secondhand drum and a stubborn belief that good coffee should taste of the place it was grown, not of the roast.",
      "Read about who we are, browse the journal, or learn how we brew at home.",
    ),
    [
      ["/about", "About us"],
      ["/blog/", "Journal"],
      ["/brewing-guide", "Brewing guide"],
      ["/private/notes", "Staff notes"],
      ["/old-menu", "Old menu"],
    ],
  ),
  "/about": layout(
    "About Northwind Roasters",
    paragraphs(
      "Northwind is a team of six people who care about farmers as much as flavour. We buy directly from growers we have visited and pay well above the commodity price.",
      "Every lot is cupped three times before it earns a place on our list. If a coffee does not make us smile at the cupping table, it does not go in a bag.",
      "We answer every email ourselves, usually within a day, and we are always happy to talk about grind size.",
    ),
    [["/", "Home"]],
  ),
  "/blog/": layout(
    "The Northwind journal",
    paragraphs(
      "Stories from the roastery, the farms and the people who drink our coffee. New posts arrive whenever we have something worth saying.",
      "This month we wrote about cold brew for warm evenings and about our trip to the highlands where our washed coffees come from.",
    ),
    [
      ["/", "Home"],
      ["/blog/cold-brew", "Cold brew for warm evenings"],
      ["/blog/origin-trip", "A week in the highlands"],
    ],
  ),
  "/blog/cold-brew": layout(
    "Cold brew for warm evenings",
    paragraphs(
      `Our summer cold brew is ${PHRASE}, then filtered twice through paper so it pours clear and sweet.`,
      "Use a coarse grind, one part coffee to eight parts water, and keep the jar in the fridge. Dilute the concentrate with milk or water to taste.",
      "Cold brew keeps for a week in a sealed bottle, which makes it the easiest way we know to have good coffee ready on a hot afternoon.",
    ),
    [["/blog/", "Journal"]],
  ),
  "/blog/origin-trip": layout(
    "A week in the highlands",
    paragraphs(
      "In March we spent a week with the cooperative that grows our washed highland coffee, walking the terraces at dawn and tasting cherries straight from the tree.",
      "The farmers showed us their new drying beds, raised off the ground so air moves around every bean, and explained how the change lifted their scores by two points.",
      "We came home with a bigger order, a notebook full of ideas and a renewed respect for how much work goes into every cup.",
    ),
    [["/blog/", "Journal"]],
  ),
  "/brewing-guide": layout(
    "How we brew at home",
    paragraphs(
      "For a pour-over, start with fifteen grams of coffee and two hundred and fifty grams of water just off the boil, and pour slowly in three stages.",
      "A French press wants a coarser grind and four minutes of patience; press gently and serve at once so the coffee does not turn bitter.",
      "Whatever you brew with, weigh your coffee and water: it is the single change that makes home coffee most consistent.",
    ),
    [["/", "Home"]],
  ),
  "/private/notes": layout("Staff notes", paragraphs("Not for the crawler: robots.txt disallows this folder."), []),
};

/** Serves SITE on a random loopback port; `held` paths wait until `release()` (or forever). */
async function startSite({ held = () => false } = {}) {
  const waiting = new Set();
  let released = false;
  const server = http.createServer((request, response) => {
    const path = new URL(request.url, "http://site").pathname;
    const answer = () => {
      if (path === "/robots.txt") {
        response.writeHead(200, { "Content-Type": "text/plain" });
        response.end("User-agent: *\nDisallow: /private/\n");
      } else if (SITE[path]) {
        response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        response.end(SITE[path]);
      } else {
        response.writeHead(404, { "Content-Type": "text/html" });
        response.end("<!doctype html><title>Not found</title><p>No such page.</p>");
      }
    };
    if (!released && held(path)) waiting.add(answer);
    else answer();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    /** Answers the held requests and every later one. */
    release() {
      released = true;
      for (const answer of waiting) answer();
      waiting.clear();
    },
    /** Drops held connections unanswered and stops listening. */
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let browser;
let site; // the crawl that completes: blog posts are held until the test has seen it running
let stuckSite; // the crawl that is cancelled: its start page never answers
let page;
const state = {};

before(async () => {
  browser = await launch();
  site = await startSite({ held: (path) => path.startsWith("/blog/") && path !== "/blog/" });
  stuckSite = await startSite({ held: (path) => path === "/" });
  page = await newPage(browser);
  // Generous: scripts/test may run this beside compilers on a busy machine.
  page.setDefaultTimeout(60_000);
});
after(async () => {
  site?.release();
  await site?.close();
  await stuckSite?.close();
  await browser?.close();
});

const nav = () => page.getByRole("navigation", { name: "Main" });

test("the dashboard shows the usage before anything is crawled", async () => {
  await signIn(page, orgA);
  state.before = {
    contentItems: await meterUsed(page, "Content items"),
    crawls: await meterUsed(page, "Crawls this month"),
  };
  assert.deepEqual(state.before, { contentItems: 0, crawls: 0 }, "a new organization starts empty");
  await nav().getByRole("link", { name: "Library" }).click();
  await page.getByText("The library is empty.").waitFor();
});

test("an admin starts a crawl and watches it run to completion in the list", async () => {
  await nav().getByRole("link", { name: "Crawls" }).click();
  await page.getByRole("heading", { name: "Crawls", level: 1 }).waitFor();
  await page.getByText("No crawls yet.").waitFor();

  await page.getByLabel("Site address").fill(site.url);
  await page.getByText("Options", { exact: true }).click();
  await page.getByLabel("Maximum pages").fill("20");
  await page.getByLabel("Maximum link depth").fill("3");
  await page.getByRole("button", { name: "Start crawl" }).click();

  // Starting opens the crawl's own page.
  await page.waitForURL(/\/crawls\/[0-9a-f-]{36}$/);
  state.crawlId = page.url().split("/").pop();
  await page.getByRole("heading", { name: "Crawl", level: 1 }).waitFor();
  await page.getByText(site.url).first().waitFor();

  // Back in the list, the crawl shows live progress while its blog posts are held back.
  await page.getByRole("link", { name: "← Crawls" }).click();
  const row = page.getByRole("listitem", { name: site.url });
  await row.waitFor();
  const progress = row.getByRole("progressbar");
  await progress.waitFor();
  await eventually(async () => {
    assert.match(await row.locator(".crawl-status").innerText(), /Queued|Running/);
    assert.match((await progress.getAttribute("aria-valuetext")) ?? "", /of \d+ pages?/, "pages are discovered");
  }, "the running crawl shows how many pages are done");
  await screenshot(page, "crawls-running");

  // Let the held pages through: polling carries the row to Completed and the bar goes away.
  site.release();
  await row.getByText("Completed", { exact: true }).waitFor({ timeout: 60_000 });
  await progress.waitFor({ state: "detached" });
  state.stored = Number((await row.innerText()).match(/(\d+) new/)?.[1]);
  assert.equal(state.stored, 6, "home, about, journal, two posts and the brewing guide are new items");
  await screenshot(page, "crawls");
});

test("as soon as the crawl ends, the library and the dashboard count its pages", async () => {
  // Both were loaded before the crawl; the app must not keep showing those answers.
  await nav().getByRole("link", { name: "Library" }).click();
  const table = page.getByRole("table", { name: "Library items" });
  await eventually(
    async () => assert.equal(await table.locator("tbody tr").count(), state.stored),
    "the library lists the crawled pages",
    { timeout: 30_000 },
  );
  await nav().getByRole("link", { name: "Dashboard" }).click();
  await eventually(
    async () => {
      assert.equal(await meterUsed(page, "Content items"), state.before.contentItems + state.stored);
      assert.equal(await meterUsed(page, "Crawls this month"), state.before.crawls + 1);
    },
    "the dashboard counts the crawl and its items",
    { timeout: 30_000 },
  );
});

test("the crawl's page lists every page with its outcome", async () => {
  await nav().getByRole("link", { name: "Crawls" }).click();
  await page.getByRole("listitem", { name: site.url }).getByRole("link", { name: site.url }).click();
  await page.waitForURL(new RegExp(`/crawls/${state.crawlId}$`));
  const summary = page.getByRole("region", { name: "Crawl summary" });
  await summary.getByText("Completed", { exact: true }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Cancel crawl" }).count(), 0, "a finished crawl cannot be cancelled");

  const fact = async (label) =>
    Number((await summary.locator(".crawl-counts div").filter({ has: page.getByText(label, { exact: true }) }).locator("dd").innerText()).replace(/\D/g, ""));
  assert.equal(await fact("New"), state.stored, "the summary agrees with the list");
  assert.equal(await fact("Failed"), 1, "the old menu link is broken");

  const table = page.getByRole("table", { name: "Pages of this crawl and their outcomes" });
  await table.waitFor();
  const rowOf = (path) => table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: site.url.replace(/\/$/, "") + path, exact: true }) });
  // (A held post may show "2 attempts" when the machine is slow: the crawler's 15 s timeout retried it.)
  assert.match(await rowOf("/blog/cold-brew").innerText(), /New item\b.*\s200\s/);
  assert.match(await rowOf("/old-menu").innerText(), /Failed\s+http_404\b.*\s404\s/);
  assert.match(await rowOf("/private/notes").innerText(), /Skipped\s+robots_disallowed/);
  // Stored pages link to their library item.
  state.coldBrewHref = await rowOf("/blog/cold-brew").getByRole("link").getAttribute("href");
  assert.match(state.coldBrewHref, /^\/library\/[0-9a-f-]{36}$/);
  await screenshot(page, "crawl-detail");
});

test("a second crawl is cancelled while its start page is still loading", async () => {
  await nav().getByRole("link", { name: "Crawls" }).click();
  await page.getByLabel("Site address").fill(stuckSite.url);
  await page.getByRole("button", { name: "Start crawl" }).click();
  await page.waitForURL((url) => /\/crawls\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(state.crawlId));
  state.cancelledId = page.url().split("/").pop();
  const summary = page.getByRole("region", { name: "Crawl summary" });
  await summary.getByText(/Queued|Running/).waitFor();

  await page.getByRole("button", { name: "Cancel crawl" }).click();
  await summary.getByText("Cancelled", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Cancel crawl" }).waitFor({ state: "detached" });
  await screenshot(page, "crawl-cancelled");

  await page.getByRole("link", { name: "← Crawls" }).click();
  const row = page.getByRole("listitem", { name: stuckSite.url });
  await row.getByText("Cancelled", { exact: true }).waitFor();
  assert.equal(await row.getByRole("progressbar").count(), 0, "a cancelled crawl has no progress bar");
});

test("an admin sets a daily re-crawl schedule", async () => {
  const section = page.getByRole("region", { name: "Re-crawl schedule" });
  await section.getByText("No schedule").waitFor();
  const form = section.getByRole("form", { name: "Edit the schedule" });
  await form.getByLabel("Site to re-crawl").fill(site.url);
  await form.getByLabel("Frequency").selectOption("daily");
  await form.getByRole("button", { name: "Save schedule" }).click();
  await section.getByRole("status").filter({ hasText: "Schedule saved." }).waitFor();
  const facts = section.locator(".schedule-facts");
  await facts.getByText(site.url).waitFor();
  assert.match(await facts.innerText(), /Every\s+day/i);
  assert.match(await facts.innerText(), /Last run\s+never/i);
  await screenshot(page, "crawls-schedule");
});

test("the library finds a crawled passage and shows the item's chunks", async () => {
  await nav().getByRole("link", { name: "Library" }).click();
  await page.getByRole("heading", { name: "Library", level: 1 }).waitFor();
  const table = page.getByRole("table", { name: "Library items" });
  await table.getByRole("link", { name: "Cold brew for warm evenings" }).waitFor();
  assert.equal(await table.locator("tbody tr").count(), state.stored, "every new page is an item");
  await screenshot(page, "library");

  // The title filter narrows the list (and lands in the address).
  await page.getByLabel("Search titles and addresses").fill("highlands");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.waitForURL(/\?q=highlands/);
  await eventually(async () => assert.equal(await table.locator("tbody tr").count(), 1), "the filter leaves one item");
  await table.getByRole("link", { name: "A week in the highlands" }).waitFor();

  // Passage search finds the sentence inside the cold-brew post.
  const passages = page.getByRole("search", { name: "Search passages" });
  await passages.getByRole("searchbox").fill(PHRASE);
  await passages.getByRole("button", { name: "Find passages" }).click();
  const results = page.getByRole("list", { name: "Matching passages" });
  const hit = results.getByRole("listitem").filter({ hasText: PHRASE }).first();
  await hit.waitFor();
  await screenshot(page, "library-search");
  await hit.getByRole("link", { name: "Cold brew for warm evenings" }).click();

  await page.waitForURL(/\/library\/[0-9a-f-]{36}$/);
  state.coldBrewId = page.url().split("/").pop();
  if (state.coldBrewHref) assert.equal(`/library/${state.coldBrewId}`, state.coldBrewHref, "the crawl's page links the same item");
  await page.getByRole("heading", { name: "Cold brew for warm evenings", level: 1 }).waitFor();
  await page.getByRole("heading", { name: /^Chunks \([1-9]\d*\)$/ }).waitFor();
  await page.locator(".chunk-list .chunk-text").filter({ hasText: PHRASE }).waitFor();
  assert.match(await page.getByRole("region", { name: "About this item" }).innerText(), /crawl/);
  await screenshot(page, "content-detail");
});

test("an item added by hand can be deleted after confirming", async () => {
  await page.getByRole("link", { name: "← Library" }).click();
  await page.getByRole("button", { name: "Add content" }).click();
  const form = page.getByRole("form", { name: "Add content" });
  await form.getByLabel("Title", { exact: true }).fill("Wholesale terms");
  await form
    .getByLabel("Text", { exact: true })
    .fill("# Wholesale terms\n\nCafés ordering five kilos or more a week get a fixed price for the season.\n\nWe deliver on Thursdays and train your baristas for free.");
  await form.getByRole("button", { name: "Add to library" }).click();

  await page.getByRole("heading", { name: "Wholesale terms", level: 1 }).waitFor();
  const manualId = page.url().split("/").pop();
  await page.locator(".chunk-list .chunk-text").filter({ hasText: "fixed price for the season" }).waitFor();
  assert.match(await page.getByRole("region", { name: "About this item" }).innerText(), /manual/);

  await page.getByRole("button", { name: "Delete…" }).click();
  const confirm = page.getByRole("group", { name: "Confirm deletion" });
  await confirm.getByText("This cannot be undone.").waitFor();
  await screenshot(page, "content-delete-confirm");
  await confirm.getByRole("button", { name: "Delete permanently" }).click();

  await page.waitForURL(/\/library$/);
  const table = page.getByRole("table", { name: "Library items" });
  await table.getByRole("link", { name: "Cold brew for warm evenings" }).waitFor();
  await eventually(
    async () => assert.equal(await table.getByRole("link", { name: "Wholesale terms" }).count(), 0),
    "the deleted item leaves the list",
  );
  await page.goto(`${baseUrl}/library/${manualId}`);
  await page.getByText("This item is not in your library.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Try again" }).count(), 0, "asking again cannot bring it back");
});

test("the dashboard shows the new content items and crawls", async () => {
  // Through the navigation, not a reload: the app itself must know the numbers moved.
  await page.getByRole("link", { name: "← Library" }).click();
  await page.getByRole("table", { name: "Library items" }).waitFor();
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await nav().getByRole("link", { name: "Dashboard" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  assert.equal(await page.evaluate(() => window.scrollY), 0, "a new page opens at its top");
  await eventually(async () => {
    assert.equal(await meterUsed(page, "Crawls this month"), state.before.crawls + 2, "both crawls count");
    assert.equal(await meterUsed(page, "Content items"), state.before.contentItems + state.stored, "crawled pages count");
  }, "the meters show the crawls and the crawled items");
  // Nothing hidden may stretch the page below its content (the chart's screen-reader table did).
  const { scrollHeight, contentBottom } = await page.evaluate(() => ({
    scrollHeight: document.documentElement.scrollHeight,
    contentBottom: Math.max(window.innerHeight, document.querySelector("main").getBoundingClientRect().bottom + window.scrollY),
  }));
  assert.ok(scrollHeight <= contentBottom + 1, `the dashboard is ${scrollHeight}px tall for ${contentBottom}px of content`);
  await screenshot(page, "dashboard-usage");
  await page.context().close();
});

test("the dashboard counts the pages crawled this month", async () => {
  const check = await newPage(browser);
  await signIn(check, orgA);
  // Pages fetched and extracted: the stored ones. The 404, the robots.txt refusal and the
  // cancelled crawl (which fetched nothing) add none.
  assert.equal(await meterUsed(check, "Pages crawled this month"), state.stored, "pages crawled");
  await check.context().close();
});

test("a member of another organization sees none of the crawls or library items", async () => {
  assert.ok(state.crawlId && state.coldBrewId, "the first organization's crawl ran");
  const other = await newPage(browser);
  other.setDefaultTimeout(60_000);
  await signIn(other, orgB);
  const otherNav = other.getByRole("navigation", { name: "Main" });

  await otherNav.getByRole("link", { name: "Crawls" }).click();
  await other.getByText("No crawls yet.").waitFor();
  const crawlsText = await other.locator("main").innerText();
  assert.ok(!crawlsText.includes(site.url), "org B must not see org A's crawl");
  await other.getByText("Only admins can change the schedule.").waitFor();
  assert.ok(!crawlsText.includes("Every"), "org B has no schedule of its own");
  await screenshot(other, "crawls-other-org");

  await otherNav.getByRole("link", { name: "Library" }).click();
  await other.getByText("The library is empty.").waitFor();
  const passages = other.getByRole("search", { name: "Search passages" });
  await passages.getByRole("searchbox").fill(PHRASE);
  await passages.getByRole("button", { name: "Find passages" }).click();
  await other.getByText("No passages match.").waitFor();
  await screenshot(other, "library-other-org");

  await other.goto(`${baseUrl}/library/${state.coldBrewId}`);
  await other.getByText("This item is not in your library.").waitFor();
  assert.ok(!(await other.locator("main").innerText()).includes("Cold brew"), "no trace of the item");
  await screenshot(other, "content-other-org");

  await other.goto(`${baseUrl}/crawls/${state.crawlId}`);
  await other.getByText("No such crawl.").waitFor();
  assert.ok(!(await other.locator("main").innerText()).includes(site.url), "no trace of the crawl");
  await other.context().close();
});
