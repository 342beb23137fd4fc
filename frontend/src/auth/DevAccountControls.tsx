// Header controls in dev mode: switch organization, user or role; sign out.

import { useEffect, useId, useRef, useState } from "react";
import { errorDetail } from "../components/StateViews";
import { useDevAuth } from "./DevAuthContext";
import { DevIdentityForm } from "./DevIdentityForm";
import { sameDevIdentity, type DevIdentity } from "./devIdentity";
import "./dev.css";

export function DevAccountControls() {
  const { identity, recent, switchTo, signOut } = useDevAuth();
  const [open, setOpen] = useState(false);
  const [switchError, setSwitchError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const toggleRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        toggleRef.current?.focus();
      }
    };
    const onPointerDown = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("pointerdown", onPointerDown);
    return () => {
      document.removeEventListener("keydown", onKeyDown);
      document.removeEventListener("pointerdown", onPointerDown);
    };
  }, [open]);

  if (!identity) return null;

  async function choose(next: DevIdentity) {
    setSwitchError(null);
    setPending(true);
    try {
      await switchTo(next);
      setOpen(false);
    } catch (error) {
      setSwitchError(errorDetail(error));
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="account-controls" ref={rootRef}>
      <div className="popover-anchor">
        <button
          ref={toggleRef}
          type="button"
          className="org-switcher-toggle"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((o) => !o)}
        >
          <span className="org-switcher-org">{identity.orgName || identity.org}</span>
          <span className="org-switcher-user">
            {identity.user} · {identity.role}
          </span>
          <span className="sr-only">, switch organization or user</span>
        </button>
        {open ? (
          <div id={panelId} className="popover" role="group" aria-label="Switch organization or user">
            <p className="popover-title">
              Recent <span className="dev-tag">dev sign-in</span>
            </p>
            <ul className="identity-list">
              {recent.map((item) => {
                const current = sameDevIdentity(item, identity);
                return (
                  <li key={`${item.org}:${item.user}`}>
                    <button
                      type="button"
                      className="identity-option"
                      aria-current={current ? "true" : undefined}
                      disabled={pending || current}
                      onClick={() => choose(item)}
                    >
                      <span className="identity-org">{item.orgName || item.org}</span>
                      <span className="identity-meta">
                        {item.orgName ? `${item.org} · ` : ""}
                        {item.user} · {item.role}
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
            {switchError ? (
              <p className="form-error" role="alert">
                {switchError}
              </p>
            ) : null}
            <details className="popover-details">
              <summary>Another organization, user or role</summary>
              <DevIdentityForm
                initial={identity}
                submitLabel="Switch"
                pendingLabel="Switching…"
                onSubmit={async (next) => {
                  await switchTo(next);
                  setOpen(false);
                }}
              />
            </details>
          </div>
        ) : null}
      </div>
      <button type="button" className="button button-ghost" onClick={signOut}>
        Sign out
      </button>
    </div>
  );
}
