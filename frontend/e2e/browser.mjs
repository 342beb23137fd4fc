// Shared pieces of the end-to-end tests: Debian's Chromium driven by playwright-core against
// a running `voiceforge serve` (scripts/e2e starts one and sets E2E_BASE_URL).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";

export const baseUrl = process.env.E2E_BASE_URL ?? "http://localhost:3000";
const shotsDir = process.env.E2E_SCREENSHOTS ?? path.resolve("test-results/screenshots");
mkdirSync(shotsDir, { recursive: true });

/** Starts headless Chromium with the flags this closed network needs; never downloads one. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh browser context (its own localStorage) with one page. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => {
    throw error;
  });
  return page;
}

/** Signs in through the dev sign-in screen as the given organization, user and role. */
export async function signIn(page, { org, user, role, orgName }) {
  await page.goto(baseUrl + "/");
  await page.getByLabel("Organization id").fill(org);
  if (orgName) await page.getByLabel(/Organization name/).fill(orgName);
  await page.getByLabel("User id").fill(user);
  await page.getByLabel(role === "admin" ? /admin/i : /member/i).check();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
}

/** Saves a full-page screenshot under test-results/screenshots. */
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}

/**
 * Retries `check` (which throws while its condition is unmet) every `interval` ms until it
 * passes or `timeout` ms have passed; then rethrows its last error, prefixed by `what`.
 */
export async function eventually(check, what = "condition", { timeout = 30_000, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        error.message = `${what}: still failing after ${timeout} ms: ${error.message}`;
        throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** The `used` number of a dashboard usage meter, by its label ("Content items", "Crawls this month"). */
export async function meterUsed(page, label) {
  const card = page.getByRole("list", { name: "Usage meters" }).getByRole("listitem", { name: label, exact: true });
  const text = await card.locator(".meter-amount strong").innerText();
  return Number(text.replace(/[^\d]/g, ""));
}
