// The draft as Markdown. One lexer (marked, with each `[n]` citation marker a token of its own)
// is behind the rendered view, the copies and the .md, .html and .docx downloads, so they all
// read the draft the same way. Raw HTML in the draft is never rendered as HTML: it stays text.

import { Marked, type Token, type TokenizerExtension, type Tokens } from "marked";

/** A source a `[n]` marker can point to: a stored generation's source, or one from the stream. */
export interface CitableSource {
  n: number;
  content_id: string;
  /** The cited passage, when known: the library item opens there. */
  chunk_id?: string | null;
  title: string;
  /** The headings above the passage. */
  heading?: string | null;
  url: string | null;
}

/** A `[n]` marker as the lexer gives it. */
export interface CitationToken {
  type: "citation";
  raw: string;
  n: number;
}

/** How a draft is copied or saved. */
export interface ExportOptions {
  /** Keep the `[n]` markers. */
  markers: boolean;
  /** Append the cited sources. */
  sources: boolean;
  /** The app's origin (e.g. `https://app.example`): a saved file's citation links are absolute. */
  appUrl: string;
}

/** A marker `[n]` (1–3 digits) not followed by `(`: `[1](url)` stays a Markdown link. */
const MARKER = /^\[(\d{1,3})\](?!\()/;
const MARKER_ANYWHERE = /\[\d{1,3}\](?!\()/;

const citationTokenizer: TokenizerExtension = {
  name: "citation",
  level: "inline",
  start: (src) => src.match(MARKER_ANYWHERE)?.index,
  tokenizer(src) {
    const match = MARKER.exec(src);
    return match ? { type: "citation", raw: match[0], n: Number(match[1]) } : undefined;
  },
};

const lexer = new Marked({ gfm: true });
lexer.use({ extensions: [citationTokenizer] });

/** The draft's tokens; each `[n]` outside code is a `citation` token. */
export function lexDraft(markdown: string): Token[] {
  return lexer.lexer(markdown);
}

export function isCitation(token: Token): token is Token & CitationToken {
  return token.type === "citation";
}

/** Where a citation opens in the app: the library item, at the cited passage when known. */
export function citationHref(source: Pick<CitableSource, "content_id" | "chunk_id">): string {
  const item = `/library/${encodeURIComponent(source.content_id)}`;
  return source.chunk_id ? `${item}#chunk-${encodeURIComponent(source.chunk_id)}` : item;
}

/** A citation's link in a saved file: absolute, since the file is opened outside the app. */
export function absoluteCitationHref(source: CitableSource, appUrl: string): string {
  return `${appUrl.replace(/\/+$/, "")}${citationHref(source)}`;
}

/** The draft without its `[n]` markers (nor the space before each); code is left as written. */
export function stripMarkers(markdown: string): string {
  return markdown.replace(/(```[\s\S]*?```|`[^`\n]*`)|[ \t]?\[\d{1,3}\](?!\()/g, (_m, code?: string) => code ?? "");
}

/** The sources the draft's markers cite, by number: what a source list shows. */
export function citedSources<S extends CitableSource>(markdown: string, sources: S[]): S[] {
  const cited = new Set<number>();
  lexer.walkTokens(lexDraft(markdown), (token) => {
    if (isCitation(token)) cited.add(token.n);
  });
  return sources.filter((s) => cited.has(s.n)).sort((a, b) => a.n - b.n);
}

/** Markdown to readable plain text: marks dropped, bullets and numbers kept, a link's address after its text. */
export function toPlainText(markdown: string): string {
  return blocksText(lexDraft(markdown)).trim();
}

function blocksText(tokens: Token[]): string {
  return tokens
    .map(blockText)
    .filter((text): text is string => text !== null)
    .join("\n\n");
}

function blockText(token: Token): string | null {
  const t = token as Tokens.Generic;
  switch (token.type) {
    case "space":
    case "def":
      return null;
    case "heading":
    case "paragraph":
      return inlineText(t.tokens ?? []);
    case "text":
      return t.tokens ? inlineText(t.tokens) : decodeEntities(t.text as string);
    case "list":
      return listText(token as Tokens.List);
    case "blockquote":
      return blocksText(t.tokens ?? []);
    case "code":
      return t.text as string;
    case "table": {
      const table = token as Tokens.Table;
      const row = (cells: Tokens.TableCell[]) => cells.map((c) => inlineText(c.tokens)).join("\t");
      return [row(table.header), ...table.rows.map(row)].join("\n");
    }
    case "hr":
      return "—";
    case "html":
      return (t.text as string).trim();
    default:
      return t.raw;
  }
}

function listText(list: Tokens.List): string {
  const first = typeof list.start === "number" ? list.start : 1;
  return list.items
    .map((item, i) => {
      const bullet = list.ordered ? `${first + i}. ` : "- ";
      const body = item.tokens
        .map(blockText)
        .filter((text): text is string => text !== null)
        .join("\n");
      return bullet + body.replace(/\n/g, `\n${" ".repeat(bullet.length)}`);
    })
    .join("\n");
}

function inlineText(tokens: Token[]): string {
  return tokens
    .map((token) => {
      const t = token as Tokens.Generic;
      switch (token.type) {
        case "text":
        case "escape":
          return t.escaped ? decodeEntities(t.text as string) : (t.text as string);
        case "strong":
        case "em":
        case "del":
          return inlineText(t.tokens ?? []);
        case "codespan":
          return decodeEntities(t.text as string);
        case "link": {
          const text = inlineText(t.tokens ?? []);
          const href = t.href as string;
          return text === href || `mailto:${text}` === href ? text : `${text} (${href})`;
        }
        case "image":
          return t.text as string;
        case "br":
          return "\n";
        case "citation":
          return `[${(t as unknown as CitationToken).n}]`;
        default:
          return t.raw;
      }
    })
    .join("");
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** Undoes the entity escaping marked applies to some text tokens. */
export function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e);
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Whether a link from the draft may be followed: web, mail and in-app addresses only. */
export function isSafeHref(href: string): boolean {
  return /^(https?:|mailto:|\/(?!\/)|#)/i.test(href.trim());
}

/** A source's line in a list: its title, the headings above the passage, where it is. */
function sourceLine(source: CitableSource, appUrl: string, format: "markdown" | "text"): string {
  const link = source.url ?? absoluteCitationHref(source, appUrl);
  const title = source.title || "Untitled";
  const heading = source.heading ? ` — ${source.heading}` : "";
  if (format === "text") return `[${source.n}] ${title}${heading}\n    ${link}`;
  return `- \\[${source.n}\\] [${escapeMarkdown(title)}](<${link}>)${escapeMarkdown(heading)}`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>#])/g, "\\$1");
}

/** The cited sources under a "Sources" heading, numbered as the markers number them. */
export function sourceList(sources: CitableSource[], format: "markdown" | "text", appUrl: string): string {
  const lines = sources.map((s) => sourceLine(s, appUrl, format));
  return format === "markdown" ? `## Sources\n\n${lines.join("\n")}` : `Sources\n\n${lines.join("\n")}`;
}

/** The draft as Markdown to copy or save, with or without markers and source list. */
export function draftAsMarkdown(markdown: string, sources: CitableSource[], options: ExportOptions): string {
  const body = (options.markers ? markdown : stripMarkers(markdown)).trim();
  const cited = options.sources ? citedSources(markdown, sources) : [];
  return cited.length > 0 ? `${body}\n\n${sourceList(cited, "markdown", options.appUrl)}\n` : `${body}\n`;
}

/** The draft as plain text to copy, with or without markers and source list. */
export function draftAsPlainText(markdown: string, sources: CitableSource[], options: ExportOptions): string {
  const body = toPlainText(options.markers ? markdown : stripMarkers(markdown));
  const cited = options.sources ? citedSources(markdown, sources) : [];
  return cited.length > 0 ? `${body}\n\n${sourceList(cited, "text", options.appUrl)}\n` : `${body}\n`;
}

/** The draft as a standalone HTML page; the draft's own HTML is shown as text, never run. */
export function draftAsHtml(markdown: string, sources: CitableSource[], options: ExportOptions & { title: string }): string {
  const byN = new Map(sources.map((s) => [s.n, s]));
  const html = new Marked({ gfm: true });
  html.use({
    extensions: [
      citationTokenizer,
      {
        name: "citation",
        renderer(token) {
          const source = byN.get((token as unknown as CitationToken).n);
          if (!source) return escapeHtml(token.raw);
          const href = escapeHtml(absoluteCitationHref(source, options.appUrl));
          return `<sup class="citation"><a href="${href}" title="${escapeHtml(source.title)}">[${source.n}]</a></sup>`;
        },
      },
    ],
    renderer: {
      html: ({ text, block }) => (block ? `<p>${escapeHtml(text.trim())}</p>\n` : escapeHtml(text)),
      link({ href, title, tokens }) {
        const text = this.parser.parseInline(tokens);
        if (!isSafeHref(href)) return text;
        return `<a href="${escapeHtml(href)}"${title ? ` title="${escapeHtml(title)}"` : ""}>${text}</a>`;
      },
      image: ({ text }) => escapeHtml(text),
    },
  });
  const body = html.parse(options.markers ? markdown : stripMarkers(markdown), { async: false });
  const cited = options.sources ? citedSources(markdown, sources) : [];
  const list =
    cited.length === 0
      ? ""
      : `<h2>Sources</h2>\n<ol class="sources">\n${cited
          .map((s) => {
            const link = escapeHtml(s.url ?? absoluteCitationHref(s, options.appUrl));
            const heading = s.heading ? ` — ${escapeHtml(s.heading)}` : "";
            return `<li value="${s.n}"><a href="${link}">${escapeHtml(s.title || "Untitled")}</a>${heading}</li>`;
          })
          .join("\n")}\n</ol>\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
<style>body{font:16px/1.6 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}sup.citation a{text-decoration:none}</style>
</head>
<body>
${body}${list}</body>
</html>
`;
}

/** A file name for a saved draft: the template's name and the day, e.g. `marketing-email-2026-11-29.md`. */
export function draftFileName(templateName: string, createdAt: string, extension: "md" | "html" | "docx"): string {
  const slug = templateName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "draft";
  return `${slug}-${createdAt.slice(0, 10)}.${extension}`;
}
