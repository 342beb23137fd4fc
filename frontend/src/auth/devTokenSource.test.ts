import { describe, expect, it, vi } from "vitest";
import { createApiClient } from "../api/client";
import type { DevToken, DevTokenRequest } from "../api/types";
import { jsonResponse, problem, problemResponse, usageReport } from "../test/fixtures";
import type { DevIdentity } from "./devIdentity";
import { DevTokenSource, EXPIRY_MARGIN_MS } from "./devTokenSource";

const alice: DevIdentity = { org: "org_acme", user: "user_alice", role: "admin", orgName: "Acme Inc" };
const T0 = Date.parse("2026-11-29T10:00:00Z");

function minter(lifetimeMs = 60_000, now = () => T0) {
  let count = 0;
  const mint = vi.fn(async (_request: DevTokenRequest): Promise<DevToken> => {
    count += 1;
    return { token: `dev-${count}`, expires_at: new Date(now() + lifetimeMs).toISOString() };
  });
  return mint;
}

describe("dev mode: 401 re-mints once and retries", () => {
  it("mints through POST /api/dev/token, re-mints after a 401 and retries with the new token", async () => {
    const seen: string[] = [];
    let minted = 0;
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url === "/api/dev/token") {
        minted += 1;
        expect(JSON.parse(String(init.body))).toEqual({
          org: "org_acme",
          user: "user_alice",
          role: "admin",
          org_name: "Acme Inc",
        });
        return jsonResponse({ token: `dev-${minted}`, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
      }
      const auth = new Headers(init.headers).get("Authorization") ?? "";
      seen.push(auth);
      // The server has restarted with a new dev key: the first token no longer verifies.
      return auth === "Bearer dev-1"
        ? problemResponse(problem({ status: 401, code: "invalid_token", detail: "Unknown key." }))
        : jsonResponse(usageReport());
    });
    vi.stubGlobal("fetch", fetch);
    try {
      const source = new DevTokenSource(alice);
      const api = createApiClient({ getToken: source.getToken });

      const report = await api.getUsage();

      expect(report.period).toBe("2026-11");
      expect(minted).toBe(2);
      expect(seen).toEqual(["Bearer dev-1", "Bearer dev-2"]);

      // The re-minted token is cached for the next call.
      await api.getUsage();
      expect(minted).toBe(2);
      expect(seen.at(-1)).toBe("Bearer dev-2");
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("does not loop when the fresh token is refused too", async () => {
    const mint = minter();
    const source = new DevTokenSource(alice, { mint, now: () => T0 });
    const fetch = vi.fn(async () => problemResponse(problem({ status: 401, code: "invalid_token" })));
    const api = createApiClient({ getToken: source.getToken, fetch });

    await expect(api.getCurrentOrganization()).rejects.toMatchObject({ status: 401 });
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(mint).toHaveBeenCalledTimes(2);
  });
});

describe("DevTokenSource", () => {
  it("reuses a token until shortly before it expires, then mints a new one", async () => {
    let now = T0;
    const mint = minter(60_000, () => now);
    const source = new DevTokenSource(alice, { mint, now: () => now });

    expect(await source.getToken()).toBe("dev-1");
    now = T0 + 60_000 - EXPIRY_MARGIN_MS - 1;
    expect(await source.getToken()).toBe("dev-1");
    now = T0 + 60_000 - EXPIRY_MARGIN_MS;
    expect(await source.getToken()).toBe("dev-2");
    expect(mint).toHaveBeenCalledTimes(2);
    expect(mint).toHaveBeenCalledWith({ org: "org_acme", user: "user_alice", role: "admin", org_name: "Acme Inc" });
  });

  it("starts from the token minted at sign-in", async () => {
    const mint = minter();
    const initial = { token: "from-sign-in", expires_at: new Date(T0 + 60_000).toISOString() };
    const source = new DevTokenSource(alice, { mint, now: () => T0, initial });

    expect(await source.getToken()).toBe("from-sign-in");
    expect(mint).not.toHaveBeenCalled();
    expect(await source.getToken({ forceRefresh: true })).toBe("dev-1");
  });

  it("shares one mint between concurrent callers", async () => {
    const mint = minter();
    const source = new DevTokenSource(alice, { mint, now: () => T0 });

    const tokens = await Promise.all([source.getToken(), source.getToken(), source.getToken()]);

    expect(tokens).toEqual(["dev-1", "dev-1", "dev-1"]);
    expect(mint).toHaveBeenCalledTimes(1);
  });

  it("mints again after a failed mint", async () => {
    const mint = vi
      .fn<(r: DevTokenRequest) => Promise<DevToken>>()
      .mockRejectedValueOnce(new Error("server down"))
      .mockResolvedValueOnce({ token: "dev-ok", expires_at: new Date(T0 + 60_000).toISOString() });
    const source = new DevTokenSource(alice, { mint, now: () => T0 });

    await expect(source.getToken()).rejects.toThrow("server down");
    expect(await source.getToken()).toBe("dev-ok");
  });

  it("assumes a short lifetime when expires_at does not parse", async () => {
    let now = T0;
    const mint = vi.fn(async (): Promise<DevToken> => ({ token: `dev-${mint.mock.calls.length}`, expires_at: "soon" }));
    const source = new DevTokenSource(alice, { mint, now: () => now });

    expect(await source.getToken()).toBe("dev-1");
    now = T0 + 60_000;
    expect(await source.getToken()).toBe("dev-2");
  });
});
