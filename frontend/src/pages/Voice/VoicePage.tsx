import { Link } from "react-router";
import { useCurrentOrganization, useVoice } from "../../api/queries";
import type { StoredStyleGuide, VoiceProfile, VoiceTerm } from "../../api/types";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, ErrorState, LoadingState } from "../../components/StateViews";
import { formatDateTime, formatNumber } from "../../format";
import { StyleGuideEditor } from "./StyleGuideEditor";
import { VoiceCheckForm } from "./VoiceCheckForm";
import "./voice.css";

export function VoicePage() {
  const current = useCurrentOrganization();
  const voice = useVoice();

  let body;
  if (voice.isPending || current.isPending) {
    body = <LoadingState label="Loading your voice…" />;
  } else if (!voice.data || !current.data) {
    const failed = voice.data ? current : voice;
    body = (
      <ErrorState
        error={failed.error}
        title={voice.data ? "Could not load your organization" : "Could not load the voice profile"}
        onRetry={() => void failed.refetch()}
      />
    );
  } else {
    const isAdmin = current.data.role === "admin";
    body = (
      <>
        <section className="section" aria-labelledby="profile-heading">
          <h2 id="profile-heading">Measured voice</h2>
          {voice.data.profile ? (
            <ProfileView profile={voice.data.profile} />
          ) : (
            <EmptyState title="No voice profile yet.">
              The profile is measured from your library. <Link to="/library">Add content</Link> or{" "}
              <Link to="/crawls">crawl your site</Link>, and its figures appear here.
            </EmptyState>
          )}
        </section>
        <section className="section" aria-labelledby="guide-heading">
          <h2 id="guide-heading">Style guide</h2>
          <p className="muted">Drafts follow it; the voice score counts what breaks it.</p>
          {isAdmin ? (
            <StyleGuideEditor guide={voice.data.guide} />
          ) : (
            <GuideReadOnly guide={voice.data.guide} />
          )}
        </section>
        <section className="section" aria-labelledby="check-heading">
          <h2 id="check-heading">Check a text</h2>
          <VoiceCheckForm />
        </section>
      </>
    );
  }

  return (
    <div className="page">
      <PageHeader title="Voice" subtitle="How your content reads, measured from your library, and the rules drafts follow." />
      {body}
    </div>
  );
}

const VOICE_LABELS: Record<string, string> = {
  first_person_plural: "First person plural (we)",
  first_person_singular: "First person singular (I)",
  third_person: "Third person",
};

/** Flesch reading ease in words, from Flesch's own table. */
export function readingEase(score: number): string {
  if (score >= 90) return "very easy";
  if (score >= 80) return "easy";
  if (score >= 70) return "fairly easy";
  if (score >= 60) return "plain English";
  if (score >= 50) return "fairly difficult";
  if (score >= 30) return "difficult";
  return "very difficult";
}

const one = (n: number) => n.toLocaleString(undefined, { maximumFractionDigits: 1 });
const percent = (share: number) => `${(share * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })}%`;

function ProfileView({ profile }: { profile: VoiceProfile }) {
  const s = profile.sentence_length;
  const maxBucket = Math.max(1, ...s.histogram.map((b) => b.count));
  return (
    <div className="voice-profile">
      <p className="muted">
        From {formatNumber(profile.items)}
        {profile.library_items > profile.items ? ` of ${formatNumber(profile.library_items)}` : ""} library items,{" "}
        {formatNumber(profile.words)} words in {formatNumber(profile.sentences)} sentences; measured{" "}
        {formatDateTime(profile.computed_at)}.
      </p>
      <ul className="voice-figures" aria-label="Voice figures">
        <Figure label="Words per sentence" value={one(s.mean)} note={`median ${one(s.median)}, most between ${s.p10} and ${s.p90}`} />
        <Figure
          label="Reading ease"
          value={one(profile.readability.flesch_reading_ease)}
          note={`${readingEase(profile.readability.flesch_reading_ease)} · grade ${one(profile.readability.flesch_kincaid_grade)}`}
        />
        <Figure
          label="Voice"
          value={VOICE_LABELS[profile.person.voice] ?? profile.person.voice.replace(/_/g, " ")}
          note={`${profile.person.address === "direct" ? "Speaks to the reader" : "Rarely says “you”"} · we ${one(profile.person.we_per_1000_words)}, I ${one(profile.person.i_per_1000_words)}, you ${one(profile.person.you_per_1000_words)} per 1,000 words`}
        />
        <Figure label="Contractions" value={one(profile.contractions_per_1000_words)} note="per 1,000 words" />
        <Figure label="Questions" value={percent(profile.question_rate)} note="of sentences" />
        <Figure label="Exclamations" value={percent(profile.exclamation_rate)} note="of sentences" />
      </ul>
      <div className="voice-columns">
        <div className="card">
          <h3 className="card-title">Sentence lengths</h3>
          {s.histogram.length === 0 ? (
            <p className="muted">No sentences measured.</p>
          ) : (
            <ul className="histogram" aria-label="Sentences by length in words">
              {s.histogram.map((b) => (
                <li key={b.range}>
                  <span className="histogram-label">{b.range} words</span>
                  <span className="histogram-track" aria-hidden="true">
                    <span className="histogram-bar" style={{ width: `${(b.count / maxBucket) * 100}%` }} />
                  </span>
                  <span className="histogram-count">{formatNumber(b.count)}</span>
                </li>
              ))}
            </ul>
          )}
          <p className="field-hint">
            Shortest {s.min}, longest {s.max} words; standard deviation {one(s.stdev)}.
          </p>
        </div>
        <div className="card">
          <h3 className="card-title">Distinctive terms</h3>
          <TermList terms={profile.distinctive_terms} label="Distinctive terms" />
          <h3 className="card-title">Distinctive phrases</h3>
          <TermList terms={profile.distinctive_phrases} label="Distinctive phrases" />
        </div>
      </div>
    </div>
  );
}

function Figure({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <li className="card voice-figure">
      <span className="voice-figure-label">{label}</span>
      <strong className="voice-figure-value">{value}</strong>
      {note ? <span className="field-hint">{note}</span> : null}
    </li>
  );
}

function TermList({ terms, label }: { terms: VoiceTerm[]; label: string }) {
  if (terms.length === 0) return <p className="muted">None stand out yet.</p>;
  return (
    <ul className="term-list" aria-label={label}>
      {terms.map((t) => (
        <li key={t.term} className="field-chip" title={`${t.count} times in ${t.items} items`}>
          {t.term} <span className="muted">{formatNumber(t.count)}</span>
        </li>
      ))}
    </ul>
  );
}

function GuideReadOnly({ guide }: { guide: StoredStyleGuide }) {
  const empty =
    guide.tone.length + guide.preferred_terms.length + guide.banned_words.length + guide.do_examples.length + guide.dont_examples.length ===
    0;
  return (
    <div className="card guide-read">
      <p className="notice" role="note">
        Only admins can change the style guide.
      </p>
      {empty ? (
        <EmptyState title="No style guide yet.">Ask an admin of this organization to write one.</EmptyState>
      ) : (
        <dl className="guide-facts">
          <div>
            <dt>Tone</dt>
            <dd>{guide.tone.length ? guide.tone.join(", ") : <span className="muted">—</span>}</dd>
          </div>
          <div>
            <dt>Preferred terms</dt>
            <dd>
              {guide.preferred_terms.length ? (
                <ul>
                  {guide.preferred_terms.map((p) => (
                    <li key={p.term}>
                      write “{p.replacement}” instead of “{p.term}”
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="muted">—</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Banned words</dt>
            <dd>{guide.banned_words.length ? guide.banned_words.join(", ") : <span className="muted">—</span>}</dd>
          </div>
          <div>
            <dt>Write like this</dt>
            <dd>{guide.do_examples.length ? <Examples items={guide.do_examples} /> : <span className="muted">—</span>}</dd>
          </div>
          <div>
            <dt>Not like this</dt>
            <dd>{guide.dont_examples.length ? <Examples items={guide.dont_examples} /> : <span className="muted">—</span>}</dd>
          </div>
        </dl>
      )}
      {guide.updated_at ? (
        <p className="field-hint">
          Last changed {formatDateTime(guide.updated_at)}
          {guide.updated_by ? (
            <>
              {" "}
              by <code>{guide.updated_by}</code>
            </>
          ) : null}
          .
        </p>
      ) : null}
    </div>
  );
}

function Examples({ items }: { items: string[] }) {
  return (
    <ul className="guide-examples">
      {items.map((e, i) => (
        <li key={i}>
          <blockquote>{e}</blockquote>
        </li>
      ))}
    </ul>
  );
}
