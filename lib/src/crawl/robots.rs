//! robots.txt: fetched once per crawl at seeding, stored on the crawl, and parsed by each
//! worker. A 4xx answer allows everything; a 5xx or unreachable server defers the crawl.

use url::Url;

/// The agent token our rules are matched under.
pub const AGENT: &str = "VoiceForgeBot";
/// Largest robots.txt read (Google reads 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;

/// Parsed rules of one site.
pub struct Rules {
    robot: Option<texting_robots::Robot>,
}

impl Rules {
    /// Parses a stored robots.txt; `None` (no file, or a 4xx) allows everything.
    pub fn parse(body: Option<&str>) -> Self {
        let robot = body.and_then(|b| texting_robots::Robot::new(AGENT, b.as_bytes()).ok());
        Self { robot }
    }

    /// Whether our agent may fetch `url`.
    pub fn allowed(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }

    /// `Crawl-delay` for our agent, in milliseconds, rounded up (a positive delay never
    /// becomes 0 ms) and capped at 30 s.
    pub fn crawl_delay_ms(&self) -> Option<i32> {
        let delay = self.robot.as_ref()?.delay?;
        (delay.is_finite() && delay > 0.0).then(|| (delay.min(30.0) * 1000.0).ceil() as i32)
    }

    /// Sitemaps the file lists.
    pub fn sitemaps(&self) -> Vec<String> {
        self.robot.as_ref().map(|r| r.sitemaps.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_group_wins_over_the_wildcard_and_delay_and_sitemaps_are_read() {
        let txt = "User-agent: *\nDisallow: /\n\nUser-agent: VoiceForgeBot\nDisallow: /private/\nAllow: /private/ok\nCrawl-delay: 2\n\nSitemap: https://e.com/sitemap.xml\n";
        let rules = Rules::parse(Some(txt));
        let u = |p: &str| Url::parse(&format!("https://e.com{p}")).unwrap();
        assert!(rules.allowed(&u("/docs")));
        assert!(!rules.allowed(&u("/private/x")));
        assert!(rules.allowed(&u("/private/ok")));
        assert_eq!(rules.crawl_delay_ms(), Some(2000));
        assert_eq!(rules.sitemaps(), ["https://e.com/sitemap.xml"]);
        assert!(Rules::parse(None).allowed(&u("/anything")));
    }

    #[test]
    fn a_tiny_positive_delay_rounds_up_to_a_millisecond_and_nonsense_is_ignored() {
        let delay = |d: &str| Rules::parse(Some(&format!("User-agent: *\nCrawl-delay: {d}\n"))).crawl_delay_ms();
        assert_eq!(delay("0.0001"), Some(1));
        assert_eq!(delay("1.5"), Some(1500));
        assert_eq!(delay("99999"), Some(30_000));
        assert_eq!(delay("0"), None);
        assert_eq!(delay("-3"), None);
        assert_eq!(delay("NaN"), None);
    }
}
