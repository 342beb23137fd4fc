// Choose an organization, user and role for local dev sign-in (sign-in page and header switcher).

import { useId, useRef, useState, type FormEvent } from "react";
import type { Role } from "../api/types";
import { errorDetail } from "../components/StateViews";
import type { DevIdentity } from "./devIdentity";

type Field = "org" | "user";

// The local server's dev issuer accepts these ids (docs/API.md, POST /api/dev/token).
const ORG_ID = /^org_[A-Za-z0-9_-]{1,64}$/;
const USER_ID = /^user_[A-Za-z0-9_-]{1,64}$/;

export function DevIdentityForm({
  initial,
  submitLabel,
  pendingLabel,
  onSubmit,
}: {
  initial: DevIdentity;
  submitLabel: string;
  pendingLabel: string;
  onSubmit: (identity: DevIdentity) => Promise<void>;
}) {
  const id = useId();
  const [org, setOrg] = useState(initial.org);
  const [orgName, setOrgName] = useState(initial.orgName ?? "");
  const [user, setUser] = useState(initial.user);
  const [role, setRole] = useState<Role>(initial.role);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const orgRef = useRef<HTMLInputElement>(null);
  const userRef = useRef<HTMLInputElement>(null);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const errors: Partial<Record<Field, string>> = {};
    const orgId = org.trim();
    const userId = user.trim();
    if (!orgId) errors.org = "Enter an organization id.";
    else if (!ORG_ID.test(orgId)) errors.org = `Use "org_" and then up to 64 letters, digits, "_" or "-".`;
    if (!userId) errors.user = "Enter a user id.";
    else if (!USER_ID.test(userId)) errors.user = `Use "user_" and then up to 64 letters, digits, "_" or "-".`;
    setFieldErrors(errors);
    setSubmitError(null);
    if (errors.org) return orgRef.current?.focus();
    if (errors.user) return userRef.current?.focus();

    const identity: DevIdentity = { org: orgId, user: userId, role };
    if (orgName.trim()) identity.orgName = orgName.trim();
    setPending(true);
    try {
      await onSubmit(identity);
    } catch (error) {
      setSubmitError(errorDetail(error));
      setPending(false);
      return;
    }
    setPending(false);
  }

  return (
    <form className="form" onSubmit={handleSubmit} noValidate aria-busy={pending}>
      <div className="field">
        <label htmlFor={`${id}-org`}>Organization id</label>
        <input
          id={`${id}-org`}
          ref={orgRef}
          name="org"
          value={org}
          onChange={(e) => setOrg(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          required
          aria-invalid={fieldErrors.org ? true : undefined}
          aria-describedby={`${id}-org-hint${fieldErrors.org ? ` ${id}-org-error` : ""}`}
        />
        <p className="field-hint" id={`${id}-org-hint`}>
          A Clerk-style id such as <code>org_acme</code>.
        </p>
        {fieldErrors.org ? (
          <p className="field-error" id={`${id}-org-error`}>
            {fieldErrors.org}
          </p>
        ) : null}
      </div>

      <div className="field">
        <label htmlFor={`${id}-org-name`}>
          Organization name <span className="optional">(optional)</span>
        </label>
        <input
          id={`${id}-org-name`}
          name="org_name"
          value={orgName}
          onChange={(e) => setOrgName(e.target.value)}
          autoComplete="organization"
          aria-describedby={`${id}-org-name-hint`}
        />
        <p className="field-hint" id={`${id}-org-name-hint`}>
          Used when the organization is created.
        </p>
      </div>

      <div className="field">
        <label htmlFor={`${id}-user`}>User id</label>
        <input
          id={`${id}-user`}
          ref={userRef}
          name="user"
          value={user}
          onChange={(e) => setUser(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          required
          aria-invalid={fieldErrors.user ? true : undefined}
          aria-describedby={`${id}-user-hint${fieldErrors.user ? ` ${id}-user-error` : ""}`}
        />
        <p className="field-hint" id={`${id}-user-hint`}>
          A Clerk-style id such as <code>user_alice</code>.
        </p>
        {fieldErrors.user ? (
          <p className="field-error" id={`${id}-user-error`}>
            {fieldErrors.user}
          </p>
        ) : null}
      </div>

      <fieldset className="field">
        <legend>Role</legend>
        <div className="radio-row">
          {(["admin", "member"] as const).map((value) => (
            <label key={value} className="radio">
              <input
                type="radio"
                name={`${id}-role`}
                value={value}
                checked={role === value}
                onChange={() => setRole(value)}
              />
              {value === "admin" ? "Admin" : "Member"}
            </label>
          ))}
        </div>
      </fieldset>

      {submitError ? (
        <p className="form-error" role="alert">
          {submitError}
        </p>
      ) : null}

      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? pendingLabel : submitLabel}
      </button>
    </form>
  );
}
