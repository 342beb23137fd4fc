import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useCrawlSchedule, useCurrentOrganization, useSaveCrawlSchedule } from "../../api/queries";
import type { CrawlFrequency, CrawlSchedule } from "../../api/types";
import { ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime } from "../../format";
import { defaultCrawlForm, parseCrawlForm } from "./crawlForm";
import { Field } from "./StartCrawlForm";

/** The organization's one re-crawl schedule: admins edit it, members see it. */
export function ScheduleEditor() {
  const schedule = useCrawlSchedule();
  const current = useCurrentOrganization();
  const isAdmin = current.data?.role === "admin";
  // Held here so "Schedule saved." survives the form remounting with the saved values.
  const save = useSaveCrawlSchedule();

  let body;
  if (schedule.isPending) {
    body = <LoadingState label="Loading the schedule…" />;
  } else if (!schedule.data) {
    body = <ErrorState error={schedule.error} title="Could not load the schedule" onRetry={() => void schedule.refetch()} />;
  } else {
    const saved = schedule.data.schedule;
    body = (
      <>
        <ScheduleSummary schedule={saved} />
        {isAdmin ? (
          <ScheduleForm key={saved ? `${saved.url}|${saved.frequency}|${saved.enabled}` : "new"} schedule={saved} save={save} />
        ) : (
          <p className="muted">Only admins can change the schedule.</p>
        )}
      </>
    );
  }
  return (
    <section className="section card" aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">Re-crawl schedule</h2>
      {body}
    </section>
  );
}

function ScheduleSummary({ schedule }: { schedule: CrawlSchedule | null }) {
  if (!schedule) return <p className="muted">No schedule: sites are crawled only when someone starts a crawl.</p>;
  return (
    <dl className="facts schedule-facts">
      <div>
        <dt>Site</dt>
        <dd>{schedule.url}</dd>
      </div>
      <div>
        <dt>Every</dt>
        <dd>
          {schedule.frequency === "daily" ? "day" : "week"}
          {schedule.enabled ? "" : " (paused)"}
        </dd>
      </div>
      <div>
        <dt>Next run</dt>
        <dd>{schedule.enabled && schedule.next_run_at ? formatDateTime(schedule.next_run_at) : "—"}</dd>
      </div>
      <div>
        <dt>Last run</dt>
        <dd>
          {schedule.last_run_at ? formatDateTime(schedule.last_run_at) : "never"}
          {schedule.last_crawl_id ? (
            <>
              {" "}
              (<Link to={`/crawls/${schedule.last_crawl_id}`}>crawl</Link>)
            </>
          ) : null}
        </dd>
      </div>
      {schedule.last_skip_reason ? (
        <div>
          <dt>Last run skipped</dt>
          <dd>{schedule.last_skip_reason}</dd>
        </div>
      ) : null}
    </dl>
  );
}

function ScheduleForm({
  schedule,
  save,
}: {
  schedule: CrawlSchedule | null;
  save: ReturnType<typeof useSaveCrawlSchedule>;
}) {
  const [url, setUrl] = useState(schedule?.url ?? "");
  const [frequency, setFrequency] = useState<CrawlFrequency>(schedule?.frequency ?? "weekly");
  const [enabled, setEnabled] = useState(schedule?.enabled ?? true);
  const [urlError, setUrlError] = useState<string | undefined>();
  const urlId = useId();
  const frequencyId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseCrawlForm({ ...defaultCrawlForm, url });
    if (!parsed.ok) {
      setUrlError(parsed.errors.url);
      return;
    }
    setUrlError(undefined);
    save.mutate({ ...parsed.request, frequency, enabled });
  };

  return (
    <form className="form schedule-form" onSubmit={submit} noValidate aria-label="Edit the schedule">
      <Field id={urlId} label="Site to re-crawl" error={urlError} hint="Each run counts against the monthly crawl limit.">
        <input
          id={urlId}
          type="url"
          value={url}
          placeholder="https://example.com/"
          onChange={(e) => setUrl(e.target.value)}
          aria-invalid={urlError ? true : undefined}
          aria-describedby={`${urlId}-hint${urlError ? ` ${urlId}-error` : ""}`}
        />
      </Field>
      <div className="field">
        <label htmlFor={frequencyId}>Frequency</label>
        <select id={frequencyId} value={frequency} onChange={(e) => setFrequency(e.target.value as CrawlFrequency)}>
          <option value="daily">Daily</option>
          <option value="weekly">Weekly</option>
        </select>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        Enabled
      </label>
      {save.isError ? <ErrorState error={save.error} title="Could not save the schedule" /> : null}
      {save.isSuccess ? (
        <p className="field-hint" role="status">
          Schedule saved.
        </p>
      ) : null}
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save schedule"}
        </button>
      </div>
    </form>
  );
}
