//! The organization's style guide and the voice check that scores a text against it and
//! against the measured profile.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::voice::VoiceProfile;
use crate::{
    tenancy::Tenant,
    text::{prose_blocks, sentences, utf16_offset, words},
};

/// A term to avoid and the one to use instead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferredTerm {
    /// What not to write.
    pub term: String,
    /// What to write instead.
    pub replacement: String,
}

/// The style guide as stored and sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleGuide {
    /// Tone descriptors, e.g. "warm", "plain-spoken".
    #[serde(default)]
    pub tone: Vec<String>,
    /// Term → replacement.
    #[serde(default)]
    pub preferred_terms: Vec<PreferredTerm>,
    /// Words never to use.
    #[serde(default)]
    pub banned_words: Vec<String>,
    /// Examples of writing in the voice.
    #[serde(default)]
    pub do_examples: Vec<String>,
    /// Examples of what the voice is not.
    #[serde(default)]
    pub dont_examples: Vec<String>,
}

impl StyleGuide {
    /// Whether the guide says nothing.
    pub fn is_empty(&self) -> bool {
        self == &StyleGuide::default()
    }

    /// Trims entries and checks bounds; the error names the field.
    pub fn validate(mut self) -> Result<Self, String> {
        fn list(name: &str, v: &mut Vec<String>, max_items: usize, max_chars: usize) -> Result<(), String> {
            // Counted as sent, before blanks are dropped: a list over the bound is refused
            // whatever it holds, as the contract says (maxItems), rather than stored.
            // Lengths too: an entry over the bound is refused even if trimming would fit it.
            if v.len() > max_items {
                return Err(format!("{name}: at most {max_items} entries"));
            }
            if let Some(i) = v.iter().position(|s| s.chars().count() > max_chars) {
                return Err(format!("{name}[{i}]: at most {max_chars} characters"));
            }
            for s in v.iter_mut() {
                *s = s.trim().to_owned();
            }
            v.retain(|s| !s.is_empty());
            Ok(())
        }
        list("tone", &mut self.tone, 10, 40)?;
        list("banned_words", &mut self.banned_words, 200, 60)?;
        list("do_examples", &mut self.do_examples, 20, 1000)?;
        list("dont_examples", &mut self.dont_examples, 20, 1000)?;
        if self.preferred_terms.len() > 100 {
            return Err("preferred_terms: at most 100 entries".into());
        }
        for (i, p) in self.preferred_terms.iter_mut().enumerate() {
            let (term_chars, replacement_chars) = (p.term.chars().count(), p.replacement.chars().count());
            p.term = p.term.trim().to_owned();
            p.replacement = p.replacement.trim().to_owned();
            if p.term.is_empty() || term_chars > 60 {
                return Err(format!("preferred_terms[{i}].term: 1 to 60 characters"));
            }
            if p.replacement.is_empty() || replacement_chars > 60 {
                return Err(format!("preferred_terms[{i}].replacement: 1 to 60 characters"));
            }
        }
        Ok(self)
    }
}

/// The stored guide with who changed it last.
#[derive(Clone, Debug, Serialize)]
pub struct StoredGuide {
    /// The guide.
    #[serde(flatten)]
    pub guide: StyleGuide,
    /// Clerk id of the admin who last changed it.
    pub updated_by: Option<String>,
    /// When it last changed; null while the org has none.
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// The tenant's style guide (empty when never set).
pub async fn get(tenant: &mut Tenant) -> Result<StoredGuide, sqlx::Error> {
    let org_id = tenant.org().id;
    let row: Option<(sqlx::types::Json<StyleGuide>, Option<String>, OffsetDateTime)> = sqlx::query_as(
        "SELECT g.guide, u.clerk_user_id, g.updated_at FROM style_guides g LEFT JOIN users u ON u.id = g.updated_by
          WHERE g.org_id = $1",
    )
    .bind(org_id)
    .fetch_optional(tenant.conn())
    .await?;
    Ok(match row {
        Some((g, by, at)) => StoredGuide { guide: g.0, updated_by: by, updated_at: Some(at) },
        None => StoredGuide { guide: StyleGuide::default(), updated_by: None, updated_at: None },
    })
}

/// Replaces the tenant's style guide.
pub async fn put(tenant: &mut Tenant, guide: &StyleGuide) -> Result<StoredGuide, sqlx::Error> {
    let (org_id, user) = (tenant.org().id, tenant.user_id());
    sqlx::query(
        "INSERT INTO style_guides (org_id, guide, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (org_id) DO UPDATE SET guide = EXCLUDED.guide, updated_by = EXCLUDED.updated_by, updated_at = now()",
    )
    .bind(org_id)
    .bind(sqlx::types::Json(guide))
    .bind(user)
    .execute(tenant.conn())
    .await?;
    get(tenant).await
}

/// One thing the voice check found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `banned_word`, `preferred_term`, `sentence_too_long`, `sentence_too_short`,
    /// `exclamations`.
    pub kind: String,
    /// What to change, for people.
    pub message: String,
    /// Start, in UTF-16 code units (JavaScript string indices).
    pub start: usize,
    /// End, exclusive.
    pub end: usize,
    /// The text found there.
    pub text: String,
    /// Points taken off the score.
    pub penalty: u32,
}

/// The result of a voice check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceCheck {
    /// 100 minus the penalties, floored at 0.
    pub score: u32,
    /// Itemized findings in text order.
    pub findings: Vec<Finding>,
}

/// Longest text the check accepts, in bytes.
pub const MAX_CHECK_BYTES: usize = 100_000;

/// Scores `text` against the guide and the profile: banned words (−15 each), terms with a
/// preferred replacement (−5 each), sentences far outside the profile's lengths (−4 each:
/// beyond max(p90 × 1.5, mean + 2 sd, mean + 8) words, or under min(p10 / 2, mean − 2 sd)
/// with at least 8 words of difference), and exclamations far above the profile's rate (−5).
pub fn check(text: &str, guide: &StyleGuide, profile: Option<&VoiceProfile>) -> VoiceCheck {
    let mut findings = Vec::new();
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; only match when it did not.
    let same_len = lower.len() == text.len();
    let find_all = |needle: &str, kind: &str, message: String, penalty: u32, findings: &mut Vec<Finding>| {
        if !same_len || needle.is_empty() {
            return;
        }
        let n = needle.to_lowercase();
        let mut at = 0;
        while let Some(i) = lower[at..].find(&n).map(|i| i + at) {
            let end = i + n.len();
            let before_ok = !lower[..i].chars().last().is_some_and(char::is_alphanumeric);
            let after_ok = !lower[end..].chars().next().is_some_and(char::is_alphanumeric);
            if before_ok && after_ok {
                findings.push(Finding {
                    kind: kind.into(),
                    message: message.clone(),
                    start: utf16_offset(text, i),
                    end: utf16_offset(text, end),
                    text: text[i..end].to_owned(),
                    penalty,
                });
            }
            at = end;
        }
    };
    for word in &guide.banned_words {
        find_all(word, "banned_word", format!("\"{word}\" is banned by the style guide"), 15, &mut findings);
    }
    for p in &guide.preferred_terms {
        let message = format!("write \"{}\" instead of \"{}\"", p.replacement, p.term);
        find_all(&p.term, "preferred_term", message, 5, &mut findings);
    }
    if let Some(profile) = profile.filter(|p| p.sentences >= 3) {
        let s = &profile.sentence_length;
        let long = (f64::from(s.p90) * 1.5).max(s.mean + 2.0 * s.stdev).max(s.mean + 8.0);
        let short = (f64::from(s.p10) / 2.0).min(s.mean - 2.0 * s.stdev).min(s.mean - 8.0);
        let (mut count, mut exclaims) = (0usize, 0usize);
        for (at, block) in prose_blocks(text) {
            for r in sentences(block) {
                let sentence = &block[r.clone()];
                let n = words(sentence).count() as f64;
                count += 1;
                exclaims += usize::from(sentence.trim_end_matches(['"', '\'', ')']).ends_with('!'));
                let (kind, message) = if n > long {
                    (
                        "sentence_too_long",
                        format!("{n} words; your library's sentences run {} to {} words", s.p10, s.p90),
                    )
                } else if n < short {
                    (
                        "sentence_too_short",
                        format!("{n} words; your library's sentences run {} to {} words", s.p10, s.p90),
                    )
                } else {
                    continue;
                };
                findings.push(Finding {
                    kind: kind.into(),
                    message,
                    start: utf16_offset(text, at + r.start),
                    end: utf16_offset(text, at + r.end),
                    text: sentence.chars().take(200).collect(),
                    penalty: 4,
                });
            }
        }
        if count >= 3 && exclaims as f64 / count as f64 > profile.exclamation_rate + 0.25 {
            findings.push(Finding {
                kind: "exclamations".into(),
                message: format!(
                    "{exclaims} of {count} sentences end in \"!\"; your library's rate is {:.0}%",
                    profile.exclamation_rate * 100.0
                ),
                start: 0,
                end: utf16_offset(text, text.len()),
                text: String::new(),
                penalty: 5,
            });
        }
    }
    findings.sort_by_key(|f| (f.start, f.end));
    let penalty: u32 = findings.iter().map(|f| f.penalty).sum();
    VoiceCheck { score: 100u32.saturating_sub(penalty), findings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::voice::measure;

    fn guide() -> StyleGuide {
        StyleGuide {
            banned_words: vec!["synergy".into()],
            preferred_terms: vec![PreferredTerm { term: "customers".into(), replacement: "members".into() }],
            ..Default::default()
        }
    }

    #[test]
    fn banned_words_and_preferred_terms_are_found_at_their_positions() {
        let text = "Our customers love the synergy. Synergy! Not synergyx.";
        let c = check(text, &guide(), None);
        let kinds: Vec<(&str, usize, usize)> = c.findings.iter().map(|f| (f.kind.as_str(), f.start, f.end)).collect();
        assert_eq!(kinds, [("preferred_term", 4, 13), ("banned_word", 23, 30), ("banned_word", 32, 39)]);
        assert_eq!(c.score, 100 - 5 - 15 - 15);
        assert_eq!(c.findings[2].text, "Synergy");
        assert!(c.findings[0].message.contains("\"members\""));
    }

    #[test]
    fn positions_count_utf16_units_like_javascript() {
        let c = check("😀 synergy", &guide(), None);
        assert_eq!((c.findings[0].start, c.findings[0].end), (3, 10));
    }

    #[test]
    fn sentences_far_longer_than_the_library_are_flagged() {
        let library = ["We make tools. They are fast. You will like them. We ship weekly. Try it today."];
        let profile = measure(&library);
        // Library: lengths 3,3,4,3,3 → mean 3.2, p90 4 → long threshold max(6, 4.0, 11.2) = 11.2 words.
        let long = "This single sentence keeps going on and on with many more words than any of ours.";
        let c = check(&format!("We make tools. {long}"), &StyleGuide::default(), Some(&profile));
        assert_eq!(c.findings.len(), 1, "{c:?}");
        assert_eq!(c.findings[0].kind, "sentence_too_long");
        assert_eq!(c.findings[0].start, 15);
        assert_eq!(c.score, 96);
        assert_eq!(check("We make tools. They are fast.", &StyleGuide::default(), Some(&profile)).score, 100);
    }

    #[test]
    fn guide_validation_names_the_offending_entry() {
        let mut g = guide();
        g.preferred_terms.push(PreferredTerm { term: "x".into(), replacement: " ".into() });
        assert_eq!(g.validate().unwrap_err(), "preferred_terms[1].replacement: 1 to 60 characters");
        let g = StyleGuide { banned_words: vec!["a".repeat(61)], ..Default::default() };
        assert_eq!(g.validate().unwrap_err(), "banned_words[0]: at most 60 characters");
    }

    #[test]
    fn a_list_over_its_bound_is_refused_even_when_its_entries_are_blank() {
        let g = StyleGuide { tone: vec![" ".into(); 11], ..Default::default() };
        assert_eq!(g.validate().unwrap_err(), "tone: at most 10 entries");
        let g = StyleGuide { tone: vec![" ".into(); 10], ..Default::default() };
        assert!(g.validate().unwrap().tone.is_empty());
    }

    #[test]
    fn an_entry_over_its_bound_is_refused_even_when_trimming_would_fit_it() {
        let padded = format!("    warm{}", " ".repeat(40));
        let g = StyleGuide { tone: vec![padded], ..Default::default() };
        assert_eq!(g.validate().unwrap_err(), "tone[0]: at most 40 characters");
        let term = PreferredTerm { term: format!(" {} ", "a".repeat(59)), replacement: "b".into() };
        let g = StyleGuide { preferred_terms: vec![term], ..Default::default() };
        assert_eq!(g.validate().unwrap_err(), "preferred_terms[0].term: 1 to 60 characters");
        let g = StyleGuide { tone: vec!["  warm  ".into()], ..Default::default() };
        assert_eq!(g.validate().unwrap().tone, ["warm"]);
    }
}
