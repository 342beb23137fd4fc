import { useId, useState } from "react";
import type { GenerationSource } from "../../api/types";
import { draftAsHtml, draftAsMarkdown, draftAsPlainText, draftFileName, type ExportOptions } from "./draftMarkdown";

/** Offers a file to the browser's downloads under `name`. */
export function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked after the click has been handled, so the download can start.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/**
 * Copy (Markdown or plain text) and download (.md, .html, .docx) of the draft as it now reads,
 * with or without citation markers and source list.
 */
export function DraftExport({
  text,
  sources,
  title,
  createdAt,
}: {
  text: string;
  sources: GenerationSource[];
  title: string;
  createdAt: string;
}) {
  const [markers, setMarkers] = useState(true);
  const [withSources, setWithSources] = useState(true);
  const [status, setStatus] = useState("");
  const id = useId();
  const options: ExportOptions = { markers, sources: withSources, appUrl: window.location.origin };

  const copy = async (as: "Markdown" | "plain text") => {
    const value = as === "Markdown" ? draftAsMarkdown(text, sources, options) : draftAsPlainText(text, sources, options);
    try {
      await navigator.clipboard.writeText(value);
      setStatus(`Copied as ${as}.`);
    } catch {
      setStatus("Could not copy: select the text and copy it yourself.");
    }
  };

  const download = async (extension: "md" | "html" | "docx") => {
    const name = draftFileName(title, createdAt, extension);
    try {
      const blob =
        extension === "md"
          ? new Blob([draftAsMarkdown(text, sources, options)], { type: "text/markdown;charset=utf-8" })
          : extension === "html"
            ? new Blob([draftAsHtml(text, sources, { ...options, title })], { type: "text/html;charset=utf-8" })
            : // The docx library is large: loaded only when a .docx is asked for.
              await import("./draftDocx").then((m) => m.draftDocxBlob(text, sources, { ...options, title }));
      saveBlob(blob, name);
      setStatus(`Downloaded ${name}.`);
    } catch {
      setStatus(`Could not make ${name}.`);
    }
  };

  return (
    <div className="draft-export" role="group" aria-labelledby={`${id}-label`}>
      <span id={`${id}-label`} className="sr-only">
        Copy or download the draft
      </span>
      <div className="draft-export-options">
        <label className="checkbox">
          <input type="checkbox" checked={markers} onChange={(e) => setMarkers(e.target.checked)} />
          Citation markers
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={withSources} onChange={(e) => setWithSources(e.target.checked)} />
          Source list
        </label>
      </div>
      <div className="button-row">
        <button type="button" className="button button-secondary" onClick={() => void copy("Markdown")}>
          Copy Markdown
        </button>
        <button type="button" className="button button-secondary" onClick={() => void copy("plain text")}>
          Copy plain text
        </button>
        <button type="button" className="button button-secondary" onClick={() => void download("md")} aria-label="Download .md">
          .md
        </button>
        <button type="button" className="button button-secondary" onClick={() => void download("html")} aria-label="Download .html">
          .html
        </button>
        <button type="button" className="button button-secondary" onClick={() => void download("docx")} aria-label="Download .docx">
          .docx
        </button>
      </div>
      <span role="status" aria-live="polite" className="field-hint">
        {status}
      </span>
    </div>
  );
}
