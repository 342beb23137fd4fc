//! The crawler's HTTP client: rustls, no system proxy, the SSRF guard on every hop (IP
//! literals here, names in the resolver), at most five redirects, one timeout per page that
//! its redirect hops share, a cap on the decompressed body, and charset decoding.

use std::{sync::Arc, time::Duration};

use reqwest::{StatusCode, header};
use url::Url;

use super::guard::{Blocked, GuardedResolver, Policy};

/// Redirects followed per fetch.
pub const MAX_REDIRECTS: usize = 5;

/// How the fetcher behaves.
#[derive(Clone, Debug)]
pub struct FetchSettings {
    /// Which addresses may be reached.
    pub policy: Policy,
    /// Largest decompressed body read, in bytes.
    pub max_body_bytes: usize,
    /// Timeout of one page: connect, headers and body of every redirect hop together, so a
    /// page never takes longer, however many redirects it follows (the engine plans its
    /// batches on that).
    pub timeout: Duration,
    /// `User-Agent` sent, also the robots.txt agent token's source.
    pub user_agent: String,
}

impl FetchSettings {
    /// The crawler's settings from the application settings.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            policy: Policy { allow_private_networks: settings.crawl.allow_private_networks, exempt: vec![] },
            max_body_bytes: settings.crawl.max_page_bytes,
            timeout: settings.crawl.request_timeout,
            user_agent: settings.crawl.user_agent.clone(),
        }
    }
}

/// Why a fetch produced no response to judge.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The guard refused an address.
    #[error(transparent)]
    Ssrf(#[from] Blocked),
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// A redirect without a usable `Location`, or to a non-http(s) URL.
    #[error("invalid redirect: {0}")]
    InvalidRedirect(String),
    /// A redirect leaving the crawl's scope.
    #[error("redirected out of the crawl's scope to {0}")]
    RedirectOutOfScope(Url),
    /// No answer in time.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The decompressed body exceeds the cap.
    #[error("the page is larger than {0} bytes")]
    TooLarge(usize),
    /// Connecting or reading failed.
    #[error("the connection failed: {0}")]
    Connect(String),
}

impl FetchError {
    /// Stable kind, recorded as a page's reason and shown in errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Ssrf(_) => "ssrf_blocked",
            FetchError::TooManyRedirects => "too_many_redirects",
            FetchError::InvalidRedirect(_) => "invalid_redirect",
            FetchError::RedirectOutOfScope(_) => "redirect_out_of_scope",
            FetchError::Timeout(_) => "timeout",
            FetchError::TooLarge(_) => "too_large",
            FetchError::Connect(_) => "connect_failed",
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, FetchError::Timeout(_) | FetchError::Connect(_))
    }
}

/// One answered request, after redirects.
#[derive(Debug)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub final_url: Url,
    /// Its status.
    pub status: StatusCode,
    /// `Content-Type`, lowercased.
    pub content_type: Option<String>,
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
    /// `X-Robots-Tag`, lowercased.
    pub robots_tag: Option<String>,
    /// The decompressed body; empty when not read (not modified, not HTML, error status).
    pub body: Vec<u8>,
    /// Whether the body was read.
    pub body_read: bool,
}

impl Fetched {
    /// Whether the content type says HTML (or says nothing and the body looks like HTML).
    pub fn is_html(&self) -> bool {
        match &self.content_type {
            Some(ct) => is_html_type(ct),
            None => sniff_html(&self.body),
        }
    }
}

fn is_html_type(ct: &str) -> bool {
    let mime = ct.split(';').next().unwrap_or_default().trim();
    mime == "text/html" || mime == "application/xhtml+xml"
}

fn sniff_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<head")
}

/// What the caller wants read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Read the body only when it is HTML.
    Html,
    /// Read any body (robots.txt, sitemaps).
    Any,
}

/// Conditional-request validators from an earlier fetch.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    /// Sent as `If-None-Match`.
    pub etag: Option<String>,
    /// Sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// The crawler's guarded HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    settings: Arc<FetchSettings>,
}

impl Fetcher {
    /// Builds the client: guarded resolver, no proxy, no automatic redirects.
    pub fn new(settings: FetchSettings) -> anyhow::Result<Self> {
        crate::http::install_crypto_provider();
        let resolver = GuardedResolver::new(Arc::new(settings.policy.clone()));
        let client = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(settings.user_agent.clone())
            .pool_max_idle_per_host(16)
            .build()
            .map_err(|e| anyhow::anyhow!("building the crawler's HTTP client: {e}"))?;
        Ok(Self { client, settings: Arc::new(settings) })
    }

    /// The settings in force.
    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// Fetches `url`, following up to five redirects while `in_scope` accepts each target;
    /// every hop passes the SSRF guard before a connection is made, and all of them together
    /// end within the page's timeout.
    pub async fn fetch(
        &self,
        url: &Url,
        want: Want,
        validators: &Validators,
        in_scope: &(dyn Fn(&Url) -> bool + Sync),
    ) -> Result<Fetched, FetchError> {
        let page_deadline = tokio::time::Instant::now() + self.settings.timeout;
        let mut current = url.clone();
        for hop in 0..=MAX_REDIRECTS {
            self.settings.policy.check_url(&current)?;
            let left = page_deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(FetchError::Timeout(self.settings.timeout));
            }
            let mut request = self.client.get(current.clone()).timeout(left).header(
                header::ACCEPT,
                match want {
                    Want::Html => "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                    Want::Any => "*/*",
                },
            );
            if let Some(etag) = &validators.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &validators.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, lm);
            }
            let response = request.send().await.map_err(|e| self.map_error(e))?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                if hop == MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::InvalidRedirect("no Location header".into()))?;
                let next = current
                    .join(location)
                    .ok()
                    .and_then(|u| super::urls::normalize(u.as_str()).ok())
                    .ok_or_else(|| FetchError::InvalidRedirect(location.chars().take(200).collect()))?;
                if !in_scope(&next) {
                    return Err(FetchError::RedirectOutOfScope(next));
                }
                current = next;
                continue;
            }
            return self.read(current, response, want).await;
        }
        Err(FetchError::TooManyRedirects)
    }

    async fn read(&self, final_url: Url, mut response: reqwest::Response, want: Want) -> Result<Fetched, FetchError> {
        let header_str = |name: header::HeaderName| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(512).collect::<String>())
        };
        let mut fetched = Fetched {
            final_url,
            status: response.status(),
            content_type: header_str(header::CONTENT_TYPE).map(|v| v.to_ascii_lowercase()),
            etag: header_str(header::ETAG),
            last_modified: header_str(header::LAST_MODIFIED),
            robots_tag: header_str(header::HeaderName::from_static("x-robots-tag")).map(|v| v.to_ascii_lowercase()),
            body: Vec::new(),
            body_read: false,
        };
        let readable = fetched.status.is_success()
            && (want == Want::Any || fetched.content_type.as_deref().is_none_or(is_html_type));
        if !readable {
            return Ok(fetched);
        }
        let cap = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|len| len > cap as u64) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.map_error(e))? {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        fetched.body = body;
        fetched.body_read = true;
        Ok(fetched)
    }

    fn map_error(&self, err: reqwest::Error) -> FetchError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = source {
            if let Some(blocked) = e.downcast_ref::<Blocked>() {
                return FetchError::Ssrf(blocked.clone());
            }
            source = e.source();
        }
        if err.is_timeout() {
            return FetchError::Timeout(self.settings.timeout);
        }
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(e) = source {
            chain.push_str(": ");
            chain.push_str(&e.to_string());
            source = e.source();
        }
        FetchError::Connect(chain.chars().take(500).collect())
    }
}

/// Decodes an HTML body: byte-order mark, then the `Content-Type` charset, then a `<meta>`
/// charset in the first 1024 bytes, then detection.
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(body) {
        return encoding.decode_without_bom_handling(&body[bom_len..]).0.into_owned();
    }
    let declared = content_type.and_then(charset_param).or_else(|| meta_charset(&body[..body.len().min(1024)]));
    let encoding = declared.and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes())).unwrap_or_else(|| {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(&body[..body.len().min(64 * 1024)], body.len() <= 64 * 1024);
        detector.guess(None, chardetng::Utf8Detection::Allow)
    });
    // UTF-16 declared in a document that decoded as ASCII is a lie browsers ignore.
    let encoding = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        encoding_rs::UTF_8
    } else {
        encoding
    };
    encoding.decode_without_bom_handling(body).0.into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

fn meta_charset(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = text.find("charset")?;
    let rest = text[at + "charset".len()..].trim_start().strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let end =
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':')).unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_come_from_bom_then_header_then_meta_then_detection() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body>Caf\xe9 cr\xe8me</body></html>";
        assert!(decode_html(latin1, Some("text/html")).contains("Café crème"));
        assert!(decode_html(b"<p>Caf\xe9</p>", Some("text/html; charset=ISO-8859-1")).contains("Café"));
        assert!(decode_html("\u{feff}<p>Café</p>".as_bytes(), Some("text/html; charset=iso-8859-1")).contains("Café"));
        let undeclared =
            b"<html><body><p>Les \xe9l\xe8ves de l'\xe9cole fran\xe7aise \xe9tudient beaucoup.</p></body></html>";
        assert!(decode_html(undeclared, Some("text/html")).contains("élèves"));
        assert!(decode_html("<p>naïve</p>".as_bytes(), None).contains("naïve"));
    }

    #[test]
    fn html_is_recognized_by_type_or_by_sniffing() {
        assert!(is_html_type("text/html; charset=utf-8"));
        assert!(is_html_type("application/xhtml+xml"));
        assert!(!is_html_type("application/pdf"));
        assert!(sniff_html(b"  <!DOCTYPE html><html>"));
        assert!(!sniff_html(b"%PDF-1.4"));
    }
}
