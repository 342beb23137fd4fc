import type { ApiError } from "../../api/client";
import { useAuth } from "../../auth/AuthContext";
import { PageHeader } from "../../components/PageHeader";

/** Shown when the organization has no free seat for this user (API 403 `seat_limit_reached`). */
export function SeatLimitPage({ error, onRetry }: { error?: ApiError; onRetry?: () => void }) {
  const { signOut } = useAuth();
  return (
    <div className="page page-narrow">
      <PageHeader title="This organization's seats are full" />
      <div className="card">
        <p>
          Every seat in this organization is taken, so your account cannot use it yet. Ask one of
          its admins to free a seat (remove a member who no longer needs access) or to raise the
          organization&apos;s user limit.
        </p>
        {error?.detail ? <p className="muted">{error.detail}</p> : null}
        <p>You can also switch to another organization from the menu at the top of the page.</p>
        <div className="button-row">
          {onRetry ? (
            <button type="button" className="button button-primary" onClick={onRetry}>
              Check again
            </button>
          ) : null}
          <button type="button" className="button button-secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </div>
    </div>
  );
}
