//! The measured brand voice: figures computed from the organization's library and cached
//! under the library's fingerprint (item count + latest change), so a changed library is
//! measured again on the next read.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::tenancy::Tenant;
use crate::text::{plain, prose_blocks, sentences, syllables, words};

/// Items measured at most (the most recently changed), and bytes read of each.
pub const MAX_ITEMS: i64 = 300;
const MAX_BYTES_PER_ITEM: usize = 100_000;

/// The voice profile of a library.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct VoiceProfile {
    /// Items the figures rest on.
    pub items: usize,
    /// Words measured.
    pub words: usize,
    /// Sentences measured.
    pub sentences: usize,
    /// Words per sentence.
    pub sentence_length: SentenceLength,
    /// Readability.
    pub readability: Readability,
    /// Person and address.
    pub person: Person,
    /// Contractions per 1,000 words.
    pub contractions_per_1000_words: f64,
    /// Share of sentences ending in `!` (0–1).
    pub exclamation_rate: f64,
    /// Share of sentences ending in `?` (0–1).
    pub question_rate: f64,
    /// Words the library uses often that common English does not.
    pub distinctive_terms: Vec<Term>,
    /// Two- and three-word phrases the library repeats.
    pub distinctive_phrases: Vec<Term>,
}

/// Distribution of sentence lengths, in words.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SentenceLength {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// Population standard deviation.
    pub stdev: f64,
    /// 10th percentile (nearest rank).
    pub p10: u32,
    /// 90th percentile (nearest rank).
    pub p90: u32,
    /// Shortest.
    pub min: u32,
    /// Longest.
    pub max: u32,
    /// Sentences per length bucket.
    pub histogram: Vec<Bucket>,
}

/// A histogram bucket.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Bucket {
    /// Words, e.g. `1-7`, `29+`.
    pub range: String,
    /// Sentences in it.
    pub count: usize,
}

/// Flesch reading ease and Flesch–Kincaid grade.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Readability {
    /// 206.835 − 1.015 × words/sentence − 84.6 × syllables/word.
    pub flesch_reading_ease: f64,
    /// 0.39 × words/sentence + 11.8 × syllables/word − 15.59.
    pub flesch_kincaid_grade: f64,
    /// Words per sentence.
    pub words_per_sentence: f64,
    /// Syllables per word (heuristic count).
    pub syllables_per_word: f64,
}

/// Who speaks and whom the text addresses.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Person {
    /// we / us / our … per 1,000 words.
    pub we_per_1000_words: f64,
    /// I / me / my … per 1,000 words.
    pub i_per_1000_words: f64,
    /// you / your … per 1,000 words.
    pub you_per_1000_words: f64,
    /// `first_person_plural`, `first_person_singular` or `third_person`.
    pub voice: String,
    /// `direct` (addresses the reader as you, ≥ 10 per 1,000 words) or `indirect`.
    pub address: String,
}

/// A term or phrase with how often and in how many items it occurs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Term {
    /// The term, lowercased.
    pub term: String,
    /// Occurrences.
    pub count: usize,
    /// Items it occurs in.
    pub items: usize,
}

const WE: &[&str] = &["we", "us", "our", "ours", "ourselves", "we're", "we've", "we'll", "we'd", "let's"];
const I: &[&str] = &["i", "me", "my", "mine", "myself", "i'm", "i've", "i'll", "i'd"];
const YOU: &[&str] = &["you", "your", "yours", "yourself", "yourselves", "you're", "you've", "you'll", "you'd"];
const S_CONTRACTIONS: &[&str] =
    &["it's", "that's", "there's", "here's", "what's", "let's", "who's", "he's", "she's", "where's", "how's"];

/// Whether a (lowercased, straight-apostrophe) word is a contraction.
pub fn is_contraction(w: &str) -> bool {
    ["n't", "'re", "'ve", "'ll", "'d", "'m"].iter().any(|s| w.ends_with(s) && w.len() > s.len())
        || S_CONTRACTIONS.contains(&w)
}

/// Common English words: never distinctive. Stop words plus the most frequent content words.
const BACKGROUND: &str = "a about above after again against all also am an and any are aren't as at be because been before being \
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from \
further get gets got had hadn't has hasn't have haven't having he her here hers herself him himself his how however i if in \
into is isn't it its itself just let like make makes made many may me more most much must my need new no nor not now of off \
on once one only or other our ours out over own same she should so some such than that the their theirs them then there \
these they this those through to too under until up upon use used using very via was wasn't way we were weren't what when \
where which while who whom why will with within without would you your yours yourself also well even every first two three \
time year years day days people thing things good great best better see know take come go going want look way work works \
working back give think first last long little right still find help helps helped keep start show try call ask feel become \
leave put mean many part place case point week company number group problem fact home world area hand life end high small \
large next early young important public able sure different available full free really always often never already another \
around because across ever yet though although whether since per etc e.g i.e";

fn is_background(word: &str) -> bool {
    use std::sync::OnceLock;
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| BACKGROUND.split_whitespace().collect()).contains(word)
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Measures a set of markdown texts (one per library item).
pub fn measure<S: AsRef<str>>(items: &[S]) -> VoiceProfile {
    let mut lengths: Vec<u32> = Vec::new();
    let (mut total_words, mut total_syllables, mut contractions, mut exclaims, mut questions) = (0usize, 0u64, 0, 0, 0);
    let (mut we, mut i_, mut you) = (0usize, 0usize, 0usize);
    let mut terms: HashMap<String, (usize, usize)> = HashMap::new();
    let mut phrases: HashMap<String, (usize, usize)> = HashMap::new();
    for item in items {
        let item = item.as_ref();
        let item = &item[..floor_char_boundary(item, MAX_BYTES_PER_ITEM)];
        let mut seen_terms: std::collections::HashSet<String> = Default::default();
        let mut seen_phrases: std::collections::HashSet<String> = Default::default();
        for (_, block) in prose_blocks(item) {
            let text = plain(block);
            for range in sentences(&text) {
                let sentence = &text[range];
                let ws: Vec<String> = words(sentence).map(|w| w.to_lowercase()).collect();
                lengths.push(ws.len() as u32);
                match sentence.trim_end_matches(['"', '\'', ')', ']', '”', '’']).chars().last() {
                    Some('!') => exclaims += 1,
                    Some('?') => questions += 1,
                    _ => {}
                }
                for w in &ws {
                    total_words += 1;
                    total_syllables += u64::from(syllables(w));
                    contractions += usize::from(is_contraction(w));
                    we += usize::from(WE.contains(&w.as_str()));
                    i_ += usize::from(I.contains(&w.as_str()));
                    you += usize::from(YOU.contains(&w.as_str()));
                    if w.chars().count() >= 3 && w.chars().all(|c| c.is_alphabetic() || c == '-') && !is_background(w) {
                        let e = terms.entry(w.clone()).or_default();
                        e.0 += 1;
                        if seen_terms.insert(w.clone()) {
                            e.1 += 1;
                        }
                    }
                }
                for n in [2, 3] {
                    for gram in ws.windows(n) {
                        let edge_ok =
                            |w: &String| !is_background(w) && w.chars().all(|c| c.is_alphabetic() || c == '-');
                        if edge_ok(&gram[0]) && edge_ok(&gram[n - 1]) {
                            let p = gram.join(" ");
                            let e = phrases.entry(p.clone()).or_default();
                            e.0 += 1;
                            if seen_phrases.insert(p) {
                                e.1 += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    let n = lengths.len();
    let per_1000 = |x: usize| if total_words == 0 { 0.0 } else { round(x as f64 * 1000.0 / total_words as f64, 1) };
    let wps = if n == 0 { 0.0 } else { total_words as f64 / n as f64 };
    let spw = if total_words == 0 { 0.0 } else { total_syllables as f64 / total_words as f64 };
    let readability = if n == 0 {
        Readability::default()
    } else {
        Readability {
            flesch_reading_ease: round(206.835 - 1.015 * wps - 84.6 * spw, 1),
            flesch_kincaid_grade: round(0.39 * wps + 11.8 * spw - 15.59, 1),
            words_per_sentence: round(wps, 2),
            syllables_per_word: round(spw, 3),
        }
    };
    let (we_r, i_r, you_r) = (per_1000(we), per_1000(i_), per_1000(you));
    let voice = if we_r >= 5.0 && we_r >= i_r {
        "first_person_plural"
    } else if i_r >= 5.0 {
        "first_person_singular"
    } else {
        "third_person"
    };
    VoiceProfile {
        items: items.len(),
        words: total_words,
        sentences: n,
        sentence_length: distribution(&lengths),
        readability,
        person: Person {
            we_per_1000_words: we_r,
            i_per_1000_words: i_r,
            you_per_1000_words: you_r,
            voice: voice.into(),
            address: if you_r >= 10.0 { "direct" } else { "indirect" }.into(),
        },
        contractions_per_1000_words: per_1000(contractions),
        exclamation_rate: if n == 0 { 0.0 } else { round(exclaims as f64 / n as f64, 3) },
        question_rate: if n == 0 { 0.0 } else { round(questions as f64 / n as f64, 3) },
        distinctive_terms: top(terms, 15),
        distinctive_phrases: top(phrases, 10),
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

/// Terms seen at least twice, most frequent first (then in more items, then alphabetical).
fn top(map: HashMap<String, (usize, usize)>, k: usize) -> Vec<Term> {
    let mut v: Vec<Term> = map
        .into_iter()
        .filter(|(_, (c, _))| *c >= 2)
        .map(|(term, (count, items))| Term { term, count, items })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(b.items.cmp(&a.items)).then(a.term.cmp(&b.term)));
    v.truncate(k);
    v
}

/// Mean, median, spread, nearest-rank percentiles and a histogram of sentence lengths.
pub fn distribution(lengths: &[u32]) -> SentenceLength {
    if lengths.is_empty() {
        return SentenceLength::default();
    }
    let mut sorted = lengths.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let mean = sorted.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let var = sorted.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n as f64;
    let median = if n % 2 == 1 {
        f64::from(sorted[n / 2])
    } else {
        (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0
    };
    let rank = |p: f64| sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
    let mut histogram: BTreeMap<usize, usize> = (0..5).map(|b| (b, 0)).collect();
    for &l in &sorted {
        *histogram.entry(((l.saturating_sub(1)) / 7).min(4) as usize).or_default() += 1;
    }
    let label = |b: usize| if b == 4 { "29+".to_owned() } else { format!("{}-{}", b * 7 + 1, b * 7 + 7) };
    SentenceLength {
        mean: round(mean, 2),
        median,
        stdev: round(var.sqrt(), 2),
        p10: rank(0.1),
        p90: rank(0.9),
        min: sorted[0],
        max: sorted[n - 1],
        histogram: histogram.into_iter().map(|(b, count)| Bucket { range: label(b), count }).collect(),
    }
}

/// The profile with when and from which library it was computed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredProfile {
    /// The figures.
    #[serde(flatten)]
    pub profile: VoiceProfile,
    /// Items in the library when measured (the figures rest on at most [`MAX_ITEMS`]).
    pub library_items: i64,
    /// When it was computed.
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
}

/// The tenant's voice profile, from the cache when the library has not changed since, else
/// measured and cached. `None` when the library is empty.
pub async fn profile(tenant: &mut Tenant) -> Result<Option<StoredProfile>, sqlx::Error> {
    let org_id = tenant.org().id;
    let (count, latest): (i64, Option<OffsetDateTime>) =
        sqlx::query_as("SELECT count(*), max(updated_at) FROM contents WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(tenant.conn())
            .await?;
    if count == 0 {
        return Ok(None);
    }
    let fingerprint = format!("{count}:{}", latest.map_or(0, |t| t.unix_timestamp_nanos()));
    let cached: Option<(String, sqlx::types::Json<StoredProfile>)> =
        sqlx::query_as("SELECT fingerprint, profile FROM voice_profiles WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(tenant.conn())
            .await?;
    if let Some((f, p)) = cached
        && f == fingerprint
    {
        return Ok(Some(p.0));
    }
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT left(markdown, $2) FROM contents WHERE org_id = $1 ORDER BY updated_at DESC, id LIMIT $3",
    )
    .bind(org_id)
    .bind(MAX_BYTES_PER_ITEM as i32)
    .bind(MAX_ITEMS)
    .fetch_all(tenant.conn())
    .await?;
    let stored =
        StoredProfile { profile: measure(&texts), library_items: count, computed_at: OffsetDateTime::now_utc() };
    sqlx::query(
        "INSERT INTO voice_profiles (org_id, fingerprint, profile, computed_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (org_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, profile = EXCLUDED.profile,
                                           computed_at = EXCLUDED.computed_at",
    )
    .bind(org_id)
    .bind(&fingerprint)
    .bind(sqlx::types::Json(&stored))
    .execute(tenant.conn())
    .await?;
    Ok(Some(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand computation for `KNOWN` (two items):
    ///
    /// Item 1 prose (the heading is skipped): "We build simple tools for you." (6 words),
    /// "You're going to love them!" (5), "Do you want a demo?" (5).
    /// Item 2: "Our team answers every ticket within a day." (8), "We don't outsource support." (4).
    /// Sentences 5; words 6+5+5+8+4 = 28; lengths sorted 4 5 5 6 8: mean 5.6, median 5,
    /// variance ((1.6)²+(0.6)²+(0.6)²+(0.4)²+(2.4)²)/5 = (2.56+0.36+0.36+0.16+5.76)/5 = 1.84,
    /// stdev 1.356 → 1.36; p10 = rank ceil(0.5)=1 → 4; p90 = rank ceil(4.5)=5 → 8.
    /// Syllables (≤3 letters → 1; vowel groups, silent final e):
    ///   we1 build1 simple2 tools1 for1 you1 = 7; you're1 going1 ("oi" is one group) to1 love1 them1 = 5;
    ///   do1 you1 want1 a1 demo2 = 6; our1 team1 answers2 every3 ticket2 within2 a1 day1 = 13;
    ///   we1 don't1 outsource2 (ou·ou·e, silent e) support2 = 6 → 37 syllables.
    /// wps = 28/5 = 5.6; spw = 37/28 = 1.321429 → 1.321.
    /// Ease = 206.835 − 1.015·5.6 − 84.6·1.321429 = 206.835 − 5.684 − 111.793 = 89.358 → 89.4.
    /// Grade = 0.39·5.6 + 11.8·1.321429 − 15.59 = 2.184 + 15.593 − 15.59 = 2.187 → 2.2.
    /// we: we, our, we = 3 → 3/28·1000 = 107.1; you: you, you're, you = 3 → 107.1; i: 0.
    /// Contractions: you're, don't = 2 → 71.4. Exclamations 1/5 = 0.2; questions 1/5 = 0.2.
    /// "outsource" (count 1) is not distinctive: terms need two occurrences; "tools", "ticket"
    /// likewise; nothing repeats except background words, so terms and phrases are empty.
    const KNOWN: [&str; 2] = [
        "# Acme tools\n\nWe build simple tools for you. You're going to love them! Do you want a demo?\n",
        "Our team answers every ticket within a day. We don't outsource support.",
    ];

    #[test]
    fn profile_figures_match_the_hand_computation() {
        let p = measure(&KNOWN);
        assert_eq!((p.items, p.words, p.sentences), (2, 28, 5));
        let s = &p.sentence_length;
        assert_eq!((s.mean, s.median, s.stdev, s.p10, s.p90, s.min, s.max), (5.6, 5.0, 1.36, 4, 8, 4, 8));
        assert_eq!(s.histogram[0], Bucket { range: "1-7".into(), count: 4 });
        assert_eq!(s.histogram[1], Bucket { range: "8-14".into(), count: 1 });
        assert_eq!(p.readability.syllables_per_word, 1.321);
        assert_eq!(p.readability.flesch_reading_ease, 89.4);
        assert_eq!(p.readability.flesch_kincaid_grade, 2.2);
        assert_eq!(p.person.we_per_1000_words, 107.1);
        assert_eq!(p.person.you_per_1000_words, 107.1);
        assert_eq!(p.person.i_per_1000_words, 0.0);
        assert_eq!((p.person.voice.as_str(), p.person.address.as_str()), ("first_person_plural", "direct"));
        assert_eq!(p.contractions_per_1000_words, 71.4);
        assert_eq!((p.exclamation_rate, p.question_rate), (0.2, 0.2));
        assert!(p.distinctive_terms.is_empty(), "{:?}", p.distinctive_terms);
    }

    #[test]
    fn distinctive_terms_and_phrases_come_from_repeated_uncommon_words() {
        let p = measure(&[
            "Voiceforge drafts on-brand copy. Voiceforge learns brand voice from pages.",
            "Brand voice matters. Voiceforge keeps brand voice steady.",
        ]);
        assert_eq!(p.distinctive_terms[0], Term { term: "brand".into(), count: 3, items: 2 });
        assert!(p.distinctive_terms.iter().any(|t| t.term == "voiceforge" && t.count == 3 && t.items == 2));
        assert!(!p.distinctive_terms.iter().any(|t| t.term == "from" || t.term == "pages"));
        assert_eq!(p.distinctive_phrases[0], Term { term: "brand voice".into(), count: 3, items: 2 });
    }

    #[test]
    fn an_empty_library_measures_zero_without_dividing_by_it() {
        let p = measure::<&str>(&[]);
        assert_eq!((p.words, p.sentences, p.readability.flesch_reading_ease), (0, 0, 0.0));
    }
}
