import { describe, expect, it } from "vitest";
import {
  clearDevIdentity,
  loadDevIdentity,
  loadRecentDevIdentities,
  rememberDevIdentity,
  saveDevIdentity,
  type DevIdentity,
} from "./devIdentity";

const alice: DevIdentity = { org: "org_acme", user: "user_alice", role: "admin", orgName: "Acme" };
const bob: DevIdentity = { org: "org_globex", user: "user_bob", role: "member" };

describe("dev identity storage", () => {
  it("saves to this tab and as the default for new tabs", () => {
    saveDevIdentity(alice);
    expect(loadDevIdentity()).toEqual(alice);

    // A new tab has an empty sessionStorage and falls back to localStorage.
    window.sessionStorage.clear();
    expect(loadDevIdentity()).toEqual(alice);
  });

  it("lets this tab's identity override the shared one", () => {
    saveDevIdentity(alice);
    window.sessionStorage.setItem("voiceforge.dev.identity", JSON.stringify(bob));
    expect(loadDevIdentity()).toEqual(bob);
  });

  it("forgets the identity on sign-out but keeps the recent list", () => {
    saveDevIdentity(alice);
    clearDevIdentity();
    expect(loadDevIdentity()).toBeNull();
    expect(loadRecentDevIdentities()).toEqual([alice]);
  });

  it("ignores unreadable stored values", () => {
    window.localStorage.setItem("voiceforge.dev.identity", "{not json");
    window.localStorage.setItem("voiceforge.dev.recent", JSON.stringify([{ org: "" }, bob, 7]));
    expect(loadDevIdentity()).toBeNull();
    expect(loadRecentDevIdentities()).toEqual([bob]);
  });

  it("keeps recent identities newest first, one per organization and user", () => {
    rememberDevIdentity(alice);
    rememberDevIdentity(bob);
    const aliceAsMember: DevIdentity = { ...alice, role: "member" };
    const recent = rememberDevIdentity(aliceAsMember);
    expect(recent).toEqual([aliceAsMember, bob]);
    expect(loadRecentDevIdentities()).toEqual([aliceAsMember, bob]);
  });

  it("remembers at most eight identities", () => {
    for (let i = 0; i < 10; i++) rememberDevIdentity({ org: `org_${i}`, user: "user_alice", role: "admin" });
    const recent = loadRecentDevIdentities();
    expect(recent).toHaveLength(8);
    expect(recent[0]?.org).toBe("org_9");
    expect(recent.at(-1)?.org).toBe("org_2");
  });
});
