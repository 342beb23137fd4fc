import { createContext, useContext } from "react";
import type { DevIdentity } from "./devIdentity";

/** Dev-mode extras beyond `Auth`: the identity and ways to change it. */
export interface DevAuth {
  identity: DevIdentity | null;
  recent: DevIdentity[];
  /** Mint a token for `identity` (so a refusal is shown where it was asked) and switch to it. */
  switchTo: (identity: DevIdentity) => Promise<void>;
  signOut: () => void;
}

export const DevAuthContext = createContext<DevAuth | null>(null);

export function useDevAuth(): DevAuth {
  const dev = useContext(DevAuthContext);
  if (!dev) throw new Error("useDevAuth must be used inside <DevAuthProvider>");
  return dev;
}
