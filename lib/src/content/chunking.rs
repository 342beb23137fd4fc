//! Markdown-aware chunking: token-sized chunks (cl100k tokens) with overlap, split on the
//! markdown structure first, each carrying the heading path above it for context.

use std::sync::LazyLock;

use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter};
use tiktoken_rs::CoreBPE;

/// Target chunk size in cl100k tokens: under all-MiniLM-L6-v2's 256 word pieces with room
/// for the heading.
pub const MAX_TOKENS: usize = 200;
/// Tokens shared by neighbouring chunks.
pub const OVERLAP_TOKENS: usize = 30;

static BPE: LazyLock<CoreBPE> = LazyLock::new(|| tiktoken_rs::cl100k_base().expect("cl100k vocabulary is compiled in"));

/// One piece of an item's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Order within the item, from 0.
    pub position: i32,
    /// Headings above the chunk, outermost first, joined by " > "; `None` when there are none.
    pub heading: Option<String>,
    /// The chunk's markdown.
    pub text: String,
    /// cl100k tokens in `text`.
    pub token_count: i32,
}

/// Tokens of `text` (cl100k).
pub fn count_tokens(text: &str) -> usize {
    BPE.encode_ordinary(text).len()
}

/// Token counts of slices of one text, from a single tokenization of the whole. The splitter
/// sizes many overlapping candidate slices per chunk while it looks for the largest that
/// fits; tokenizing each afresh cost some 16 passes over the text, 40 ms of CPU for a typical
/// documentation page against 2 ms for one pass (`bench/profile-crawl`).
struct SliceSizer<'t> {
    text: &'t str,
    /// Byte offset in `text` where each of its tokens starts, ascending.
    starts: Vec<usize>,
}

impl<'t> SliceSizer<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = Vec::new();
        let mut at = 0;
        for token in BPE.encode_ordinary(text) {
            starts.push(at);
            at += BPE.decode_bytes(&[token]).map_or(0, |bytes| bytes.len());
        }
        Self { text, starts }
    }
}

impl ChunkSizer for SliceSizer<'_> {
    /// The tokens starting inside the slice, plus one for a token the slice starts inside
    /// of. A slice tokenized on its own can differ at its two edges by a token or so; the
    /// stored `token_count` is counted exactly.
    fn size(&self, chunk: &str) -> usize {
        let at = (chunk.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        let Some(end) = at.checked_add(chunk.len()).filter(|&end| end <= self.text.len()) else {
            return count_tokens(chunk); // not a slice of the text
        };
        if chunk.is_empty() {
            return 0;
        }
        let first = self.starts.partition_point(|&s| s < at);
        let last = self.starts.partition_point(|&s| s < end);
        last - first + usize::from(self.starts.get(first) != Some(&at))
    }
}

/// Splits `markdown` into chunks.
pub fn chunk(markdown: &str) -> Vec<Chunk> {
    let config = ChunkConfig::new(MAX_TOKENS / 2..MAX_TOKENS)
        .with_sizer(SliceSizer::new(markdown))
        .with_overlap(OVERLAP_TOKENS)
        .expect("overlap is below the capacity");
    let splitter = MarkdownSplitter::new(config);
    let headings = headings(markdown);
    splitter
        .chunk_indices(markdown)
        .filter(|(_, text)| text.chars().any(char::is_alphanumeric))
        .enumerate()
        .map(|(position, (offset, text))| Chunk {
            position: position as i32,
            heading: heading_path(&headings, offset, text),
            token_count: count_tokens(text) as i32,
            text: text.to_owned(),
        })
        .collect()
}

/// ATX headings (`## Title`) outside fenced code: (byte offset, level, title as plain text).
fn headings(markdown: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let (mut offset, mut fenced) = (0, false);
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        } else if !fenced && line.len() - trimmed.len() < 4 {
            let level = trimmed.chars().take_while(|&c| c == '#').count();
            let rest = &trimmed[level..];
            if (1..=6).contains(&level) && (rest.starts_with(' ') || rest.trim().is_empty()) {
                // As it reads: link markup and permalink marks (`[¶](#id "Permalink…")`) removed.
                let title = crate::text::plain_markdown(rest.trim().trim_end_matches('#').trim());
                let title = title.trim();
                if !title.is_empty() {
                    out.push((offset, level, title.chars().take(200).collect()));
                }
            }
        }
        offset += line.len();
    }
    out
}

/// The heading path in force at `offset`, leaving out a heading the chunk starts with (the
/// chunk carries that one itself).
fn heading_path(headings: &[(usize, usize, String)], offset: usize, text: &str) -> Option<String> {
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (at, level, title) in headings.iter().take_while(|(at, ..)| *at < offset) {
        let _ = at;
        stack.retain(|(l, _)| l < level);
        stack.push((*level, title));
    }
    let first_line = text.lines().next().unwrap_or("");
    if let Some((_, level, _)) = headings.iter().find(|(at, ..)| *at == offset).filter(|_| first_line.starts_with('#'))
    {
        stack.retain(|(l, _)| l < level);
    }
    let path: Vec<&str> = stack.into_iter().map(|(_, t)| t).collect();
    (!path.is_empty()).then(|| path.join(" > ").chars().take(2048).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_read_as_plain_text_without_permalinks() {
        let md = "# Guide[¶](#guide \"Permalink to this heading\")\n\n## [Install](#install) `pip`[¶](#x)\n\nRun it.\n";
        let titles: Vec<String> = headings(md).into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(titles, ["Guide", "Install pip"]);
        let long = format!("{md}\n{}\n", "Run it again and again. ".repeat(120));
        let last = chunk(&long).pop().unwrap();
        assert_eq!(last.heading.as_deref(), Some("Guide > Install pip"), "{last:?}");
    }

    #[test]
    fn long_markdown_becomes_overlapping_token_sized_chunks_with_their_headings() {
        let para = "Sentences about installing the tool on a laptop keep coming here. ".repeat(40);
        let md = format!(
            "# Guide\n\nIntro text.\n\n## Install\n\n### Linux\n\n{para}\n\n## Usage\n\nRun it.\n\n```\n# not a heading\n```\n"
        );
        let chunks = chunk(&md);
        assert!(chunks.len() >= 4, "{chunks:#?}");
        assert!(chunks.iter().all(|c| c.token_count as usize <= MAX_TOKENS));
        assert!(chunks.iter().enumerate().all(|(i, c)| c.position == i as i32));
        let linux: Vec<&Chunk> = chunks.iter().filter(|c| c.text.contains("laptop")).collect();
        assert!(linux.len() >= 2);
        assert!(linux.iter().all(|c| c.heading.as_deref().unwrap_or("").starts_with("Guide > Install")), "{linux:#?}");
        // Neighbouring chunks of the long paragraph share text.
        let (a, b) = (&linux[0].text, &linux[1].text);
        let tail: String = a.chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        assert!(b.contains(tail.trim()), "no overlap between\n{a}\nand\n{b}");
        let usage = chunks.iter().find(|c| c.text.contains("Run it")).unwrap();
        assert_eq!(usage.heading.as_deref(), Some("Guide"), "{usage:?}");
    }

    #[test]
    fn slices_are_sized_from_one_tokenization_within_two_tokens_of_their_own_count() {
        let text = format!(
            "# Guide\n\n{}Ünïcödé wörds, 12345 numbers and `code()` too.\n\n## Next\n\nMore text here.",
            "Sentences about installing the tool on a laptop keep coming here. ".repeat(20)
        );
        let sizer = SliceSizer::new(&text);
        assert_eq!(sizer.size(&text), count_tokens(&text));
        let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).step_by(7).collect();
        let mut worst = 0;
        for (i, &start) in bounds.iter().enumerate() {
            for &end in bounds[i..].iter().step_by(5) {
                let slice = &text[start..end];
                worst = worst.max(sizer.size(slice).abs_diff(count_tokens(slice)));
            }
        }
        assert!(worst <= 2, "a slice was off by {worst} tokens");
        let elsewhere = String::from("not a slice of the text");
        assert_eq!(sizer.size(&elsewhere), count_tokens(&elsewhere));
        assert_eq!(sizer.size(&text[9..9]), 0);
    }

    #[test]
    fn empty_and_symbol_only_text_gives_no_chunks() {
        assert!(chunk("").is_empty());
        assert!(chunk("---\n\n***\n").is_empty());
    }
}
