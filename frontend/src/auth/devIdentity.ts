// The local dev sign-in identity, kept in localStorage (shared by tabs, survives reloads) with a
// per-tab sessionStorage override, so two tabs can act as two users or organizations.

import type { Role } from "../api/types";

export interface DevIdentity {
  org: string;
  user: string;
  role: Role;
  orgName?: string;
}

export const DEFAULT_DEV_IDENTITY: DevIdentity = { org: "org_acme", user: "user_alice", role: "admin" };

const IDENTITY_KEY = "voiceforge.dev.identity";
const RECENT_KEY = "voiceforge.dev.recent";
const MAX_RECENT = 8;

export function loadDevIdentity(): DevIdentity | null {
  return parseIdentity(read(sessionStorageOrNull(), IDENTITY_KEY)) ?? parseIdentity(read(localStorageOrNull(), IDENTITY_KEY));
}

/** Make `identity` current in this tab and the default for new tabs, and remember it. */
export function saveDevIdentity(identity: DevIdentity): void {
  const json = JSON.stringify(identity);
  write(sessionStorageOrNull(), IDENTITY_KEY, json);
  write(localStorageOrNull(), IDENTITY_KEY, json);
  rememberDevIdentity(identity);
}

export function clearDevIdentity(): void {
  remove(sessionStorageOrNull(), IDENTITY_KEY);
  remove(localStorageOrNull(), IDENTITY_KEY);
}

/** Recently used identities, newest first, one per organization and user. */
export function loadRecentDevIdentities(): DevIdentity[] {
  const raw = read(localStorageOrNull(), RECENT_KEY);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.map(parseIdentityValue).filter((i): i is DevIdentity => i !== null);
  } catch {
    return [];
  }
}

export function rememberDevIdentity(identity: DevIdentity): DevIdentity[] {
  const recent = [
    identity,
    ...loadRecentDevIdentities().filter((i) => !(i.org === identity.org && i.user === identity.user)),
  ].slice(0, MAX_RECENT);
  write(localStorageOrNull(), RECENT_KEY, JSON.stringify(recent));
  return recent;
}

export function devIdentityKey(identity: DevIdentity): string {
  return `dev:${identity.org}:${identity.user}:${identity.role}`;
}

export function sameDevIdentity(a: DevIdentity, b: DevIdentity): boolean {
  return a.org === b.org && a.user === b.user && a.role === b.role;
}

function parseIdentity(raw: string | null): DevIdentity | null {
  if (!raw) return null;
  try {
    return parseIdentityValue(JSON.parse(raw));
  } catch {
    return null;
  }
}

function parseIdentityValue(value: unknown): DevIdentity | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (typeof v.org !== "string" || !v.org || typeof v.user !== "string" || !v.user) return null;
  const role: Role = v.role === "admin" ? "admin" : "member";
  const identity: DevIdentity = { org: v.org, user: v.user, role };
  if (typeof v.orgName === "string" && v.orgName) identity.orgName = v.orgName;
  return identity;
}

// Storage can be unavailable (privacy modes, quota); dev sign-in then lasts for the page only.
function localStorageOrNull(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function sessionStorageOrNull(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function read(storage: Storage | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(storage: Storage | null, key: string, value: string): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Ignore: see above.
  }
}

function remove(storage: Storage | null, key: string): void {
  try {
    storage?.removeItem(key);
  } catch {
    // Ignore: see above.
  }
}
