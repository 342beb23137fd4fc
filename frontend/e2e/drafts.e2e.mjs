// End to end: drafts streamed from a model (a loopback stand-in for an OpenAI-compatible
// chat API, so the pace is known), cancelled mid-way, rendered as Markdown with citations that
// open the cited passage, downloaded as .md and .docx; and the Retry-After countdown after a
// 429. Runs a server of its own (startServer) with the stand-in model and a small generation
// rate limit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import JSZip from "jszip";
import { eventually, launch, newPage, screenshot, signIn, startServer } from "./browser.mjs";

const run = Date.now().toString(36);
const org = { org: `org_e2e_drafts_${run}`, orgName: "Drafts E2E" };
const writer = { ...org, user: "user_wren", role: "admin" };
const limited = { ...org, user: "user_rita", role: "member" };

/** What the stand-in model writes, piece by piece: Markdown with a citation and raw HTML. */
const PIECES = [
  "# Team pricing\n\n",
  "Our team plan costs $10 per member each month [1].\n\n",
  "- Unlimited drafts [1]\n",
  "- A shared style guide\n\n",
  "<b>not bold</b>\n",
];

/**
 * An OpenAI-compatible chat completions endpoint that streams PIECES: quickly, or one piece
 * every 2 s when the prompt asks about "slow lane" (so a test can cancel mid-draft).
 */
function startModel() {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      const slow = body.includes("slow lane");
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      const send = (data) => res.write(`data: ${JSON.stringify(data)}\n\n`);
      for (const content of slow ? [...PIECES, ...Array(30).fill("More words.\n\n")] : PIECES) {
        if (res.destroyed) return;
        send({ model: "stand-in", choices: [{ delta: { content } }] });
        await new Promise((resolve) => setTimeout(resolve, slow ? 2_000 : 20));
      }
      send({ model: "stand-in", choices: [], usage: { prompt_tokens: 100, completion_tokens: 40 } });
      res.end("data: [DONE]\n\n");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let browser;
let model;
let server;
let dataDir;

before(async () => {
  model = await startModel();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "vf-e2e-drafts-"));
  server = await startServer({
    dataDir,
    env: {
      LLM_PROVIDER: "openai",
      OPENAI_API_KEY: "stand-in",
      OPENAI_BASE_URL: `http://127.0.0.1:${model.address().port}/v1`,
      // 20 a minute per member: a drained bucket holds a token again in about 3 s.
      RATE_LIMIT_GENERATION: "20,200",
    },
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  model?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Calls the test's server as a dev identity. */
async function api(identity, method, route, body) {
  const minted = await fetch(`${server.url}/api/dev/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ org: identity.org, user: identity.user, role: identity.role, org_name: identity.orgName }),
  });
  const { token } = await minted.json();
  const response = await fetch(`${server.url}/api${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function openPage(identity) {
  const page = await newPage(browser);
  page.setDefaultTimeout(60_000);
  await signIn(page, identity, server.url);
  return page;
}

/** The path of a download started by clicking `button`. */
async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent("download"), button.click()]);
  return { name: file.suggestedFilename(), path: await file.path() };
}

test("a streamed draft shows its sources first, can be cancelled, and is saved with citations to the passage", async () => {
  const page = await openPage(writer);
  const added = await api(writer, "POST", "/contents", {
    title: "Team pricing",
    text:
      "# Team pricing\n\nOur team plan costs $10 per member each month, billed monthly.\n\n" +
      "## Support\n\nWe answer support questions within one business day.",
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const contentId = added.body.id;

  // A slow draft: sources, then text as it comes; Cancel stops it.
  await page.goto(`${server.url}/generate`);
  await page.getByLabel("Topic").fill("slow lane pricing");
  await page.getByRole("button", { name: "Generate draft" }).click();
  const result = page.getByRole("region", { name: "New draft" });
  await result.getByRole("region", { name: "Sources being drawn on" }).getByRole("link", { name: "Team pricing" }).waitFor();
  const soFar = result.getByLabel("Draft so far");
  await soFar.getByRole("heading", { name: "Team pricing" }).waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();
  await result.getByText("Cancelled: the draft was stopped before it was finished.").waitFor();
  const cancelledText = await soFar.innerText();
  assert.ok(!cancelledText.includes("More words"), "cancelled before the slow part");
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(await soFar.innerText(), cancelledText, "nothing arrives after Cancel");
  assert.equal(await page.getByRole("button", { name: "Generate draft" }).isEnabled(), true);
  await screenshot(page, "drafts-cancelled");

  // A whole draft: Markdown rendered, the model's HTML shown as text.
  await page.getByLabel("Topic").fill("fast lane pricing");
  await page.getByRole("button", { name: "Generate draft" }).click();
  const permalink = result.getByRole("link", { name: "Permanent link to this draft" });
  await permalink.waitFor();
  const output = result.locator(".draft-output");
  await output.getByRole("heading", { name: "Team pricing" }).waitFor();
  assert.deepEqual(await output.getByRole("listitem").allInnerTexts(), ["Unlimited drafts [1]", "A shared style guide"]);
  assert.equal(await output.locator("b").count(), 0, "raw HTML is not rendered");
  assert.match(await output.innerText(), /<b>not bold<\/b>/);
  await screenshot(page, "drafts-streamed");
  const generationPath = await permalink.getAttribute("href");

  // Downloads of the stored draft, with markers and source list.
  await page.goto(server.url + generationPath);
  const md = await download(page, page.getByRole("button", { name: "Download .md" }));
  // Named after the draft's template and day (the Generate page's first template).
  assert.match(md.name, /^[a-z0-9]+(-[a-z0-9]+)*-\d{4}-\d{2}-\d{2}\.md$/);
  const markdown = readFileSync(md.path, "utf8");
  assert.match(markdown, /^# Team pricing\n\nOur team plan costs \$10 per member each month \[1\]\./);
  assert.match(markdown, new RegExp(`## Sources\\n\\n- \\\\\\[1\\\\\\] \\[Team pricing\\]\\(<${server.url}/library/${contentId}#chunk-[0-9a-f-]{36}>\\)`));

  const docx = await download(page, page.getByRole("button", { name: "Download .docx" }));
  assert.match(docx.name, /\.docx$/);
  const zip = await JSZip.loadAsync(readFileSync(docx.path));
  const xml = await zip.file("word/document.xml").async("string");
  const text = [...xml.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join("");
  assert.ok(text.includes("Team pricing"), text);
  assert.ok(text.includes("Our team plan costs $10 per member each month [1]."), text);
  assert.ok(text.includes("A shared style guide"), text);
  assert.match(xml, /<w:vertAlign w:val="superscript"\/>/);
  assert.match(await zip.file("word/_rels/document.xml.rels").async("string"), new RegExp(`/library/${contentId}#chunk-`));

  // The citation opens the library item at the cited passage.
  const citation = page.locator(".draft-output").getByRole("link", { name: "Source 1: Team pricing" }).first();
  const href = await citation.getAttribute("href");
  assert.match(href, new RegExp(`^/library/${contentId}#chunk-[0-9a-f-]{36}$`));
  await citation.click();
  await page.waitForURL(`**/library/${contentId}#chunk-*`);
  await page.getByRole("heading", { level: 1, name: "Team pricing" }).waitFor();
  const passage = page.locator(`[id="${href.split("#")[1]}"]`);
  await passage.getByText("cited passage").waitFor();
  await eventually(async () => assert.equal(await passage.evaluate((el) => el === document.activeElement), true), "passage focused");
  await screenshot(page, "drafts-cited-passage");
  await page.context().close();
});

test("after a 429 the Generate button counts down Retry-After and works again at 0", async () => {
  const page = await openPage(limited);
  // Drain the member's generation bucket: every request takes a token, a 404 too.
  for (let i = 0; i < 25; i++) {
    const answer = await api(limited, "POST", "/generate", { template_id: "00000000-0000-0000-0000-000000000000", inputs: {} });
    if (answer.status === 429) break;
  }
  await page.goto(`${server.url}/generate`);
  await page.getByLabel("Topic").fill("fast lane pricing");
  await page.getByRole("button", { name: "Generate draft" }).click();
  await page.getByText(/You can try again in/).waitFor();
  assert.equal(await page.getByRole("button", { name: "Generate draft" }).isDisabled(), true);
  await screenshot(page, "drafts-rate-limited");
  await eventually(async () => assert.equal(await page.getByRole("button", { name: "Generate draft" }).isEnabled(), true), "countdown ends", {
    timeout: 15_000,
  });
  assert.equal(await page.getByText(/You can try again in/).count(), 0);
  await page.getByRole("button", { name: "Generate draft" }).click();
  await page.getByRole("link", { name: "Permanent link to this draft" }).waitFor();
  await page.context().close();
});
