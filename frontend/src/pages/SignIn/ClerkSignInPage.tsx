// Clerk's hosted sign-in form; only loaded in Clerk mode (see auth/ClerkAuthProvider).

import { SignIn } from "@clerk/react";
import { useDocumentTitle } from "../../components/PageHeader";

export function ClerkSignInPage() {
  useDocumentTitle("Sign in");
  return (
    <main className="auth-screen" id="main">
      <h1 className="sr-only">Sign in to VoiceForge</h1>
      <SignIn routing="hash" />
    </main>
  );
}
