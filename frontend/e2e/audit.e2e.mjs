// End to end: the audit log as an admin (empty, then with the entry an operator's limit change
// produced) and as a member (admins-only note, no nav entry).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { baseUrl, launch, newPage, screenshot, signIn } from "./browser.mjs";

const org = { org: "org_e2e_audit", orgName: "Audit E2E" };
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** As the deployment's operator (scripts/e2e sets the token), change a limit: an audited action. */
async function changeCrawlLimit(orgId, max) {
  const response = await fetch(`${baseUrl}/api/organizations/limits`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${process.env.E2E_OPERATOR_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ organization: orgId, max_crawls_per_month: max }),
  });
  assert.equal(response.status, 200, await response.text());
}

test("an admin sees the audit log, first empty, then with an operator's limit change", async (t) => {
  const page = await newPage(browser);
  await signIn(page, { ...org, user: "user_audra", role: "admin" });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await page.getByText("No audit events yet.").waitFor();
  await screenshot(page, "audit-empty");

  if (!process.env.E2E_OPERATOR_TOKEN) {
    t.diagnostic("E2E_OPERATOR_TOKEN unset: skipping the limit change (run through scripts/e2e)");
    await page.context().close();
    return;
  }
  await changeCrawlLimit(org.org, 12);
  await page.reload();
  const table = page.getByRole("table", { name: "Audit events, newest first" });
  await table.waitFor();
  const row = table.getByRole("row").filter({ hasText: "limits.updated" });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /System/, "an operator's change is a system entry");
  assert.match(text, /org_e2e_audit/, "the target is the organization");
  await screenshot(page, "audit");

  await page.getByLabel("Action").fill("membership.*");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.getByText("No audit events match these filters.").waitFor();
  assert.match(page.url(), /action=membership\.\*/);
  await page.getByRole("button", { name: "Clear filters" }).click();
  await table.getByRole("row").filter({ hasText: "limits.updated" }).waitFor();

  await page.getByLabel("Action").fill("Not Valid!");
  await page.getByRole("button", { name: "Apply filters" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /action must be like/, "the API's problem detail is shown");
  await screenshot(page, "audit-bad-filter");
  await page.context().close();
});

test("a member gets the admins-only note and no audit entry in the navigation", async () => {
  const page = await newPage(browser);
  await signIn(page, { ...org, user: "user_mel", role: "member" });
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Team" }).waitFor();
  assert.equal(await nav.getByRole("link", { name: "Audit" }).count(), 0);

  await page.goto(baseUrl + "/audit");
  await page.getByText("The audit log is for admins only.").waitFor();
  assert.equal(await page.getByRole("table").count(), 0);
  await screenshot(page, "audit-member");
  await page.context().close();
});
