// Loading, empty and error states shared by every view.

import type { ReactNode } from "react";
import { isApiError } from "../api/client";

export function LoadingState({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function FullPageLoading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="full-page-center">
      <LoadingState label={label} />
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <div className="state-body">{children}</div> : null}
    </div>
  );
}

/** Shows the API problem's `detail` (and request id, for support) with an optional retry. */
export function ErrorState({
  error,
  title = "Something went wrong",
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const detail = errorDetail(error);
  const requestId = isApiError(error) ? error.requestId : undefined;
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      <p className="state-body">{detail}</p>
      {requestId ? <p className="state-meta">Request id: <code>{requestId}</code></p> : null}
      {onRetry ? (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function errorDetail(error: unknown): string {
  if (isApiError(error)) return error.detail || error.title;
  if (error instanceof Error && error.message) return error.message;
  return "An unexpected error occurred.";
}
