//! URL normalization and crawl scope: one spelling per page (so the frontier's unique key
//! means "one page"), same-site rules, include/exclude path patterns, and trap guards.

use url::Url;

/// Longest URL the crawler keeps.
pub const MAX_URL_LEN: usize = 2048;

/// Query parameters that only track visitors and never change a page.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "ref_src",
    "mkt_tok",
    "vero_id",
    "oly_anon_id",
    "oly_enc_id",
    "wickedid",
    "twclid",
    "ttclid",
];

/// Why a URL cannot be crawled at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not parseable as an absolute URL.
    #[error("not a valid absolute URL")]
    Invalid,
    /// Not http or https.
    #[error("only http and https URLs can be crawled")]
    Scheme,
    /// Longer than [`MAX_URL_LEN`].
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
}

/// Parses and normalizes a URL: http(s) only, no credentials or fragment, default port and
/// tracking parameters dropped, query parameters sorted, an empty query removed.
pub fn normalize(input: &str) -> Result<Url, UrlError> {
    let url = Url::parse(input.trim()).map_err(|_| UrlError::Invalid)?;
    normalize_url(url)
}

/// Resolves `href` against `base` and normalizes it; `None` for links that are not pages
/// (mailto:, javascript:, unparseable).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    normalize_url(base.join(href).ok()?).ok()
}

fn normalize_url(mut url: Url) -> Result<Url, UrlError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::Invalid);
    }
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    // The url crate already drops a scheme's default port (`:80`, `:443`) when parsing.
    if let Some(host) = url.host_str().map(|h| h.trim_end_matches('.').to_owned())
        && !host.is_empty()
        && url.host_str() != Some(host.as_str())
    {
        let _ = url.set_host(Some(&host));
    }
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    if url.as_str().len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    Ok(url)
}

/// `scheme://host[:port]/path`, without the query: the unit of the query-explosion guard.
pub fn path_key(url: &Url) -> String {
    let mut key = url.clone();
    key.set_query(None);
    key.to_string()
}

/// The registrable-ish site of a host: the host without a leading `www.`.
fn site(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

/// The crawl's scope: same site as the root, optional subdomains, path patterns.
#[derive(Clone, Debug)]
pub struct Scope {
    root_host: String,
    include_subdomains: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

/// Why a same-site URL is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfScope {
    /// Another site.
    OtherSite,
    /// Matches no include pattern.
    NotIncluded,
    /// Matches an exclude pattern.
    Excluded,
}

impl Scope {
    /// Scope of a crawl rooted at `root`.
    pub fn new(root: &Url, include_subdomains: bool, include: Vec<String>, exclude: Vec<String>) -> Self {
        Self { root_host: root.host_str().unwrap_or_default().to_owned(), include_subdomains, include, exclude }
    }

    /// Whether `url` is on the crawl's site (`www.` and bare host count as one site).
    pub fn same_site(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let (root, host) = (site(&self.root_host), site(host));
        host == root || (self.include_subdomains && host.ends_with(&format!(".{root}")))
    }

    /// Checks site and path patterns; exclusions win.
    pub fn check(&self, url: &Url) -> Result<(), OutOfScope> {
        if !self.same_site(url) {
            return Err(OutOfScope::OtherSite);
        }
        let path = url.path();
        if self.exclude.iter().any(|p| pattern_matches(p, path)) {
            return Err(OutOfScope::Excluded);
        }
        if !self.include.is_empty() && !self.include.iter().any(|p| pattern_matches(p, path)) {
            return Err(OutOfScope::NotIncluded);
        }
        Ok(())
    }
}

/// The crawl options' pattern language (docs/API.md): without `*` a pattern is a path prefix; `*` matches any run
/// of characters, and a pattern with `*` must match the whole path.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    if !pattern.contains('*') {
        return path.starts_with(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !path.starts_with(first) || path.len() < first.len() + last.len() || !path.ends_with(last) {
        return false;
    }
    let mut rest = &path[first.len()..path.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Checks a path pattern from the API: bounded, starting with `/` or `*`.
pub fn valid_pattern(pattern: &str) -> bool {
    !pattern.is_empty()
        && pattern.len() <= 256
        && (pattern.starts_with('/') || pattern.starts_with('*'))
        && pattern.matches('*').count() <= 8
        && !pattern.chars().any(char::is_control)
}

/// A trap: URL shapes that generate endless pages (calendars, session ids, repeated segments).
pub fn trap_reason(url: &Url) -> Option<&'static str> {
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|x| !x.is_empty()).collect()).unwrap_or_default();
    if segments.len() > 20 {
        return Some("path deeper than 20 segments");
    }
    for (i, seg) in segments.iter().enumerate() {
        if segments[..i].iter().filter(|s| *s == seg).count() >= 2 {
            return Some("a path segment repeats three times");
        }
    }
    for window in 2..=4 {
        if segments.len() >= window * 2 {
            let tail = &segments[segments.len() - window..];
            let before = &segments[segments.len() - 2 * window..segments.len() - window];
            if tail == before {
                return Some("a run of path segments repeats");
            }
        }
    }
    let query_params = url.query_pairs().count();
    if query_params > 8 || url.query().is_some_and(|q| q.len() > 512) {
        return Some("too many query parameters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_gives_one_spelling_per_page() {
        let n = |s: &str| normalize(s).unwrap().to_string();
        assert_eq!(n("HTTP://Example.COM:80/a/./b/../c?b=2&a=1#frag"), "http://example.com/a/c?a=1&b=2");
        assert_eq!(n("https://example.com:443"), "https://example.com/");
        assert_eq!(n("https://u:p@example.com/x?utm_source=x&gclid=1"), "https://example.com/x");
        assert_eq!(n("https://example.com./x?fbclid=1&id=7"), "https://example.com/x?id=7");
        assert_eq!(n("http://example.com:8080/"), "http://example.com:8080/");
        assert_eq!(normalize("ftp://example.com/"), Err(UrlError::Scheme));
        assert_eq!(normalize("not a url"), Err(UrlError::Invalid));
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert_eq!(normalize(&long), Err(UrlError::TooLong));
    }

    #[test]
    fn links_resolve_against_the_page_and_non_pages_are_dropped() {
        let base = Url::parse("https://example.com/docs/a.html").unwrap();
        assert_eq!(resolve(&base, "b.html#x").unwrap().as_str(), "https://example.com/docs/b.html");
        assert_eq!(resolve(&base, "/c").unwrap().as_str(), "https://example.com/c");
        for skip in ["#top", "mailto:a@b.c", "javascript:void(0)", "", "tel:123"] {
            assert!(resolve(&base, skip).is_none(), "{skip}");
        }
    }

    #[test]
    fn patterns_are_prefixes_or_globs_and_exclusions_win() {
        assert!(pattern_matches("/blog/", "/blog/a.html"));
        assert!(!pattern_matches("/blog/", "/about"));
        assert!(pattern_matches("/docs/*/api", "/docs/v2/api"));
        assert!(!pattern_matches("/docs/*/api", "/docs/v2/api/x"));
        assert!(pattern_matches("*.pdf", "/files/report.pdf"));
        assert!(pattern_matches("/a*b*c", "/aXbYc"));
        assert!(!pattern_matches("/a*b*c", "/aXcYb"));
        let root = Url::parse("https://www.example.com/").unwrap();
        let scope = Scope::new(&root, false, vec!["/docs/".into()], vec!["/docs/private/".into()]);
        let u = |p: &str| Url::parse(&format!("https://example.com{p}")).unwrap();
        assert_eq!(scope.check(&u("/docs/a")), Ok(()));
        assert_eq!(scope.check(&u("/docs/private/a")), Err(OutOfScope::Excluded));
        assert_eq!(scope.check(&u("/blog")), Err(OutOfScope::NotIncluded));
        assert_eq!(scope.check(&Url::parse("https://other.com/docs/").unwrap()), Err(OutOfScope::OtherSite));
        assert_eq!(scope.check(&Url::parse("https://sub.example.com/docs/").unwrap()), Err(OutOfScope::OtherSite));
        let subs = Scope::new(&root, true, vec![], vec![]);
        assert_eq!(subs.check(&Url::parse("https://sub.example.com/docs/").unwrap()), Ok(()));
        assert_eq!(subs.check(&Url::parse("https://badexample.com/").unwrap()), Err(OutOfScope::OtherSite));
    }

    #[test]
    fn traps_are_recognized() {
        let t = |s: &str| trap_reason(&Url::parse(s).unwrap());
        assert!(t("https://e.com/a/b/a/b/a/b").is_some());
        assert!(t("https://e.com/x/y/z/y/z").is_some());
        assert!(t("https://e.com/cal/cal/cal").is_some());
        assert!(t("https://e.com/?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9").is_some());
        assert!(t("https://e.com/docs/library/os.html?x=1").is_none());
    }
}
