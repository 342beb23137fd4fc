// The draft as a Word document, built with the `docx` library from the same tokens as the
// rendered view: headings, paragraphs, lists, quotes, code, tables, links, citations as
// superscript links, and the source list.

import {
  AlignmentType,
  Document,
  ExternalHyperlink,
  HeadingLevel,
  LevelFormat,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
  type ParagraphChild,
} from "docx";
import type { Token, Tokens } from "marked";
import {
  absoluteCitationHref,
  citedSources,
  decodeEntities,
  isSafeHref,
  lexDraft,
  stripMarkers,
  type CitableSource,
  type CitationToken,
  type ExportOptions,
} from "./draftMarkdown";

const ORDERED = "draft-ordered";
const HEADINGS = [
  HeadingLevel.HEADING_1,
  HeadingLevel.HEADING_2,
  HeadingLevel.HEADING_3,
  HeadingLevel.HEADING_4,
  HeadingLevel.HEADING_5,
  HeadingLevel.HEADING_6,
] as const;

interface Style {
  bold?: boolean;
  italics?: boolean;
  strike?: boolean;
  code?: boolean;
}

/** Builds the Word document of a draft (with or without markers and source list). */
export function draftDocument(
  markdown: string,
  sources: CitableSource[],
  options: ExportOptions & { title: string },
): Document {
  const builder = new Builder(new Map(sources.map((s) => [s.n, s])), options.appUrl);
  const children: (Paragraph | Table)[] = builder.blocks(lexDraft(options.markers ? markdown : stripMarkers(markdown)));
  const cited = options.sources ? citedSources(markdown, sources) : [];
  if (cited.length > 0) {
    children.push(new Paragraph({ heading: HeadingLevel.HEADING_2, children: [new TextRun("Sources")] }));
    for (const s of cited) {
      const link = s.url ?? absoluteCitationHref(s, options.appUrl);
      children.push(
        new Paragraph({
          children: [
            new TextRun(`[${s.n}] `),
            new ExternalHyperlink({ link, children: [new TextRun({ text: s.title || "Untitled", style: "Hyperlink" })] }),
            ...(s.heading ? [new TextRun(` — ${s.heading}`)] : []),
          ],
        }),
      );
    }
  }
  return new Document({
    title: options.title,
    creator: "VoiceForge",
    numbering: {
      config: [
        {
          reference: ORDERED,
          levels: [0, 1, 2, 3].map((level) => ({
            level,
            format: LevelFormat.DECIMAL,
            text: `%${level + 1}.`,
            alignment: AlignmentType.START,
            style: { paragraph: { indent: { left: 720 * (level + 1), hanging: 360 } } },
          })),
        },
      ],
    },
    sections: [{ children }],
  });
}

/** The `.docx` file of a draft. */
export function draftDocxBlob(markdown: string, sources: CitableSource[], options: ExportOptions & { title: string }): Promise<Blob> {
  return Packer.toBlob(draftDocument(markdown, sources, options));
}

/** Turns tokens into docx paragraphs; numbers each ordered list as a list of its own. */
class Builder {
  private lists = 0;

  constructor(
    private readonly byN: Map<number, CitableSource>,
    private readonly appUrl: string,
  ) {}

  blocks(tokens: Token[], indent = 0): (Paragraph | Table)[] {
    return tokens.flatMap((token) => this.block(token, indent));
  }

  private block(token: Token, indent: number): (Paragraph | Table)[] {
    const t = token as Tokens.Generic;
    const at = indent > 0 ? { indent: { left: indent } } : {};
    switch (token.type) {
      case "space":
      case "def":
        return [];
      case "heading":
        return [new Paragraph({ heading: HEADINGS[Math.min(t.depth as number, 6) - 1], children: this.inline(t.tokens ?? []) })];
      case "paragraph":
        return [new Paragraph({ ...at, children: this.inline(t.tokens ?? []) })];
      case "text":
        return [new Paragraph({ ...at, children: t.tokens ? this.inline(t.tokens) : [new TextRun(t.text as string)] })];
      case "list":
        return this.list(token as Tokens.List, 0);
      case "blockquote":
        return this.blocks(t.tokens ?? [], indent + 720);
      case "code":
        return (t.text as string).split("\n").map(
          (line) => new Paragraph({ ...at, children: [new TextRun({ text: line, font: "Consolas" })] }),
        );
      case "table":
        return [this.table(token as Tokens.Table)];
      case "hr":
        return [new Paragraph({ thematicBreak: true, children: [] })];
      default:
        // Raw HTML and anything unknown: its text, as text.
        return [new Paragraph({ ...at, children: [new TextRun((t.text as string | undefined) ?? t.raw)] })];
    }
  }

  private list(list: Tokens.List, level: number): Paragraph[] {
    const instance = ++this.lists;
    return list.items.flatMap((item) =>
      item.tokens.flatMap((child) => {
        if (child.type === "list") return this.list(child as Tokens.List, level + 1);
        if (child.type === "space") return [];
        const runs = child.type === "text" || child.type === "paragraph" ? this.inline((child as Tokens.Text).tokens ?? []) : [];
        return [
          list.ordered
            ? new Paragraph({ numbering: { reference: ORDERED, level, instance }, children: runs })
            : new Paragraph({ bullet: { level }, children: runs }),
        ];
      }),
    );
  }

  private table(table: Tokens.Table): Table {
    const row = (cells: Tokens.TableCell[], bold: boolean) =>
      new TableRow({
        children: cells.map((c) => new TableCell({ children: [new Paragraph({ children: this.inline(c.tokens, { bold }) })] })),
      });
    return new Table({
      width: { size: 100, type: WidthType.PERCENTAGE },
      rows: [row(table.header, true), ...table.rows.map((r) => row(r, false))],
    });
  }

  private inline(tokens: Token[], style: Style = {}): ParagraphChild[] {
    return tokens.flatMap((token): ParagraphChild[] => {
      const t = token as Tokens.Generic;
      switch (token.type) {
        case "strong":
          return this.inline(t.tokens ?? [], { ...style, bold: true });
        case "em":
          return this.inline(t.tokens ?? [], { ...style, italics: true });
        case "del":
          return this.inline(t.tokens ?? [], { ...style, strike: true });
        case "codespan":
          return [this.run(t.text as string, { ...style, code: true })];
        case "br":
          return [new TextRun({ break: 1 })];
        case "link": {
          const href = t.href as string;
          if (!isSafeHref(href) || href.startsWith("#")) return this.inline(t.tokens ?? [], style);
          const link = href.startsWith("/") ? `${this.appUrl.replace(/\/+$/, "")}${href}` : href;
          return [new ExternalHyperlink({ link, children: [this.run(textOf(t.tokens ?? []), style, "Hyperlink")] })];
        }
        case "citation": {
          const n = (t as unknown as CitationToken).n;
          const source = this.byN.get(n);
          const marker = new TextRun({ text: `[${n}]`, superScript: true, style: source ? "Hyperlink" : undefined });
          return source ? [new ExternalHyperlink({ link: absoluteCitationHref(source, this.appUrl), children: [marker] })] : [marker];
        }
        case "image":
          return [this.run(t.text as string, style)];
        default:
          return [this.run(t.escaped ? decodeEntities(t.text as string) : ((t.text as string | undefined) ?? t.raw), style)];
      }
    });
  }

  private run(text: string, style: Style, characterStyle?: string): TextRun {
    return new TextRun({
      text,
      bold: style.bold,
      italics: style.italics,
      strike: style.strike,
      font: style.code ? "Consolas" : undefined,
      style: characterStyle,
    });
  }
}

function textOf(tokens: Token[]): string {
  return tokens.map((t) => ("tokens" in t && t.tokens ? textOf(t.tokens) : "text" in t ? String(t.text) : t.raw)).join("");
}
