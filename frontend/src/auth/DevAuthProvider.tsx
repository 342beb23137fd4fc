// Local dev sign-in: tokens come from the local server's dev issuer (POST /api/dev/token).

import { useCallback, useMemo, useState, type ReactNode } from "react";
import { mintDevToken } from "../api/client";
import type { DevToken } from "../api/types";
import { DevSignInPage } from "../pages/SignIn/DevSignInPage";
import { AuthContext, type Auth } from "./AuthContext";
import { DevAccountControls } from "./DevAccountControls";
import { DevAuthContext, type DevAuth } from "./DevAuthContext";
import { DevIdentityForm } from "./DevIdentityForm";
import {
  clearDevIdentity,
  DEFAULT_DEV_IDENTITY,
  devIdentityKey,
  loadDevIdentity,
  loadRecentDevIdentities,
  saveDevIdentity,
  type DevIdentity,
} from "./devIdentity";
import { devTokenRequest, DevTokenSource } from "./devTokenSource";

interface Session {
  identity: DevIdentity;
  /** Token minted while signing in, so the first API call need not mint again. */
  initial?: DevToken;
}

export function DevAuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => {
    const identity = loadDevIdentity();
    return identity ? { identity } : null;
  });
  const [recent, setRecent] = useState(loadRecentDevIdentities);

  const switchTo = useCallback(async (identity: DevIdentity) => {
    const initial = await mintDevToken(devTokenRequest(identity));
    saveDevIdentity(identity);
    setRecent(loadRecentDevIdentities());
    setSession({ identity, initial });
  }, []);

  const signOut = useCallback(() => {
    clearDevIdentity();
    setSession(null);
  }, []);

  const source = useMemo(
    () => (session ? new DevTokenSource(session.identity, { initial: session.initial }) : null),
    [session],
  );

  const dev = useMemo<DevAuth>(
    () => ({ identity: session?.identity ?? null, recent, switchTo, signOut }),
    [session, recent, switchTo, signOut],
  );

  const auth = useMemo<Auth | null>(() => {
    if (!session || !source) return null;
    return {
      mode: "dev",
      identityKey: devIdentityKey(session.identity),
      getToken: source.getToken,
      accountControls: <DevAccountControls />,
      organizationPicker: (
        <DevIdentityForm
          initial={{ ...session.identity, org: "", orgName: "" }}
          submitLabel="Use this organization"
          pendingLabel="Switching…"
          onSubmit={switchTo}
        />
      ),
      signOut,
    };
  }, [session, source, switchTo, signOut]);

  return (
    <DevAuthContext.Provider value={dev}>
      {auth ? (
        <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>
      ) : (
        <DevSignInPage initial={recent[0] ?? DEFAULT_DEV_IDENTITY} />
      )}
    </DevAuthContext.Provider>
  );
}
