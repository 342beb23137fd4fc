import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { useCreateTemplate, useCurrentOrganization, useDeleteTemplate, useTemplates } from "../../api/queries";
import type { CurrentOrganization, Template } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDate, formatNumber } from "../../format";
import { TemplateEditor } from "./TemplateEditor";
import { kindLabel } from "./templateForm";
import "./templates.css";

/** What the editor is open for: a new template, or an existing one (possibly a fresh copy). */
type Editing = { mode: "new" } | { mode: "edit"; template: Template; copied?: boolean } | null;

/** The creator or an admin may change or delete a template (built-ins: admins only). */
export function canChange(template: Template, me: CurrentOrganization): boolean {
  return me.role === "admin" || (template.created_by !== null && template.created_by === me.user.id);
}

export function TemplatesPage() {
  const current = useCurrentOrganization();
  const [editing, setEditing] = useState<Editing>(null);
  const newButtonRef = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);

  // When the editor closes, return focus to the page's main action rather than the body.
  useEffect(() => {
    if (wasEditing.current && !editing) newButtonRef.current?.focus();
    wasEditing.current = editing !== null;
  }, [editing]);

  let body;
  if (current.isPending) {
    body = <LoadingState label="Loading…" />;
  } else if (!current.data) {
    body = <ErrorState error={current.error} title="Could not load your organization" onRetry={() => void current.refetch()} />;
  } else {
    body = (
      <>
        {editing ? (
          <TemplateEditor
            key={editing.mode === "edit" ? editing.template.id : "new"}
            template={editing.mode === "edit" ? editing.template : undefined}
            copied={editing.mode === "edit" && editing.copied}
            onDone={() => setEditing(null)}
          />
        ) : null}
        <TemplateList
          me={current.data}
          onEdit={(template) => setEditing({ mode: "edit", template })}
          onCopied={(template) => setEditing({ mode: "edit", template, copied: true })}
        />
      </>
    );
  }

  return (
    <div className="page">
      <PageHeader
        title="Templates"
        subtitle="What each kind of draft asks for and how it is written. Built-ins come with every organization."
        actions={
          current.data ? (
            <button
              ref={newButtonRef}
              type="button"
              className="button button-primary"
              aria-expanded={editing?.mode === "new"}
              onClick={() => setEditing((e) => (e?.mode === "new" ? null : { mode: "new" }))}
            >
              {editing?.mode === "new" ? "Close" : "New template"}
            </button>
          ) : null
        }
      />
      {body}
    </div>
  );
}

function TemplateList({
  me,
  onEdit,
  onCopied,
}: {
  me: CurrentOrganization;
  onEdit: (template: Template) => void;
  onCopied: (template: Template) => void;
}) {
  const templates = useTemplates();
  if (templates.isPending) return <LoadingState label="Loading templates…" />;
  if (!templates.data) {
    return <ErrorState error={templates.error} title="Could not load the templates" onRetry={() => void templates.refetch()} />;
  }
  const rows = templates.data.pages.flatMap((p) => p.items);
  return (
    <section aria-label="Templates">
      {rows.length === 0 ? (
        <EmptyState title="No templates.">Create one with “New template”; its placeholders become the fields of the form.</EmptyState>
      ) : (
        <ul className="template-grid">
          {rows.map((template) => (
            <TemplateCard key={template.id} template={template} me={me} onEdit={onEdit} onCopied={onCopied} />
          ))}
        </ul>
      )}
      {templates.isFetchNextPageError ? (
        <ErrorState error={templates.error} title="Could not load more templates" onRetry={() => void templates.fetchNextPage()} />
      ) : null}
      {templates.hasNextPage ? (
        <button
          type="button"
          className="button button-secondary"
          disabled={templates.isFetchingNextPage}
          onClick={() => void templates.fetchNextPage()}
        >
          {templates.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </section>
  );
}

function TemplateCard({
  template,
  me,
  onEdit,
  onCopied,
}: {
  template: Template;
  me: CurrentOrganization;
  onEdit: (template: Template) => void;
  onCopied: (template: Template) => void;
}) {
  const headingId = `template-${template.id}`;
  const editable = canChange(template, me);
  const copy = useCreateTemplate();
  const [confirming, setConfirming] = useState(false);

  return (
    <li className="card template-card" aria-labelledby={headingId}>
      <div className="template-card-head">
        <h2 id={headingId}>{template.name}</h2>
        <div className="template-badges">
          <span className="badge">{kindLabel(template.kind)}</span>
          {template.builtin ? <span className="badge badge-builtin">Built-in</span> : null}
        </div>
      </div>
      {template.description ? <p className="template-description">{template.description}</p> : null}
      <div className="template-fields">
        <h3 className="sr-only">Fields</h3>
        {template.fields.length === 0 ? (
          <p className="muted">No fields: drafts draw on the library alone.</p>
        ) : (
          <ul aria-label={`Fields of ${template.name}`}>
            {template.fields.map((f) => (
              <li key={f.name} className="field-chip">
                {f.label || f.name}
                {f.required ? <span className="field-chip-required"> · required</span> : null}
              </li>
            ))}
          </ul>
        )}
      </div>
      <details className="template-instructions">
        <summary>Instructions</summary>
        <pre>{template.instructions}</pre>
      </details>
      <p className="template-meta muted">
        {template.target_length ? `About ${formatNumber(template.target_length)} words · ` : ""}
        {template.tone ? `Tone: ${template.tone} · ` : ""}
        {template.created_by === null
          ? "Provided by VoiceForge"
          : template.created_by === me.user.id
            ? "Created by you"
            : `Created by ${template.created_by}`}
        {" · "}updated {formatDate(template.updated_at)}
      </p>
      <div className="button-row template-actions">
        <Link className="button button-primary" to={`/generate?template=${encodeURIComponent(template.id)}`}>
          Generate<span className="sr-only"> with {template.name}</span>
        </Link>
        <button
          type="button"
          className="button button-secondary"
          disabled={copy.isPending}
          onClick={() => copy.mutate({ copy_of: template.id }, { onSuccess: onCopied })}
        >
          {copy.isPending ? "Copying…" : "Copy"}
          <span className="sr-only"> {template.name}</span>
        </button>
        {editable ? (
          <>
            <button type="button" className="button button-secondary" onClick={() => onEdit(template)}>
              Edit<span className="sr-only"> {template.name}</span>
            </button>
            {!confirming ? (
              <button type="button" className="button button-ghost" onClick={() => setConfirming(true)}>
                Delete…<span className="sr-only"> {template.name}</span>
              </button>
            ) : null}
          </>
        ) : null}
      </div>
      {!editable ? (
        <p className="field-hint">
          {template.builtin
            ? "Only admins edit built-ins; copy it to make a version of your own."
            : "Only its creator or an admin can change it; copy it to make your own."}
        </p>
      ) : null}
      {copy.isError ? <ErrorState error={copy.error} title="Could not copy the template" /> : null}
      {confirming ? <ConfirmDelete template={template} onCancel={() => setConfirming(false)} /> : null}
    </li>
  );
}

/** Inline confirmation; focus moves to the confirming button. */
function ConfirmDelete({ template, onCancel }: { template: Template; onCancel: () => void }) {
  const remove = useDeleteTemplate();
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmRef.current?.focus(), []);
  return (
    <div className="confirm" role="group" aria-label={`Confirm deleting ${template.name}`}>
      <p>
        Delete <strong>{template.name}</strong>? Drafts made from it keep its name. This cannot be undone
        {template.builtin ? "; a deleted built-in does not come back" : ""}.
      </p>
      {remove.isError ? <ErrorState error={remove.error} title="Could not delete the template" /> : null}
      <div className="button-row">
        <button
          ref={confirmRef}
          type="button"
          className="button button-danger"
          disabled={remove.isPending}
          onClick={() => remove.mutate(template.id)}
        >
          {remove.isPending ? "Deleting…" : "Delete template"}
        </button>
        <button type="button" className="button button-secondary" onClick={onCancel}>
          Keep it
        </button>
      </div>
    </div>
  );
}
