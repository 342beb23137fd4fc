//! Snippets: the part of a passage that shows why it was found. The passage's plain text
//! arrives with every matched word marked (Postgres `ts_headline` with `HighlightAll`, so
//! stemming and stop words are the index's own); the snippet is the sentence with the most
//! distinct matched words, widened by its neighbours up to [`MAX_CHARS`], cut only at
//! sentence or word boundaries, with the matches' positions.

use std::ops::Range;

use serde::Serialize;

use crate::text::{sentences, utf16_offset};

/// Opens a match in the marked text (a private-use character: never in stored text, which
/// has these two removed before marking).
pub const START: char = '\u{E000}';
/// Closes a match.
pub const STOP: char = '\u{E001}';
/// Longest snippet, in characters (an ellipsis may be added at either end).
pub const MAX_CHARS: usize = 320;

/// A passage's snippet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// One line of plain text.
    pub text: String,
    /// Matched words as `[start, end)` offsets into `text`, in UTF-16 code units (how
    /// JavaScript indexes strings).
    pub highlights: Vec<[usize; 2]>,
}

/// Plain text and its matched byte ranges, from text marked with [`START`] / [`STOP`].
fn unmark(marked: &str) -> (String, Vec<Range<usize>>) {
    let mut text = String::with_capacity(marked.len());
    let mut matches = Vec::new();
    let mut open = None;
    for c in marked.chars() {
        match c {
            START => open = Some(text.len()),
            STOP => {
                if let Some(start) = open.take().filter(|s| *s < text.len()) {
                    matches.push(start..text.len());
                }
            }
            _ => text.push(c),
        }
    }
    (text, matches)
}

/// The snippet of a passage whose plain text is `marked`.
pub fn snippet(marked: &str) -> Snippet {
    let (text, matches) = unmark(marked);
    // Sentences within lines: a heading or list item without a full stop is one of its own.
    let mut units: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        units.extend(sentences(line).into_iter().map(|r| at + r.start..at + r.end));
        at += line.len();
    }
    if units.is_empty() {
        return Snippet::default();
    }
    let words_in = |r: &Range<usize>| -> Vec<String> {
        matches
            .iter()
            .filter(|m| m.start >= r.start && m.end <= r.end)
            .map(|m| text[m.clone()].to_lowercase())
            .collect()
    };
    let score = |r: &Range<usize>| {
        let mut found = words_in(r);
        let all = found.len();
        found.sort();
        found.dedup();
        (found.len(), all)
    };
    let best = (0..units.len()).max_by_key(|&i| (score(&units[i]), std::cmp::Reverse(i))).unwrap_or(0);
    let chars = |r: &Range<usize>| text[r.clone()].chars().count();

    // Widen to whole neighbouring sentences, after first, while they fit.
    let (mut first, mut last) = (best, best);
    let mut used = chars(&units[best]);
    loop {
        let grew_after = last + 1 < units.len() && used + 1 + chars(&units[last + 1]) <= MAX_CHARS;
        if grew_after {
            last += 1;
            used += 1 + chars(&units[last]);
            continue;
        }
        if first > 0 && used + 1 + chars(&units[first - 1]) <= MAX_CHARS {
            first -= 1;
            used += 1 + chars(&units[first]);
            continue;
        }
        break;
    }
    let (pieces, cut_before, cut_after): (Vec<Range<usize>>, bool, bool) = if used <= MAX_CHARS {
        (units[first..=last].to_vec(), first > 0, last + 1 < units.len())
    } else {
        // One sentence longer than a snippet: a window at word boundaries around its first match.
        let unit = units[best].clone();
        let anchor =
            matches.iter().find(|m| m.start >= unit.start && m.end <= unit.end).map_or(unit.start, |m| m.start);
        let window = word_window(&text, unit.clone(), anchor, MAX_CHARS);
        let (before, after) = (window.start > unit.start || best > 0, window.end < unit.end || best + 1 < units.len());
        (vec![window], before, after)
    };

    let mut out = Snippet::default();
    if cut_before {
        out.text.push('…');
    }
    for (n, piece) in pieces.iter().enumerate() {
        if n > 0 {
            // A heading or list item without a full stop must not run into what follows.
            let ends_sentence = out.text.trim_end().ends_with(['.', '!', '?', ':', ';', '…']);
            out.text.push_str(if ends_sentence { " " } else { " — " });
        }
        let offset = out.text.len();
        out.text.push_str(&text[piece.clone()]);
        for m in matches.iter().filter(|m| m.start >= piece.start && m.end <= piece.end) {
            let (s, e) = (offset + m.start - piece.start, offset + m.end - piece.start);
            out.highlights.push([utf16_offset(&out.text, s), utf16_offset(&out.text, e)]);
        }
    }
    if cut_after {
        out.text.push_str(if out.text.ends_with(['.', '!', '?']) { " …" } else { "…" });
    }
    // Line breaks inside a piece (a wrapped paragraph) read as spaces.
    out.text = out.text.replace('\n', " ");
    out
}

/// A range of at most `max` characters inside `unit`, around `anchor`, starting and ending
/// at word boundaries.
fn word_window(text: &str, unit: Range<usize>, anchor: usize, max: usize) -> Range<usize> {
    let slice = &text[unit.clone()];
    let bounds: Vec<usize> = slice.char_indices().map(|(i, _)| unit.start + i).chain([unit.end]).collect();
    let anchor_idx = bounds.partition_point(|&b| b < anchor);
    // A third of the window before the match, the rest after.
    let mut start_idx = anchor_idx.saturating_sub(max / 3);
    let end_idx = (start_idx + max).min(bounds.len() - 1);
    start_idx = end_idx.saturating_sub(max).min(start_idx);
    let (mut start, mut end) = (bounds[start_idx], bounds[end_idx]);
    if start > unit.start {
        // Forward to the next word.
        start = text[start..end].find(char::is_whitespace).map_or(start, |i| start + i);
        start += text[start..end].len() - text[start..end].trim_start().len();
    }
    if end < unit.end {
        end = text[start..end].rfind(char::is_whitespace).map_or(end, |i| start + i);
    }
    start..text[start..end].trim_end().len() + start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(text: &str, words: &[&str]) -> String {
        let mut out = text.to_owned();
        for w in words {
            out = out.replace(w, &format!("{START}{w}{STOP}"));
        }
        out
    }

    #[test]
    fn the_sentence_with_most_distinct_matches_is_chosen_and_marked() {
        let text = "Intro sentence about nothing. The clock measures elapsed time precisely. Another one.\n\
                    Unrelated tail that is fairly long and does not match at all here.\nA heading\nBody.";
        let s = snippet(&mark(text, &["clock", "elapsed", "time"]));
        assert!(s.text.contains("The clock measures elapsed time precisely."), "{s:?}");
        assert!(s.text.ends_with("A heading — Body."), "{s:?}");
        assert_eq!(s.highlights.len(), 3);
        let utf16: Vec<u16> = s.text.encode_utf16().collect();
        let shown: Vec<String> = s.highlights.iter().map(|[a, b]| String::from_utf16_lossy(&utf16[*a..*b])).collect();
        assert_eq!(shown, ["clock", "elapsed", "time"]);
    }

    #[test]
    fn a_long_sentence_is_cut_at_word_boundaries_around_its_match_with_ellipses() {
        let words: Vec<String> = (0..200).map(|i| format!("word{i}")).collect();
        let text = format!("{} needle {}.", words[..100].join(" "), words[100..].join(" "));
        let s = snippet(&mark(&text, &["needle"]));
        assert!(s.text.starts_with('…') && s.text.ends_with('…'), "{}", s.text);
        assert!(s.text.chars().count() <= MAX_CHARS + 2);
        let inner = s.text.trim_matches('…');
        assert!(inner.split(' ').all(|w| w == "needle" || words.iter().any(|x| x == w)), "cut mid-word: {inner}");
        let utf16: Vec<u16> = s.text.encode_utf16().collect();
        let [a, b] = s.highlights[0];
        assert_eq!(String::from_utf16_lossy(&utf16[a..b]), "needle");
    }

    #[test]
    fn offsets_count_utf16_units_after_wide_characters() {
        let s = snippet(&mark("Café 🎉 rocks. Plain.", &["rocks"]));
        let utf16: Vec<u16> = s.text.encode_utf16().collect();
        let [a, b] = s.highlights[0];
        assert_eq!(String::from_utf16_lossy(&utf16[a..b]), "rocks");
    }

    #[test]
    fn without_matches_the_passage_opens_the_snippet_and_empty_text_gives_nothing() {
        let s = snippet("First sentence. Second sentence.");
        assert_eq!(s.text, "First sentence. Second sentence.");
        assert!(s.highlights.is_empty());
        assert_eq!(snippet(""), Snippet::default());
        // Unbalanced markers never panic.
        let _ = snippet(&format!("{STOP}a{START}"));
    }
}
