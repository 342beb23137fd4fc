import { useId, useState, type FormEvent } from "react";
import { useVoiceCheck } from "../../api/queries";
import { ErrorState } from "../../components/StateViews";
import { VoiceCheckView } from "../Generate/DraftView";

/** Scores any text against the style guide and the measured voice (POST /api/voice/check). */
export function VoiceCheckForm() {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | undefined>();
  const check = useVoiceCheck();
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) {
      setError("Paste a text to check.");
      document.getElementById(id)?.focus();
      return;
    }
    setError(undefined);
    check.mutate(text);
  };
  return (
    <div className="voice-check">
      <form className="card form" aria-label="Check a text" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={id}>Text</label>
          <textarea
            id={id}
            rows={5}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
          />
          {error ? (
            <p id={`${id}-error`} className="field-error">
              {error}
            </p>
          ) : null}
        </div>
        {check.isError ? <ErrorState error={check.error} title="Could not check the text" /> : null}
        <div className="button-row">
          <button type="submit" className="button button-secondary" disabled={check.isPending}>
            {check.isPending ? "Checking…" : "Check voice"}
          </button>
        </div>
      </form>
      {check.data ? (
        <section className="card" aria-label="Voice check result">
          <VoiceCheckView check={check.data} />
        </section>
      ) : null}
    </div>
  );
}
