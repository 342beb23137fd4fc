import { useRouteError } from "react-router";
import { ErrorState } from "../components/StateViews";

/** Last resort for a render error anywhere in the app. */
export function RouteErrorPage() {
  const error = useRouteError();
  return (
    <main className="full-page-center" id="main">
      <div className="auth-card">
        <ErrorState
          error={error}
          title="VoiceForge hit an unexpected error"
          onRetry={() => window.location.reload()}
        />
      </div>
    </main>
  );
}
