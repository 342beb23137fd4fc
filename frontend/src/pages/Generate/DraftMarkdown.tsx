import type { ReactNode } from "react";
import type { Token, Tokens } from "marked";
import { Link } from "react-router";
import { citationHref, decodeEntities, isSafeHref, lexDraft, type CitableSource, type CitationToken } from "./draftMarkdown";

/**
 * The draft rendered from its Markdown as React elements (never as injected HTML: the draft's
 * own HTML shows as text), each `[n]` a superscript link to the cited passage.
 */
export function DraftMarkdown({ text, sources }: { text: string; sources: CitableSource[] }) {
  const byN = new Map(sources.map((s) => [s.n, s]));
  return <div className="draft-markdown">{blocks(lexDraft(text), byN)}</div>;
}

type Sources = Map<number, CitableSource>;

function blocks(tokens: Token[], byN: Sources): ReactNode[] {
  return tokens.map((token, i) => block(token, byN, i));
}

function block(token: Token, byN: Sources, key: number): ReactNode {
  const t = token as Tokens.Generic;
  switch (token.type) {
    case "space":
    case "def":
      return null;
    case "heading": {
      // The draft sits under the page's own headings: its # is shown one level down, at most h6.
      const H = `h${Math.min((t.depth as number) + 2, 6)}` as "h3";
      return <H key={key}>{inline(t.tokens ?? [], byN)}</H>;
    }
    case "paragraph":
      return <p key={key}>{inline(t.tokens ?? [], byN)}</p>;
    case "text":
      return <span key={key}>{t.tokens ? inline(t.tokens, byN) : (t.text as string)}</span>;
    case "list": {
      const list = token as Tokens.List;
      const items = list.items.map((item, j) => <li key={j}>{blocks(item.tokens, byN)}</li>);
      return list.ordered ? (
        <ol key={key} start={typeof list.start === "number" && list.start !== 1 ? list.start : undefined}>
          {items}
        </ol>
      ) : (
        <ul key={key}>{items}</ul>
      );
    }
    case "blockquote":
      return <blockquote key={key}>{blocks(t.tokens ?? [], byN)}</blockquote>;
    case "code":
      return (
        <pre key={key}>
          <code>{t.text as string}</code>
        </pre>
      );
    case "table": {
      const table = token as Tokens.Table;
      return (
        <div key={key} className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                {table.header.map((c, j) => (
                  <th key={j} scope="col">
                    {inline(c.tokens, byN)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((row, r) => (
                <tr key={r}>
                  {row.map((c, j) => (
                    <td key={j}>{inline(c.tokens, byN)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    case "hr":
      return <hr key={key} />;
    case "html":
      return <p key={key}>{(t.text as string).trim()}</p>;
    default:
      return <p key={key}>{t.raw}</p>;
  }
}

function inline(tokens: Token[], byN: Sources): ReactNode[] {
  return tokens.map((token, key) => {
    const t = token as Tokens.Generic;
    switch (token.type) {
      case "strong":
        return <strong key={key}>{inline(t.tokens ?? [], byN)}</strong>;
      case "em":
        return <em key={key}>{inline(t.tokens ?? [], byN)}</em>;
      case "del":
        return <del key={key}>{inline(t.tokens ?? [], byN)}</del>;
      case "codespan":
        return <code key={key}>{decodeEntities(t.text as string)}</code>;
      case "br":
        return <br key={key} />;
      case "link": {
        const href = t.href as string;
        const children = inline(t.tokens ?? [], byN);
        if (!isSafeHref(href)) return <span key={key}>{children}</span>;
        return (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            {children}
          </a>
        );
      }
      case "image":
        return <span key={key}>{t.text as string}</span>;
      case "citation":
        return <Citation key={key} n={(t as unknown as CitationToken).n} source={byN.get((t as unknown as CitationToken).n)} />;
      default:
        return t.escaped ? decodeEntities(t.text as string) : ((t.text as string | undefined) ?? t.raw);
    }
  });
}

/** `[n]` as a superscript link to the cited passage; a marker naming no source stays text. */
function Citation({ n, source }: { n: number; source: CitableSource | undefined }) {
  if (!source) return <>[{n}]</>;
  const where = source.heading ? `${source.title || "untitled"} — ${source.heading}` : source.title || "untitled";
  return (
    <sup className="citation">
      <Link to={citationHref(source)} aria-label={`Source ${n}: ${source.title || "untitled"}`} title={where}>
        [{n}]
      </Link>
    </sup>
  );
}
