// Clerk mode. Loaded with a dynamic import (see AuthProvider) so builds without a publishable
// key never download Clerk.

import { ClerkProvider, OrganizationSwitcher, UserButton, useAuth as useClerkAuth } from "@clerk/react";
import { useCallback, useMemo, useRef, type ReactNode } from "react";
import { useNavigate } from "react-router";
import type { TokenGetter } from "../api/client";
import { FullPageLoading } from "../components/StateViews";
import { ClerkSignInPage } from "../pages/SignIn/ClerkSignInPage";
import { AuthContext, type Auth } from "./AuthContext";

export default function ClerkAuthProvider({
  publishableKey,
  children,
}: {
  publishableKey: string;
  children: ReactNode;
}) {
  const navigate = useNavigate();
  return (
    <ClerkProvider
      publishableKey={publishableKey}
      routerPush={(to) => navigate(to)}
      routerReplace={(to) => navigate(to, { replace: true })}
      afterSignOutUrl="/"
    >
      <ClerkSession>{children}</ClerkSession>
    </ClerkProvider>
  );
}

function ClerkSession({ children }: { children: ReactNode }) {
  const { isLoaded, isSignedIn, userId, orgId, orgRole, getToken, signOut } = useClerkAuth();

  // Clerk caches its 60-second session tokens and refreshes them; skip the cache after a 401.
  const tokenGetter = useCallback<TokenGetter>(
    (options) => getToken(options?.forceRefresh ? { skipCache: true } : undefined),
    [getToken],
  );

  const auth = useMemo<Auth>(
    () => ({
      mode: "clerk",
      identityKey: `clerk:${userId ?? "-"}:${orgId ?? "-"}:${orgRole ?? "-"}`,
      getToken: tokenGetter,
      accountControls: (
        <div className="account-controls">
          <OrganizationSwitcher hidePersonal />
          <UserButton />
        </div>
      ),
      organizationPicker: <OrganizationSwitcher hidePersonal />,
      signOut: () => signOut(),
    }),
    [userId, orgId, orgRole, tokenGetter, signOut],
  );

  // Clerk reports "not loaded" again while switching organization; keep the app on screen with
  // the previous session until the switch completes instead of flashing a loading page.
  const lastSignedIn = useRef<Auth | null>(null);
  if (isLoaded) lastSignedIn.current = isSignedIn ? auth : null;

  const shown = isLoaded ? (isSignedIn ? auth : null) : lastSignedIn.current;
  if (shown) return <AuthContext.Provider value={shown}>{children}</AuthContext.Provider>;
  if (!isLoaded) return <FullPageLoading label="Loading your session…" />;
  return <ClerkSignInPage />;
}
