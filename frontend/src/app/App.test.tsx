import { fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { currentOrganization, jsonResponse, membersPage, problem, problemResponse, usageReport } from "../test/fixtures";
import { App } from "./App";

/** The local server as the app sees it in dev mode, recording each API call's bearer token. */
function fakeLocalServer() {
  const calls: Array<{ path: string; auth: string | null }> = [];
  let minted = 0;
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const path = url.split("?")[0] ?? url;
    if (path === "/api/dev/token") {
      minted += 1;
      const { org } = JSON.parse(String(init.body)) as { org: string };
      return jsonResponse({ token: `${org}-token-${minted}`, expires_at: "2999-01-01T00:00:00Z" });
    }
    const auth = new Headers(init.headers).get("Authorization");
    calls.push({ path, auth });
    if (auth?.startsWith("Bearer org_empty")) {
      return problemResponse(problem({ status: 403, code: "no_active_organization", detail: "No active organization." }));
    }
    if (path === "/api/organizations/current") return jsonResponse(currentOrganization());
    if (path === "/api/organizations/usage") return jsonResponse(usageReport());
    if (path === "/api/organizations/users") return jsonResponse(membersPage());
    return problemResponse(problem({ status: 404, code: "not_found", detail: `No route ${path}` }));
  });
  vi.stubGlobal("fetch", fetch);
  return { calls };
}

afterEach(() => vi.unstubAllGlobals());

describe("App in dev mode", () => {
  it("signs in, loads the dashboard with the minted token, switches organization and signs out", async () => {
    const server = fakeLocalServer();
    render(<App />);

    fireEvent.click(await screen.findByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { level: 2, name: "Acme Inc" })).toBeTruthy();
    expect(await screen.findByRole("region", { name: "Usage warnings" })).toBeTruthy();
    expect(server.calls.length).toBeGreaterThan(0);
    expect(server.calls.every((c) => c.auth === "Bearer org_acme-token-1")).toBe(true);

    // Switch to an organization the API has no membership for.
    fireEvent.click(screen.getByRole("button", { name: /switch organization or user/ }));
    const panel = screen.getByRole("group", { name: "Switch organization or user" });
    fireEvent.change(within(panel).getByLabelText("Organization id"), { target: { value: "org_empty" } });
    fireEvent.click(within(panel).getByRole("button", { name: "Switch" }));

    expect(await screen.findByRole("heading", { level: 1, name: "Choose an organization" })).toBeTruthy();
    expect(screen.getByText("No active organization.")).toBeTruthy();

    // The switcher now remembers both organizations.
    fireEvent.click(screen.getByRole("button", { name: /switch organization or user/ }));
    const recent = within(screen.getByRole("group", { name: "Switch organization or user" }))
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(recent).toEqual(["org_emptyuser_alice · admin", "org_acmeuser_alice · admin"]);

    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
  });
});
