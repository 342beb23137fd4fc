import { lazy, Suspense, type ReactNode } from "react";
import { FullPageLoading } from "../components/StateViews";
import { DevAuthProvider } from "./DevAuthProvider";

const clerkPublishableKey = import.meta.env.VITE_CLERK_PUBLISHABLE_KEY;

// A separate chunk, fetched only when a publishable key is configured.
const ClerkAuthProvider = lazy(() => import("./ClerkAuthProvider"));

/** Clerk when `VITE_CLERK_PUBLISHABLE_KEY` is set, local dev sign-in otherwise. */
export function AuthProvider({ children }: { children: ReactNode }) {
  if (clerkPublishableKey) {
    return (
      <Suspense fallback={<FullPageLoading label="Loading sign-in…" />}>
        <ClerkAuthProvider publishableKey={clerkPublishableKey}>{children}</ClerkAuthProvider>
      </Suspense>
    );
  }
  return <DevAuthProvider>{children}</DevAuthProvider>;
}
