// End to end in a real Chromium: dev sign-in, the dashboard and team pages, and tenant
// isolation as seen by a member of another organization.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { baseUrl, launch, newPage, screenshot, signIn } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("an admin signs in and sees the organization, usage and team", async () => {
  const page = await newPage(browser);
  await signIn(page, { org: "org_e2e_a", orgName: "Acme E2E", user: "user_ann", role: "admin" });
  await page.getByText("Acme E2E").first().waitFor();
  await page.getByText("Users").first().waitFor();
  const meters = await page.locator("text=of 5").count();
  assert.ok(meters >= 1, "the users meter shows the seat limit");
  await screenshot(page, "dashboard");

  await page.getByRole("link", { name: "Team" }).click();
  await page.getByRole("heading", { name: "Team" }).waitFor();
  await page.getByText("user_ann").first().waitFor();
  await screenshot(page, "team");
  await page.context().close();
});

test("a member of another organization sees none of the first one's data", async () => {
  const seed = await newPage(browser);
  await signIn(seed, { org: "org_e2e_a", orgName: "Acme E2E", user: "user_ann", role: "admin" });
  await seed.context().close();

  const page = await newPage(browser);
  await signIn(page, { org: "org_e2e_b", orgName: "Globex E2E", user: "user_bo", role: "member" });
  await page.getByText("Globex E2E").first().waitFor();
  await page.getByRole("link", { name: "Team" }).click();
  await page.getByText("user_bo").first().waitFor();
  const body = await page.locator("body").innerText();
  assert.ok(!body.includes("user_ann"), "org B's team page must not list org A's members");
  assert.ok(!body.includes("Acme E2E"), "org B must not see org A's name");
  await screenshot(page, "team-other-org");
  await page.context().close();
});

test("unknown pages render the app's not-found view, not a server error", async () => {
  const page = await newPage(browser);
  await signIn(page, { org: "org_e2e_a", user: "user_ann", role: "admin" });
  const response = await page.goto(baseUrl + "/no/such/page");
  assert.equal(response.status(), 200, "the SPA fallback serves index.html");
  await page.getByText(/not found/i).first().waitFor();
  await page.context().close();
});
