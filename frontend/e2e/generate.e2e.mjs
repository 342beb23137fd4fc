// End to end: an admin adds a text to the library, creates a template, generates a draft,
// follows a citation to the cited item and sees the voice page; a member of the same
// organization cannot change the admin's template; a member of another organization sees none
// of the first one's templates or drafts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { baseUrl, launch, newPage, screenshot as fullPageScreenshot, signIn } from "./browser.mjs";

// A fresh organization per run, so the test can run again against the same server.
const run = Date.now().toString(36);
const orgA = { org: `org_e2e_gen_${run}`, orgName: "Generate E2E" };
const admin = { ...orgA, user: "user_gina", role: "admin" };
const templateName = "Team pricing note";

let browser;
/** Filled by the first test, checked by the isolation test. */
const created = { contentId: null, generationId: null };

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Calls the API as a dev identity, the way the signed-in page does (dev token, bearer). */
async function api(identity, method, path, body) {
  const minted = await fetch(`${baseUrl}/api/dev/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ org: identity.org, user: identity.user, role: identity.role, org_name: identity.orgName }),
  });
  assert.equal(minted.status, 200, await minted.clone().text());
  const { token } = await minted.json();
  const response = await fetch(`${baseUrl}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** From the top: the header is sticky, so a scrolled full-page shot would show it mid-page. */
async function screenshot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await fullPageScreenshot(page, name);
}

/** A page whose waits allow for a loaded machine (generation and first listings can be slow). */
async function openPage() {
  const page = await newPage(browser);
  page.setDefaultTimeout(60_000);
  return page;
}

const mainNav = (page) => page.getByRole("navigation", { name: "Main" });

test("an admin creates a template, generates a cited draft, follows a citation and sees the voice", async () => {
  const page = await openPage();
  await signIn(page, admin);

  // A manual text in the library, added with the same identity the page uses.
  const added = await api(admin, "POST", "/contents", {
    title: "Team pricing",
    text:
      "# Team pricing\n\nOur team plan costs $10 per member each month, billed monthly.\n\n" +
      "Every team plan includes unlimited drafts, a shared style guide and citations to your own pages.\n\n" +
      "## Support\n\nWe answer support questions within one business day, and you can cancel at any time.",
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  created.contentId = added.body.id;

  // Templates: the built-ins are listed; create one whose fields come from its placeholders.
  await mainNav(page).getByRole("link", { name: "Templates" }).click();
  await page.getByRole("heading", { level: 1, name: "Templates" }).waitFor();
  await page.getByRole("heading", { name: "Marketing email" }).waitFor();
  await page.getByRole("button", { name: "New template" }).click();
  const form = page.getByRole("form", { name: "New template" });
  await form.getByLabel("Name").fill(templateName);
  await form.getByLabel("Kind").selectOption("email");
  await form.getByLabel("Instructions").fill("Write a short note about {{topic}} for {{audience}}. Cite the pricing page.");
  await form.getByRole("rowheader", { name: "{{audience}}" }).waitFor();
  await form.getByLabel("Label of topic").fill("Topic");
  await form.getByLabel("topic is required").check();
  await form.getByRole("button", { name: "Create template" }).click();
  const card = page.getByRole("listitem", { name: templateName });
  await card.waitFor();
  assert.match(await card.innerText(), /Topic · required/);
  await screenshot(page, "templates");

  // Generate from it: the form is built from the template's fields.
  await card.getByRole("link", { name: `Generate with ${templateName}` }).click();
  await page.getByRole("heading", { level: 1, name: "Generate" }).waitFor();
  await page.getByLabel("Topic").fill("team pricing plan");
  await page.getByLabel("audience (optional)").fill("small teams");
  await page.getByRole("button", { name: "Generate draft" }).click();
  const draft = page.getByRole("region", { name: "New draft" });
  await draft.waitFor();
  const citation = draft.getByRole("link", { name: /^Source \d+: Team pricing$/ }).first();
  await citation.waitFor();
  assert.match(await draft.innerText(), /voice score/);
  const permalink = await draft.getByRole("link", { name: "Permanent link to this draft" }).getAttribute("href");
  created.generationId = permalink.split("/").pop();
  await page.getByRole("table", { name: "Past drafts, newest first" }).getByRole("row").nth(1).waitFor();
  await screenshot(page, "generate-draft");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "generate-draft-narrow");
  await page.setViewportSize({ width: 1280, height: 860 });

  // The citation leads to the cited library item, at the cited passage.
  await citation.click();
  await page.waitForURL(new RegExp(`/library/${created.contentId}(#chunk-[0-9a-f-]{36})?$`));
  await page.getByRole("heading", { level: 1, name: "Team pricing" }).waitFor();

  // Voice: figures measured from the library; the admin edits the style guide.
  await mainNav(page).getByRole("link", { name: "Voice" }).click();
  await page.getByRole("heading", { level: 1, name: "Voice" }).waitFor();
  await page.getByRole("list", { name: "Voice figures" }).waitFor();
  const guide = page.getByRole("form", { name: "Style guide" });
  await guide.getByLabel("Tone").fill("warm, direct");
  await guide.getByLabel("Banned words").fill("synergy");
  await guide.getByRole("button", { name: "Save style guide" }).click();
  await guide.getByText("Saved.").waitFor();
  await screenshot(page, "voice");
  await page.context().close();
});

test("a member of the same organization uses the admin's template but cannot change it", async () => {
  const page = await openPage();
  await signIn(page, { ...orgA, user: "user_milo", role: "member" });
  await page.goto(baseUrl + "/templates");
  const card = page.getByRole("listitem", { name: templateName });
  await card.waitFor();
  assert.equal(await card.getByRole("button", { name: /^Edit/ }).count(), 0);
  assert.equal(await card.getByRole("button", { name: /^Delete/ }).count(), 0);
  await card.getByText(/Only its creator or an admin can change it/).waitFor();

  await page.goto(baseUrl + "/voice");
  await page.getByText("Only admins can change the style guide.").waitFor();
  await page.getByText("warm, direct").waitFor();
  assert.equal(await page.getByRole("button", { name: "Save style guide" }).count(), 0);
  await screenshot(page, "voice-member");
  await page.context().close();
});

test("a member of another organization sees none of the first one's templates or drafts", async () => {
  assert.ok(created.generationId, "the first test made a draft");
  const page = await openPage();
  await signIn(page, { org: `org_e2e_gen_other_${run}`, orgName: "Other E2E", user: "user_oscar", role: "member" });

  await mainNav(page).getByRole("link", { name: "Templates" }).click();
  await page.getByRole("heading", { name: "Marketing email" }).waitFor();
  assert.ok(!(await page.locator("body").innerText()).includes(templateName), "org B must not see org A's template");

  await mainNav(page).getByRole("link", { name: "Generate" }).click();
  await page.getByText("No drafts yet.").waitFor();
  const options = await page.getByLabel("Template").locator("option").allInnerTexts();
  assert.ok(!options.some((o) => o.includes(templateName)), "org B's template choice must not offer org A's template");

  await page.goto(`${baseUrl}/generations/${created.generationId}`);
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /not found/i, "another organization's draft is not found");

  await page.goto(`${baseUrl}/voice`);
  await page.getByText("No voice profile yet.").waitFor();
  await screenshot(page, "generate-other-org");
  await page.context().close();
});
