//! Plain text from the library's markdown, and the measures built on it: prose blocks,
//! sentences with their positions, words, syllables. Shared by search (snippets, the text
//! that is embedded), generation's sources, the voice profile and the extractive composer.

/// Blocks of prose in markdown, with their byte offsets: paragraphs and list items, without
/// headings, code, tables or quote markers.
pub fn prose_blocks<'a>(markdown: &'a str) -> Vec<(usize, &'a str)> {
    let mut blocks = Vec::new();
    let mut in_code = false;
    let mut current: Option<(usize, usize)> = None;
    let mut offset = 0;
    let flush = |current: &mut Option<(usize, usize)>, blocks: &mut Vec<(usize, &'a str)>| {
        if let Some((s, e)) = current.take() {
            let text = markdown[s..e].trim_end();
            if !text.is_empty() {
                blocks.push((s, text));
            }
        }
    };
    for line in markdown.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            flush(&mut current, &mut blocks);
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let body = trimmed.trim_end();
        if body.is_empty() || body.starts_with('#') || body.starts_with('|') || is_rule(body) {
            flush(&mut current, &mut blocks);
            continue;
        }
        let (marker, is_item) = block_marker(trimmed);
        let content_start = start + indent + marker;
        let content_end = start + line.trim_end().len();
        if content_start >= content_end {
            continue;
        }
        match (&mut current, is_item) {
            (Some((_, e)), false) => *e = content_end,
            _ => {
                flush(&mut current, &mut blocks);
                current = Some((content_start, content_end));
            }
        }
    }
    flush(&mut current, &mut blocks);
    blocks
}

fn is_rule(line: &str) -> bool {
    line.len() >= 3
        && line.chars().all(|c| matches!(c, '-' | '*' | '_' | ' '))
        && line.chars().filter(|c| *c != ' ').count() >= 3
}

/// Length of a list or quote marker at the start of `line`, and whether it starts an item.
fn block_marker(line: &str) -> (usize, bool) {
    let bytes = line.as_bytes();
    if let Some(rest) = line.strip_prefix("> ").or_else(|| line.strip_prefix('>')) {
        return (line.len() - rest.len(), true);
    }
    if bytes.len() >= 2 && matches!(bytes[0], b'-' | b'*' | b'+') && bytes[1] == b' ' {
        return (2, true);
    }
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0
        && digits <= 3
        && bytes.get(digits).is_some_and(|b| matches!(b, b'.' | b')'))
        && bytes.get(digits + 1) == Some(&b' ')
    {
        return (digits + 2, true);
    }
    (0, false)
}

/// Inline markdown reduced to its text: links and images to their text, emphasis, code
/// ticks and HTML tags removed.
pub fn plain(inline: &str) -> String {
    let mut out = String::with_capacity(inline.len());
    let mut chars = inline.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '!' if inline[i + 1..].starts_with('[') => match link_at(inline, i + 1) {
                // An image: dropped with its alt text.
                Some(link) => skip_to(&mut chars, link.end),
                None => out.push(c),
            },
            '[' => match link_at(inline, i) {
                Some(link) => {
                    out.push_str(&plain(&inline[link.text]));
                    skip_to(&mut chars, link.end);
                }
                None => out.push(c),
            },
            '<' => {
                if let Some(end) = inline[i..].find('>').filter(|j| *j < 200) {
                    skip_to(&mut chars, i + end + 1);
                } else {
                    out.push(c);
                }
            }
            '*' | '`' => {}
            '_' if !prev_is_alnum(&out) || !chars.peek().is_some_and(|(_, n)| n.is_alphanumeric()) => {}
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Advances `chars` to byte offset `end`.
fn skip_to(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, end: usize) {
    while chars.peek().is_some_and(|(j, _)| *j < end) {
        chars.next();
    }
}

/// A markdown inline link `[text](target "title")` found at `at` (which holds `[`).
struct Link {
    /// The link text, between the brackets.
    text: std::ops::Range<usize>,
    /// Just after the closing parenthesis.
    end: usize,
}

/// The inline link starting at `at`: brackets and parentheses balanced (link text may hold
/// `[0]`, targets may hold parentheses), escaped ones skipped, on one line.
fn link_at(s: &str, at: usize) -> Option<Link> {
    let bytes = s.as_bytes();
    let close = balanced(bytes, at, b'[', b']')?;
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    let end = balanced(bytes, close + 1, b'(', b')')?;
    Some(Link { text: at + 1..close, end: end + 1 })
}

/// The index of the bracket closing the one at `open`, on the same line.
fn balanced(bytes: &[u8], open: usize, left: u8, right: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'\n' => return None,
            b if b == left => depth += 1,
            b if b == right => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Markdown with what costs an embedding model tokens and says nothing taken out: link
/// targets and titles (`[text](url "title")` reads `text`), images, autolinks, reference
/// definitions, permalink marks (`¶`) and backslash escapes. Everything else stays as
/// written, so the text embedded still reads as the page does.
pub fn without_link_targets(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.split_inclusive('\n') {
        if is_link_definition(line.trim_start()) {
            continue;
        }
        let line = unescape(line);
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '!' if line[i + 1..].starts_with('[') => match link_at(&line, i + 1) {
                    Some(link) => skip_to(&mut chars, link.end),
                    None => out.push(c),
                },
                '[' => match link_at(&line, i) {
                    Some(link) => {
                        out.push_str(&without_link_targets(&line[link.text]));
                        skip_to(&mut chars, link.end);
                    }
                    None => out.push(c),
                },
                '<' if line[i + 1..].starts_with("http") => match line[i..].find('>') {
                    Some(end) => skip_to(&mut chars, i + end + 1),
                    None => out.push(c),
                },
                '¶' => {}
                _ => out.push(c),
            }
        }
    }
    out
}

/// Markdown reduced to readable text, block by block: heading, list and quote markers
/// dropped, links to their text, images, link targets, reference definitions, permalink
/// marks (`¶`) and HTML removed, backslash escapes resolved; code blocks kept as they are;
/// wrapped lines of a paragraph joined; blocks separated by one blank line. What search shows
/// and what a draft's sources quote.
pub fn plain_markdown(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut in_code = false;
    let mut blank = true;
    // Whether the last line written was paragraph text a wrapped line continues.
    let mut in_paragraph = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            in_paragraph = false;
            continue;
        }
        if in_code {
            out.push_str(line.trim_end());
            out.push('\n');
            blank = false;
            continue;
        }
        if is_link_definition(trimmed) || is_rule(trimmed.trim_end()) {
            in_paragraph = false;
            continue;
        }
        let heading = trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with([' ', '\t']);
        let body = if heading { trimmed.trim_start_matches('#').trim_start() } else { trimmed };
        let (marker, _) = block_marker(body);
        let text = plain(&unescape(&body[marker..])).replace('¶', "");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            if !blank {
                out.push('\n');
                blank = true;
            }
            in_paragraph = false;
            continue;
        }
        // A soft line break inside a paragraph reads as a space.
        if in_paragraph && !heading && marker == 0 && !body.starts_with('|') {
            out.pop();
            out.push(' ');
        }
        out.push_str(&text);
        out.push('\n');
        blank = false;
        in_paragraph = !heading && !body.starts_with('|');
    }
    out.truncate(out.trim_end().len());
    out
}

/// A reference-style link definition (`[id]: https://…`), which reads as nothing.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.find("]:").is_some_and(|at| !line[1..at].contains(']'))
}

/// Markdown backslash escapes (`perf\_counter`) resolved to the character they protect.
fn unescape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\\') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && next.is_ascii_punctuation() => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out.into()
}

fn prev_is_alnum(s: &str) -> bool {
    s.chars().last().is_some_and(char::is_alphanumeric)
}

const ABBREVIATIONS: &[&str] =
    &["e.g", "i.e", "mr", "mrs", "ms", "dr", "prof", "vs", "inc", "ltd", "co", "st", "etc", "approx", "no", "jr", "sr"];

/// Sentence byte ranges in a block of prose: ends at `.`, `!` or `?` (with closing quotes or
/// brackets) before whitespace or the end, except after common abbreviations and initials;
/// the block's tail is a sentence too.
pub fn sentences(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b'.' | b'!' | b'?') {
            let mut end = i + 1;
            while end < bytes.len() && matches!(bytes[end], b'.' | b'!' | b'?' | b'"' | b'\'' | b')' | b']') {
                end += 1;
            }
            // Closing curly quotes (’ ” are three bytes each).
            while text[end..].starts_with('”') || text[end..].starts_with('’') {
                end += 3;
            }
            let at_boundary = end >= bytes.len() || text[end..].starts_with(char::is_whitespace);
            if at_boundary && !(b == b'.' && is_abbreviation(&text[start..i])) {
                push_trimmed(text, start..end, &mut out);
                start = end;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    push_trimmed(text, start..bytes.len(), &mut out);
    out
}

fn is_abbreviation(before: &str) -> bool {
    let last = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("").to_lowercase();
    (last.chars().count() == 1 && last.chars().all(char::is_alphabetic)) || ABBREVIATIONS.contains(&last.as_str())
}

fn push_trimmed(text: &str, range: std::ops::Range<usize>, out: &mut Vec<std::ops::Range<usize>>) {
    let slice = &text[range.clone()];
    let lead = slice.len() - slice.trim_start().len();
    let trail = slice.len() - slice.trim_end().len();
    let r = range.start + lead..range.end - trail;
    if !r.is_empty() && words(&text[r.clone()]).next().is_some() {
        out.push(r);
    }
}

/// Words: whitespace-separated tokens stripped of surrounding punctuation, with a letter in
/// them; curly apostrophes become straight ones.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || matches!(c, '—' | '–' | '/'))
        .map(|t| t.replace('’', "'").trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
        .filter(|t| t.chars().any(char::is_alphabetic))
}

/// Syllables by the usual heuristic: words of three letters or fewer have one; otherwise
/// count groups of vowels (a e i o u y), less one for a silent final `e` (but not `-le`),
/// at least one.
pub fn syllables(word: &str) -> u32 {
    let w: Vec<char> = word.to_lowercase().chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if w.len() <= 3 {
        return 1;
    }
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut groups = 0;
    let mut prev = false;
    for &c in &w {
        let v = vowel(c);
        if v && !prev {
            groups += 1;
        }
        prev = v;
    }
    let n = w.len();
    let consonant_le = w[n - 2] == 'l' && !vowel(w[n - 3]);
    if w[n - 1] == 'e' && !consonant_le && groups > 1 {
        groups -= 1;
    }
    groups.max(1)
}

/// Byte offset → UTF-16 offset (what JavaScript strings index by).
pub fn utf16_offset(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_skip_headings_code_and_tables_and_split_list_items() {
        let md =
            "# Title\n\nFirst para\ncontinues.\n\n```\ncode here\n```\n- item one\n- item two\n\n| a | b |\n> quoted\n";
        let blocks: Vec<&str> = prose_blocks(md).into_iter().map(|(_, b)| b).collect();
        assert_eq!(blocks, ["First para\ncontinues.", "item one", "item two", "quoted"]);
        for (at, b) in prose_blocks(md) {
            assert_eq!(&md[at..at + b.len()], b);
        }
    }

    #[test]
    fn sentences_respect_abbreviations_initials_and_decimals() {
        let t = "We ship v2.5 today. See e.g. the docs! Ask J. Smith? Yes";
        let s: Vec<&str> = sentences(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(s, ["We ship v2.5 today.", "See e.g. the docs!", "Ask J. Smith?", "Yes"]);
    }

    #[test]
    fn inline_markup_is_reduced_to_text() {
        assert_eq!(
            plain("Read [our **guide**](https://x.test/a) ![img](i.png) <b>now</b> `x` snake_case"),
            "Read our guide  now x snake_case"
        );
    }

    #[test]
    fn links_lose_their_targets_and_nothing_else_changes() {
        let md = "## Functions[¶](#functions \"Permalink\")\n\
                  Use [`a[0]`](x.html#a (see)) or a[k] <= *b*; ![img](i.png) <https://x.test> \\_ok\n\
                  [ref]: https://x.test/ref\n";
        assert_eq!(without_link_targets(md), "## Functions\nUse `a[0]` or a[k] <= *b*;   _ok\n");
        assert_eq!(plain("a[k] and [b](c) [unclosed"), "a[k] and b [unclosed");
    }

    #[test]
    fn markdown_reads_as_plain_text_without_link_targets_or_permalinks() {
        let md = "## Functions[¶](#functions \"Permalink to this heading\")\n\n\
                  time.perf\\_counter() → [float](http://x.test/functions.html#float \"float\")\n\
                  - Use [perf\\_counter\\_ns()](#time.perf_counter_ns) ![chart](c.png) instead.\n\n\n\
                  [ref]: https://x.test/ref\n\n```\nx = 1  # keep\n```\n---\n> quoted *text*";
        assert_eq!(
            plain_markdown(md),
            "Functions\n\ntime.perf_counter() → float\nUse perf_counter_ns() instead.\n\nx = 1  # keep\nquoted text"
        );
        assert_eq!(
            plain_markdown("A wrapped\nparagraph.\n- item\n  continued\n# Head\nNext"),
            "A wrapped paragraph.\nitem continued\nHead\nNext"
        );
    }

    #[test]
    fn syllable_heuristic_on_known_words() {
        for (w, n) in [
            ("the", 1),
            ("make", 1),
            ("table", 2),
            ("reading", 2),
            ("simple", 2),
            ("beautiful", 3),
            ("you're", 1),
            ("every", 3),
            ("voice", 1),
        ] {
            assert_eq!(syllables(w), n, "{w}");
        }
    }
}
