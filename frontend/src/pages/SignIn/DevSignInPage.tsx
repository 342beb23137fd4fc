// Local development sign-in: pick an organization, user and role; the local API server mints
// a Clerk-shaped token for them.

import { useState } from "react";
import { DevIdentityForm } from "../../auth/DevIdentityForm";
import { useDevAuth } from "../../auth/DevAuthContext";
import type { DevIdentity } from "../../auth/devIdentity";
import { errorDetail } from "../../components/StateViews";
import { useDocumentTitle } from "../../components/PageHeader";
import "../../auth/dev.css";

export function DevSignInPage({ initial }: { initial: DevIdentity }) {
  useDocumentTitle("Sign in");
  const { recent, switchTo } = useDevAuth();
  const [recentError, setRecentError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function continueAs(identity: DevIdentity) {
    setRecentError(null);
    setPending(true);
    try {
      await switchTo(identity);
    } catch (error) {
      setRecentError(errorDetail(error));
      setPending(false);
    }
  }

  return (
    <main className="auth-screen" id="main">
      <div className="auth-card">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">V</span> VoiceForge
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          Local development sign-in: the local API server issues a token for the organization, user
          and role you choose. Set <code>VITE_CLERK_PUBLISHABLE_KEY</code> to sign in with Clerk
          instead.
        </p>

        {recent.length > 0 ? (
          <section className="auth-recent" aria-labelledby="recent-heading">
            <h2 id="recent-heading">Continue as</h2>
            <ul className="identity-list">
              {recent.map((identity) => (
                <li key={`${identity.org}:${identity.user}`}>
                  <button
                    type="button"
                    className="identity-option"
                    disabled={pending}
                    onClick={() => continueAs(identity)}
                  >
                    <span className="identity-org">{identity.orgName || identity.org}</span>
                    <span className="identity-meta">
                      {identity.orgName ? `${identity.org} · ` : ""}
                      {identity.user} · {identity.role}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
            {recentError ? (
              <p className="form-error" role="alert">
                {recentError}
              </p>
            ) : null}
            <h2 className="auth-or">Or choose another identity</h2>
          </section>
        ) : null}

        <DevIdentityForm initial={initial} submitLabel="Sign in" pendingLabel="Signing in…" onSubmit={switchTo} />
      </div>
    </main>
  );
}
