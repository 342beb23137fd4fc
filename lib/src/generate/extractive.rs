//! The offline composer: a draft in the template's structure assembled from the most
//! relevant source sentences, each cited, with the style guide applied. Used when no LLM
//! provider is configured, so the local app works end to end without accounts.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Source,
    guide::StyleGuide,
    templates::{Kind, Template},
    voice::VoiceProfile,
};
use crate::text::{plain, prose_blocks, sentences, words};

/// The model name reported for extractive drafts.
pub const MODEL: &str = "voiceforge-extractive";

struct Candidate {
    source: usize,
    order: usize,
    text: String,
    words: usize,
    score: f64,
}

/// Composes a draft of about `target_words` words from `sources` (cited as `[n]`, 1-based).
pub fn compose(
    template: &Template,
    inputs: &BTreeMap<String, String>,
    sources: &[Source],
    guide: &StyleGuide,
    profile: Option<&VoiceProfile>,
    target_words: u32,
) -> String {
    let query: BTreeSet<String> = inputs
        .values()
        .flat_map(|v| words(v).map(|w| w.to_lowercase()).collect::<Vec<_>>())
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let banned: Vec<String> = guide.banned_words.iter().map(|w| w.to_lowercase()).collect();
    let mut seen = BTreeSet::new();
    let mut candidates = Vec::new();
    for (si, source) in sources.iter().enumerate() {
        for (_, block) in prose_blocks(&source.text) {
            let text = plain(block);
            for r in sentences(&text) {
                let s = text[r].trim().to_owned();
                let ws: Vec<String> = words(&s).map(|w| w.to_lowercase()).collect();
                // Whole sentences only: a heading or a cut-off excerpt has no closing stop.
                let whole = s.trim_end_matches(['"', '\'', ')', '”', '’']).ends_with(['.', '!', '?']);
                if !whole || !(4..=45).contains(&ws.len()) || !seen.insert(s.clone()) {
                    continue;
                }
                if ws.iter().any(|w| banned.contains(w)) {
                    continue;
                }
                let hits = ws.iter().filter(|w| query.contains(*w)).count() as f64;
                let score = hits * 2.0 + 1.0 / (si as f64 + 1.0) - candidates.len() as f64 * 0.001;
                candidates.push(Candidate { source: si, order: candidates.len(), text: s, words: ws.len(), score });
            }
        }
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut chosen = Vec::new();
    let mut total = 0;
    for c in candidates {
        if total >= target_words as usize && !chosen.is_empty() {
            break;
        }
        total += c.words;
        chosen.push(c);
        if chosen.len() >= 40 {
            break;
        }
    }
    chosen.sort_by_key(|c| (c.source, c.order));
    let cite = |c: &Candidate| apply_guide(&with_marker(&c.text, c.source + 1), guide);

    let topic = template
        .fields
        .iter()
        .find_map(|f| inputs.get(&f.name).map(|v| v.trim()).filter(|v| !v.is_empty()))
        .map(|v| capitalize(&v.chars().take(80).collect::<String>()))
        .unwrap_or_else(|| template.name.clone());
    let cta = inputs
        .iter()
        .find(|(k, v)| k.contains("call_to_action") && !v.trim().is_empty())
        .map(|(_, v)| apply_guide(v.trim(), guide));
    let lines: Vec<String> = chosen.iter().map(cite).collect();
    let paragraph = |ls: &[String]| ls.join(" ");
    let mut out = String::new();
    match template.kind {
        Kind::BlogPost => {
            out.push_str(&format!("# {topic}\n\n"));
            let mut by_source: Vec<(usize, Vec<String>)> = Vec::new();
            for c in &chosen {
                match by_source.last_mut() {
                    Some((s, ls)) if *s == c.source => ls.push(cite(c)),
                    _ => by_source.push((c.source, vec![cite(c)])),
                }
            }
            for (s, ls) in by_source {
                out.push_str(&format!("## {}\n\n{}\n\n", apply_guide(&sources[s].title, guide), paragraph(&ls)));
            }
            if let Some(cta) = cta {
                out.push_str(&format!("{cta}\n"));
            }
        }
        Kind::Email => {
            out.push_str(&format!("Subject: {topic}\n\nHi there,\n\n{}\n\n", paragraph(&lines)));
            if let Some(cta) = cta {
                out.push_str(&format!("{cta}\n\n"));
            }
            out.push_str("Best regards,\nThe team\n");
        }
        Kind::SocialPost => {
            out.push_str(&paragraph(&lines));
            let tags: Vec<String> = profile
                .map(|p| {
                    p.distinctive_terms
                        .iter()
                        .take(3)
                        .map(|t| format!("#{}", capitalize(&t.term.replace('-', ""))))
                        .collect()
                })
                .unwrap_or_default();
            if !tags.is_empty() {
                out.push_str(&format!("\n\n{}", tags.join(" ")));
            }
            out.push('\n');
        }
        Kind::Ad => out.push_str(&format!("**{topic}**\n\n{}\n", paragraph(&lines))),
        Kind::LandingPage => {
            out.push_str(&format!("# {topic}\n\n"));
            if let Some((first, rest)) = lines.split_first() {
                out.push_str(&format!("{first}\n\n"));
                if !rest.is_empty() {
                    out.push_str("## Why it matters\n\n");
                    for l in rest {
                        out.push_str(&format!("- {l}\n"));
                    }
                    out.push('\n');
                }
            }
            if let Some(cta) = cta {
                out.push_str(&format!("**{cta}**\n"));
            }
        }
        Kind::Custom => out.push_str(&format!("{}\n", paragraph(&lines))),
    }
    out.trim_end().to_owned() + "\n"
}

/// Puts ` [n]` before a sentence's final punctuation.
fn with_marker(sentence: &str, n: usize) -> String {
    let trimmed = sentence.trim_end();
    match trimmed.char_indices().last() {
        Some((i, c)) if matches!(c, '.' | '!' | '?') => format!("{} [{n}]{c}", &trimmed[..i]),
        _ => format!("{trimmed} [{n}]."),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Replaces each preferred term (whole words, any case) by its replacement, capitalized
/// where the term was.
pub fn apply_guide(text: &str, guide: &StyleGuide) -> String {
    let mut out = text.to_owned();
    for p in &guide.preferred_terms {
        let lower = out.to_lowercase();
        if lower.len() != out.len() {
            continue;
        }
        let needle = p.term.to_lowercase();
        let mut result = String::with_capacity(out.len());
        let mut at = 0;
        while let Some(i) = lower[at..].find(&needle).map(|i| i + at) {
            let end = i + needle.len();
            let bounded = !lower[..i].chars().last().is_some_and(char::is_alphanumeric)
                && !lower[end..].chars().next().is_some_and(char::is_alphanumeric);
            result.push_str(&out[at..i]);
            if bounded {
                let upper = out[i..].chars().next().is_some_and(char::is_uppercase);
                result.push_str(&if upper { capitalize(&p.replacement) } else { p.replacement.clone() });
            } else {
                result.push_str(&out[i..end]);
            }
            at = end;
        }
        result.push_str(&out[at..]);
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{guide::PreferredTerm, templates::BUILTINS};

    fn template(kind: Kind) -> Template {
        let b = BUILTINS.iter().find(|b| b.kind == kind).unwrap();
        Template {
            id: uuid::Uuid::nil(),
            name: b.name.into(),
            kind,
            description: String::new(),
            instructions: b.instructions.into(),
            fields: b.fields(),
            target_length: None,
            tone: None,
            builtin: None,
            created_by: None,
            created_by_clerk: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn source(title: &str, text: &str) -> Source {
        Source {
            content_id: uuid::Uuid::new_v4(),
            title: title.into(),
            text: text.into(),
            score: 1.0,
            ..Source::default()
        }
    }

    #[test]
    fn an_email_cites_each_sentence_applies_preferred_terms_and_drops_banned_ones() {
        let sources = [
            source("Pricing", "Our pricing is simple for all customers. Synergy drives our pricing model forward."),
            source("Support", "Support answers every ticket within one day."),
        ];
        let guide = StyleGuide {
            banned_words: vec!["synergy".into()],
            preferred_terms: vec![PreferredTerm { term: "customers".into(), replacement: "members".into() }],
            ..Default::default()
        };
        let inputs = [("topic".to_string(), "pricing".to_string())].into_iter().collect();
        let draft = compose(&template(Kind::Email), &inputs, &sources, &guide, None, 30);
        assert!(draft.starts_with("Subject: Pricing\n\nHi there,\n\n"), "{draft}");
        assert!(draft.contains("Our pricing is simple for all members [1]."), "{draft}");
        assert!(draft.contains("Support answers every ticket within one day [2]."), "{draft}");
        assert!(!draft.to_lowercase().contains("synergy"), "{draft}");
    }

    #[test]
    fn a_blog_post_has_a_title_and_a_section_per_source() {
        let sources =
            [source("Why us", "We build tools that last for years."), source("How", "We test every release twice.")];
        let inputs = [("topic".to_string(), "durable tools".to_string())].into_iter().collect();
        let draft = compose(&template(Kind::BlogPost), &inputs, &sources, &StyleGuide::default(), None, 600);
        assert!(
            draft.starts_with("# Durable tools\n\n## Why us\n\nWe build tools that last for years [1].\n\n## How\n\n"),
            "{draft}"
        );
    }

    #[test]
    fn preferred_terms_keep_capitals_and_whole_words() {
        let guide = StyleGuide {
            preferred_terms: vec![PreferredTerm { term: "user".into(), replacement: "member".into() }],
            ..Default::default()
        };
        assert_eq!(apply_guide("User and user, not users.", &guide), "Member and member, not users.");
    }
}
