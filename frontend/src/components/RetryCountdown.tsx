import { useEffect, useState } from "react";
import { isApiError } from "../api/client";

/**
 * Seconds left before an action refused with 429 may be tried again, from the answer's
 * `Retry-After`; 0 when it may (or when the error is not a 429 that said when).
 */
export function useRetryCountdown(error: unknown): number {
  const retryAfter = isApiError(error) && error.status === 429 ? error.retryAfter : null;
  const [left, setLeft] = useState(retryAfter ?? 0);
  useEffect(() => {
    if (retryAfter === null) {
      setLeft(0);
      return;
    }
    const until = Date.now() + retryAfter * 1000;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setLeft(seconds);
      if (seconds === 0) clearInterval(timer);
    };
    const timer = setInterval(tick, 250);
    tick();
    return () => clearInterval(timer);
    // A new error (even with the same number) starts a new countdown.
  }, [error, retryAfter]);
  return left;
}

/** "Try again in N s" while a countdown runs; nothing once it has reached 0. */
export function RetryCountdown({ seconds }: { seconds: number }) {
  if (seconds <= 0) return null;
  return (
    <p className="field-hint retry-countdown">
      Too many requests just now. You can try again in <strong>{seconds} s</strong>.
    </p>
  );
}
