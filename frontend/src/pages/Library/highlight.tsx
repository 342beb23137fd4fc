import { Fragment } from "react";

/** A run of snippet text, marked when it is a matched word. */
export interface TextPiece {
  text: string;
  marked: boolean;
}

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * Splits `text` into plain and marked runs by `[start, end)` offsets in UTF-16 code units.
 * The offsets come from the server, so nothing about them is trusted: malformed ones are
 * dropped, out-of-range ones clamped, overlapping or touching ones merged, and an edge that
 * falls inside a surrogate pair (an emoji) widened to the whole character.
 */
export function highlightPieces(text: string, highlights: readonly unknown[] | null | undefined): TextPiece[] {
  const length = text.length;
  const ranges: [number, number][] = [];
  for (const range of highlights ?? []) {
    if (!Array.isArray(range) || range.length < 2) continue;
    const [rawStart, rawEnd] = range as unknown[];
    if (typeof rawStart !== "number" || typeof rawEnd !== "number") continue;
    if (Number.isNaN(rawStart) || Number.isNaN(rawEnd)) continue;
    let start = Math.min(Math.max(Math.floor(rawStart), 0), length);
    let end = Math.min(Math.max(Math.ceil(rawEnd), 0), length);
    if (start > 0 && start < length && isLow(text.charCodeAt(start)) && isHigh(text.charCodeAt(start - 1))) start -= 1;
    if (end > 0 && end < length && isLow(text.charCodeAt(end)) && isHigh(text.charCodeAt(end - 1))) end += 1;
    if (end > start) ranges.push([start, end]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

  const merged: [number, number][] = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }

  const pieces: TextPiece[] = [];
  let at = 0;
  for (const [start, end] of merged) {
    if (start > at) pieces.push({ text: text.slice(at, start), marked: false });
    pieces.push({ text: text.slice(start, end), marked: true });
    at = end;
  }
  if (at < length || pieces.length === 0) pieces.push({ text: text.slice(at), marked: false });
  return pieces;
}

/** `text` with its matched words in `<mark>`, built as React nodes (never as HTML). */
export function HighlightedText({ text, highlights }: { text: string; highlights: readonly unknown[] | null | undefined }) {
  return (
    <>
      {highlightPieces(text, highlights).map((piece, i) =>
        piece.marked ? <mark key={i}>{piece.text}</mark> : <Fragment key={i}>{piece.text}</Fragment>,
      )}
    </>
  );
}
