import { useId, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { isApiError } from "../../api/client";
import { useAuditEvents, useCurrentOrganization } from "../../api/queries";
import type { AuditEvent, AuditFilter } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime } from "../../format";
import "./audit.css";

/** Actions the API documents, offered as suggestions; any other action or prefix also works. */
const KNOWN_ACTIONS = [
  "membership.*",
  "membership.created",
  "membership.updated",
  "membership.deleted",
  "organization.*",
  "organization.created",
  "organization.updated",
  "limits.updated",
  "crawl.*",
  "content.*",
];

export function AuditPage() {
  const current = useCurrentOrganization();
  const [params, setParams] = useSearchParams();
  const filter: AuditFilter = {
    action: params.get("action") ?? undefined,
    actor: params.get("actor") ?? undefined,
  };
  const isAdmin = current.data?.role === "admin";
  const events = useAuditEvents(filter, { enabled: isAdmin });

  const applyFilter = (next: AuditFilter) => {
    const search = new URLSearchParams();
    if (next.action) search.set("action", next.action);
    if (next.actor) search.set("actor", next.actor);
    setParams(search);
  };

  let body;
  if (current.isPending) {
    body = <LoadingState label="Loading…" />;
  } else if (!current.data) {
    body = (
      <ErrorState error={current.error} title="Could not load your organization" onRetry={() => void current.refetch()} />
    );
  } else if (!isAdmin || (isApiError(events.error) && events.error.code === "admin_required")) {
    body = <AdminsOnly />;
  } else {
    body = (
      <>
        <AuditFilterForm
          key={`${filter.action ?? ""}|${filter.actor ?? ""}`}
          filter={filter}
          onApply={applyFilter}
        />
        <AuditResults filter={filter} events={events} onClear={() => applyFilter({})} />
      </>
    );
  }

  return (
    <div className="page">
      <PageHeader title="Audit log" subtitle="Who changed what in this organization, newest first." />
      {body}
    </div>
  );
}

function AdminsOnly() {
  return (
    <div className="state state-empty" role="note">
      <p className="state-title">The audit log is for admins only.</p>
      <div className="state-body">
        Ask an admin of this organization if you need to know who changed something.
      </div>
    </div>
  );
}

function AuditFilterForm({ filter, onApply }: { filter: AuditFilter; onApply: (filter: AuditFilter) => void }) {
  const [action, setAction] = useState(filter.action ?? "");
  const [actor, setActor] = useState(filter.actor ?? "");
  const actionId = useId();
  const actorId = useId();
  const listId = useId();
  const hintId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({ action: action.trim() || undefined, actor: actor.trim() || undefined });
  };

  return (
    <form className="card audit-filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
      <div className="field">
        <label htmlFor={actionId}>Action</label>
        <input
          id={actionId}
          type="text"
          list={listId}
          value={action}
          placeholder="e.g. membership.*"
          aria-describedby={hintId}
          onChange={(e) => setAction(e.target.value)}
        />
        <datalist id={listId}>
          {KNOWN_ACTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor={actorId}>Actor</label>
        <input
          id={actorId}
          type="text"
          value={actor}
          placeholder="user_… or system"
          aria-describedby={hintId}
          onChange={(e) => setActor(e.target.value)}
        />
      </div>
      <div className="button-row audit-filter-buttons">
        <button type="submit" className="button button-primary">
          Apply filters
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => {
            setAction("");
            setActor("");
            onApply({});
          }}
        >
          Clear
        </button>
      </div>
      <p id={hintId} className="field-hint audit-filter-hint">
        Action: exact (<code>limits.updated</code>) or a prefix (<code>membership.*</code>). Actor: a user id
        (<code>user_…</code>) or <code>system</code> for webhooks, scheduled jobs and operators.
      </p>
    </form>
  );
}

function AuditResults({
  filter,
  events,
  onClear,
}: {
  filter: AuditFilter;
  events: ReturnType<typeof useAuditEvents>;
  onClear: () => void;
}) {
  if (events.isPending) return <LoadingState label="Loading audit events…" />;
  if (!events.data) {
    return <ErrorState error={events.error} title="Could not load the audit log" onRetry={() => void events.refetch()} />;
  }
  const rows = events.data.pages.flatMap((page) => page.items);
  const filtered = Boolean(filter.action || filter.actor);

  return (
    <>
      {rows.length === 0 ? (
        filtered ? (
          <EmptyState title="No audit events match these filters.">
            <button type="button" className="button button-secondary" onClick={onClear}>
              Clear filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="No audit events yet.">
            Membership changes, limit changes and each feature&apos;s changes (crawls started, content
            deleted, …) are recorded here.
          </EmptyState>
        )
      ) : (
        <AuditTable events={rows} />
      )}
      {events.isFetchNextPageError ? (
        <ErrorState error={events.error} title="Could not load more audit events" onRetry={() => void events.fetchNextPage()} />
      ) : null}
      {events.hasNextPage ? (
        <button
          type="button"
          className="button button-secondary"
          disabled={events.isFetchingNextPage}
          onClick={() => void events.fetchNextPage()}
        >
          {events.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </>
  );
}

function AuditTable({ events }: { events: AuditEvent[] }) {
  return (
    <div className="table-wrap">
      <table className="table audit-table">
        <caption className="sr-only">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Request id</th>
            <th scope="col">IP</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td>
                <time dateTime={event.occurred_at}>{formatDateTime(event.occurred_at)}</time>
              </td>
              <td>
                {event.system ? (
                  <>
                    <span className="badge">System</span> {event.actor.replace(/^system:\s*/, "")}
                  </>
                ) : (
                  <code>{event.actor}</code>
                )}
              </td>
              <th scope="row">
                <code>{event.action}</code>
              </th>
              <td>
                {event.target_type || event.target_id ? (
                  <>
                    {event.target_type ? <span className="muted">{event.target_type} </span> : null}
                    {event.target_id ? <code>{event.target_id}</code> : null}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>{event.request_id ? <code className="audit-request-id">{event.request_id}</code> : <span className="muted">—</span>}</td>
              <td>{event.ip ? <code>{event.ip}</code> : <span className="muted">—</span>}</td>
              <td>
                {Object.keys(event.details ?? {}).length > 0 ? (
                  <details>
                    <summary>Show</summary>
                    <pre className="audit-details">{JSON.stringify(event.details, null, 2)}</pre>
                  </details>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
