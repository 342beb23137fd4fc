import type { ReactNode } from "react";
import { isApiError, ProblemCode } from "../api/client";
import { useCurrentOrganization } from "../api/queries";
import { ErrorState, LoadingState } from "../components/StateViews";
import { NoOrganizationPage } from "../pages/NoOrganization/NoOrganizationPage";
import { SeatLimitPage } from "../pages/SeatLimit/SeatLimitPage";

/**
 * Renders the app only once the API accepts the session for an organization. The API refuses
 * every call with 403 `no_active_organization` or `seat_limit_reached` in those cases, so asking
 * for the current organization is enough to tell.
 */
export function OrganizationGate({ children }: { children: ReactNode }) {
  const current = useCurrentOrganization();
  const error = current.error;
  const retry = () => void current.refetch();

  if (isApiError(error) && error.code === ProblemCode.NoActiveOrganization) {
    return <NoOrganizationPage error={error} onRetry={retry} />;
  }
  if (isApiError(error) && error.code === ProblemCode.SeatLimitReached) {
    return <SeatLimitPage error={error} onRetry={retry} />;
  }
  if (current.isPending) return <LoadingState label="Loading your organization…" />;
  if (current.isError && !current.data) {
    return <ErrorState error={error} title="Could not load your organization" onRetry={retry} />;
  }
  return <>{children}</>;
}
