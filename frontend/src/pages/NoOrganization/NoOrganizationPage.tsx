import type { ApiError } from "../../api/client";
import { useAuth } from "../../auth/AuthContext";
import { PageHeader } from "../../components/PageHeader";

/** Shown when the session has no active organization (API 403 `no_active_organization`). */
export function NoOrganizationPage({ error, onRetry }: { error?: ApiError; onRetry?: () => void }) {
  const { mode, organizationPicker } = useAuth();
  return (
    <div className="page page-narrow">
      <PageHeader title="Choose an organization" />
      <div className="card">
        <p>
          VoiceForge keeps every organization&apos;s content, brand voice and usage separate, so you
          need an active organization to continue.
        </p>
        {error?.detail ? <p className="muted">{error.detail}</p> : null}
        <ul className="steps">
          <li>
            <strong>Create an organization</strong> for your company: you become its admin and can
            invite your teammates.
          </li>
          <li>
            <strong>Join an existing one</strong>: ask one of its admins to invite you, then accept
            the invitation sent to your email.
          </li>
          <li>
            <strong>Already a member?</strong> Pick the organization below to make it active.
          </li>
        </ul>
        <div className="org-picker">
          {mode === "dev" ? <h2 className="card-title">Sign in to an organization</h2> : null}
          {organizationPicker}
        </div>
        {onRetry ? (
          <button type="button" className="button button-secondary" onClick={onRetry}>
            Check again
          </button>
        ) : null}
      </div>
    </div>
  );
}
