//! Plain-text measures shared by the voice profile, the voice check and the extractive
//! composer: prose blocks of markdown, sentences with their positions, words, syllables.

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
            '!' if inline[i + 1..].starts_with('[') => {
                // An image: dropped with its alt text.
                if let Some(end) = inline[i..].find("](").and_then(|c| inline[i + c..].find(')').map(|e| i + c + e)) {
                    while chars.peek().is_some_and(|(j, _)| *j <= end) {
                        chars.next();
                    }
                }
            }
            '[' => {
                if let Some(close) = inline[i..].find("](").map(|j| i + j)
                    && let Some(end) = inline[close..].find(')').map(|j| close + j)
                {
                    out.push_str(&plain(&inline[i + 1..close]));
                    while chars.peek().is_some_and(|(j, _)| *j <= end) {
                        chars.next();
                    }
                }
            }
            '<' => {
                if let Some(end) = inline[i..].find('>').filter(|j| *j < 200) {
                    while chars.peek().is_some_and(|(j, _)| *j <= i + end) {
                        chars.next();
                    }
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
