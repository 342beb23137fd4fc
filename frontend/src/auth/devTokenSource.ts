// Mints and caches dev tokens for one identity; re-mints shortly before expiry or when asked to
// after a 401. Concurrent callers share one mint.

import { mintDevToken, type TokenOptions } from "../api/client";
import type { DevToken, DevTokenRequest } from "../api/types";
import type { DevIdentity } from "./devIdentity";

/** Re-mint this long before `expires_at`, so a token does not expire in flight. */
export const EXPIRY_MARGIN_MS = 10_000;
/** Lifetime assumed when `expires_at` cannot be parsed. */
const FALLBACK_LIFETIME_MS = 60_000;

export type DevTokenMinter = (request: DevTokenRequest) => Promise<DevToken>;

export function devTokenRequest(identity: DevIdentity): DevTokenRequest {
  const request: DevTokenRequest = { org: identity.org, user: identity.user, role: identity.role };
  if (identity.orgName) request.org_name = identity.orgName;
  return request;
}

export class DevTokenSource {
  private cached: { token: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;
  private readonly identity: DevIdentity;
  private readonly mint: DevTokenMinter;
  private readonly now: () => number;

  constructor(
    identity: DevIdentity,
    options: { mint?: DevTokenMinter; now?: () => number; initial?: DevToken } = {},
  ) {
    this.identity = identity;
    this.mint = options.mint ?? ((request) => mintDevToken(request));
    this.now = options.now ?? Date.now;
    if (options.initial) this.store(options.initial);
  }

  /** Arrow property so it can be handed around as a plain `TokenGetter`. */
  getToken = async (options?: TokenOptions): Promise<string> => {
    if (this.pending) return this.pending;
    if (!options?.forceRefresh && this.cached && this.cached.expiresAt - EXPIRY_MARGIN_MS > this.now()) {
      return this.cached.token;
    }
    this.cached = null;
    this.pending = this.mint(devTokenRequest(this.identity))
      .then((minted) => this.store(minted))
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  };

  private store(minted: DevToken): string {
    const parsed = Date.parse(minted.expires_at);
    const expiresAt = Number.isNaN(parsed) ? this.now() + FALLBACK_LIFETIME_MS : parsed;
    this.cached = { token: minted.token, expiresAt };
    return minted.token;
  }
}
