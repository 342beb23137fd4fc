// Shared pieces of the end-to-end tests: Debian's Chromium driven by playwright-core against
// a running `voiceforge serve` (scripts/e2e starts one and sets E2E_BASE_URL).
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
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

/**
 * Signs in through the dev sign-in screen as the given organization, user and role; `base` is
 * the server's address when the test runs one of its own (the sign-in is kept per origin).
 */
export async function signIn(page, { org, user, role, orgName }, base = baseUrl) {
  await page.goto(base + "/");
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

/** A TCP port free on loopback right now. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a `voiceforge serve` of the test's own, for settings the shared server does not have
 * (`env`, e.g. `{ VECTOR_OUTBOX_WORKER: "false" }`) or to restart one: stop it, then start
 * another with the same `dataDir` (its dev signing key, so tokens stay valid), database and
 * `port` (so an open page keeps its origin and sign-in). scripts/e2e names the binary and a
 * migrated database the shared server never touches (E2E_OWN_DATABASE_URL).
 */
export async function startServer({ dataDir, port, env = {}, databaseUrl = process.env.E2E_OWN_DATABASE_URL }) {
  const bin = process.env.E2E_SERVER_BIN;
  if (!bin || !databaseUrl) throw new Error("E2E_SERVER_BIN and E2E_OWN_DATABASE_URL are unset: run through scripts/e2e");
  port ??= await freePort();
  const log = path.join(dataDir, `serve-${port}-${Date.now()}.log`);
  const out = openSync(log, "a");
  const child = spawn(bin, ["serve", "--port", String(port), "--frontend-dir", process.env.E2E_FRONTEND_DIR ?? "dist"], {
    env: { ...process.env, DATABASE_URL: databaseUrl, VOICEFORGE_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  const url = `http://127.0.0.1:${port}`;
  const logTail = () => readFileSync(log, "utf8").split("\n").slice(-40).join("\n");

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`voiceforge serve on port ${port} exited (${await exited}):\n${logTail()}`);
    }
    const up = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() >= deadline) {
      child.kill("SIGKILL");
      throw new Error(`voiceforge serve on port ${port} did not answer /api/health within 60 s:\n${logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    url,
    port,
    logTail,
    /** Stops the server (SIGTERM, then SIGKILL after 10 s) and waits until it has exited. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
