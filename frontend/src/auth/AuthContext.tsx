import { createContext, useContext, type ReactNode } from "react";
import type { TokenGetter } from "../api/client";

/** What the app needs from either sign-in mode (Clerk or local dev); nothing else is mode-specific. */
export interface Auth {
  mode: "clerk" | "dev";
  /** Changes whenever the user, active organization or role changes; cached data is scoped to it. */
  identityKey: string;
  /** Bearer token for the API; `forceRefresh` after a 401. */
  getToken: TokenGetter;
  /** Header controls: organization switcher and user menu. */
  accountControls: ReactNode;
  /** Lets the user pick or create an organization (shown when none is active). */
  organizationPicker: ReactNode;
  signOut: () => void | Promise<void>;
}

export const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth must be used inside an auth provider");
  return auth;
}
