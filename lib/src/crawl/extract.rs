//! Main-content extraction: a page's article as markdown (dom_smoothie, a Readability port),
//! with its title, description, language, links, canonical URL and robots directives.

use dom_smoothie::{Config, ParsePolicy, Readability, TextMode};
use url::Url;

use super::{
    dom::{self, TooComplex},
    urls,
};

/// Elements built at most per page (as the parser builds them, which can be many more than
/// the page spells out); beyond that a page is treated as a trap or junk.
pub const MAX_ELEMENTS: usize = 200_000;
/// Deepest element nesting extracted (Chromium's parser stops nesting at 512 too).
pub const MAX_DEPTH: usize = 512;
/// Links kept per page.
const MAX_LINKS: usize = 2_000;

/// What a page holds, ready to store.
#[derive(Clone, Debug)]
pub struct ExtractedPage {
    /// The page's URL for the library: its same-host `rel=canonical`, else the fetched URL.
    pub canonical_url: Url,
    /// Title (from the article, `<title>`, or the URL).
    pub title: String,
    /// Meta or Open Graph description.
    pub description: Option<String>,
    /// `<html lang>` (or the article's), when declared.
    pub language: Option<String>,
    /// Main content as markdown.
    pub markdown: String,
    /// Normalized links found on the page (including nofollow ones; the caller decides).
    pub links: Vec<Url>,
    /// `<meta name="robots">` says noindex.
    pub noindex: bool,
    /// `<meta name="robots">` says nofollow.
    pub nofollow: bool,
}

/// Extracts a page fetched from `page_url`; a page that would build more than
/// [`MAX_ELEMENTS`] elements, nest them deeper than [`MAX_DEPTH`], or put more than
/// [`dom::MAX_ATTRIBUTES`] attributes on a tag is refused.
pub fn extract(html: &str, page_url: &Url) -> Result<ExtractedPage, TooComplex> {
    let document = dom::parse(html, MAX_ELEMENTS, MAX_DEPTH)?;
    let config = Config { text_mode: TextMode::Markdown, max_elements_to_parse: MAX_ELEMENTS, ..Default::default() };
    let Ok(mut readability) = Readability::with_document(document, Some(page_url.as_str()), Some(config)) else {
        return Ok(fallback(page_url));
    };

    let doc = &readability.doc;
    let attr = |selector: &str, name: &str| {
        doc.select(selector).iter().find_map(|s| s.attr(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
    };
    let base = attr("base[href]", "href").and_then(|b| page_url.join(&b).ok()).unwrap_or_else(|| page_url.clone());
    let mut links = Vec::new();
    for a in doc.select("a[href]").iter() {
        if links.len() >= MAX_LINKS {
            break;
        }
        if let Some(href) = a.attr("href")
            && let Some(link) = urls::resolve(&base, &href)
        {
            links.push(link);
        }
    }
    let canonical = attr("link[rel~=canonical]", "href")
        .and_then(|c| urls::resolve(&base, &c))
        .filter(|c| c.host_str() == page_url.host_str() && c.scheme() == page_url.scheme());
    let robots = doc
        .select("meta[name]")
        .iter()
        .filter(|m| m.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("robots")))
        .filter_map(|m| m.attr("content"))
        .map(|c| c.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    let description = doc
        .select("meta[name], meta[property]")
        .iter()
        .find(|m| {
            m.attr("name")
                .or_else(|| m.attr("property"))
                .is_some_and(|n| n.eq_ignore_ascii_case("description") || n.eq_ignore_ascii_case("og:description"))
        })
        .and_then(|m| m.attr("content"))
        .map(|c| clean_line(&c))
        .filter(|c| !c.is_empty());
    let language = attr("html[lang]", "lang").filter(|l| valid_language(l));
    let page_title = doc.select("title").iter().next().map(|t| clean_line(&t.text())).filter(|t| !t.is_empty());

    let article = readability.parse().or_else(|_| readability.parse_with_policy(ParsePolicy::Raw));
    let (title, markdown, article_lang) = match article {
        Ok(article) => (clean_line(&article.title), article.text_content.trim().to_owned(), article.lang),
        Err(_) => (String::new(), String::new(), None),
    };
    let title = if title.is_empty() { page_title.unwrap_or_else(|| title_from_url(page_url)) } else { title };
    Ok(ExtractedPage {
        canonical_url: canonical.unwrap_or_else(|| page_url.clone()),
        title: title.chars().take(1024).collect(),
        description: description.map(|d| d.chars().take(4096).collect()),
        language: language.or(article_lang.filter(|l| valid_language(l))),
        markdown,
        links,
        noindex: has_directive(&robots, "noindex") || has_directive(&robots, "none"),
        nofollow: has_directive(&robots, "nofollow") || has_directive(&robots, "none"),
    })
}

fn fallback(page_url: &Url) -> ExtractedPage {
    ExtractedPage {
        canonical_url: page_url.clone(),
        title: title_from_url(page_url),
        description: None,
        language: None,
        markdown: String::new(),
        links: vec![],
        noindex: false,
        nofollow: false,
    }
}

/// Whether a comma-separated robots directive list (meta or `X-Robots-Tag`) holds `directive`.
/// An `X-Robots-Tag` entry may name a user agent (`googlebot: noindex`); those do not bind us.
pub fn has_directive(list: &str, directive: &str) -> bool {
    list.split(',').any(|d| {
        let d = d.trim();
        d == directive
            || d.rsplit_once(':').is_some_and(|(agent, d)| agent.trim() == "voiceforgebot" && d.trim() == directive)
    })
}

fn clean_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn valid_language(tag: &str) -> bool {
    (2..=35).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn title_from_url(url: &Url) -> String {
    let last = url.path_segments().and_then(|mut s| s.rfind(|x| !x.is_empty())).unwrap_or_default();
    if last.is_empty() { url.host_str().unwrap_or("Untitled").to_owned() } else { last.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_article_becomes_markdown_with_its_metadata_and_links() {
        let html = r#"<!doctype html><html lang="en-GB"><head><title>Brewing guide | Acme</title>
            <meta name="description" content="  How we brew   coffee. ">
            <link rel="canonical" href="/guides/brewing"></head>
            <body><nav><a href="/">Home</a> <a href="/about?utm_source=x">About</a></nav>
            <article><h1>Brewing guide</h1>
            <p>Good coffee starts with fresh beans. We grind them just before brewing and use water
            just off the boil, because hotter water scalds the grounds and cooler water under-extracts.</p>
            <p>Weigh your beans: sixty grams per litre is a good start. Adjust to taste, and
            write down what you changed so the next cup can be better than this one.</p>
            <h2>Equipment</h2><ul><li>A burr grinder</li><li>A scale</li></ul>
            <p>See <a href="https://other.example/x#y">our friends</a>.</p></article>
            <footer>© Acme</footer></body></html>"#;
        let url = Url::parse("https://acme.example/guides/brewing?ref=1").unwrap();
        let page = extract(html, &url).unwrap();
        assert_eq!(page.canonical_url.as_str(), "https://acme.example/guides/brewing");
        assert_eq!(page.description.as_deref(), Some("How we brew coffee."));
        assert_eq!(page.language.as_deref(), Some("en-GB"));
        assert!(page.title.contains("Brewing guide"), "{}", page.title);
        assert!(page.markdown.contains("fresh beans"), "{}", page.markdown);
        assert!(page.markdown.contains("Equipment"), "{}", page.markdown);
        assert!(!page.markdown.contains("© Acme"), "{}", page.markdown);
        let links: Vec<&str> = page.links.iter().map(Url::as_str).collect();
        assert!(links.contains(&"https://acme.example/about"), "{links:?}");
        assert!(links.contains(&"https://other.example/x"), "{links:?}");
        assert!(!page.noindex);
    }

    #[test]
    fn robots_directives_and_foreign_canonicals_are_read() {
        let html = r#"<html><head><meta name="ROBOTS" content="NOINDEX, follow">
            <link rel="canonical" href="https://elsewhere.example/a"></head><body><p>x</p></body></html>"#;
        let url = Url::parse("https://acme.example/a").unwrap();
        let page = extract(html, &url).unwrap();
        assert!(page.noindex && !page.nofollow);
        assert_eq!(page.canonical_url, url, "a canonical on another host is ignored");
        assert!(has_directive("googlebot: noindex, nofollow", "nofollow"));
        assert!(!has_directive("googlebot: noindex", "noindex"));
        assert!(has_directive("voiceforgebot: noindex", "noindex"));
    }
}
