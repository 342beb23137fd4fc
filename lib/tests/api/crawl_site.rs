//! A generated website on loopback for crawl tests: a few hundred linked pages, a sitemap
//! index (one plain, one gzip), robots rules, redirects and a redirect loop, a trap calendar,
//! non-HTML files, a latin-1 page, a huge page, slow pages, a flaky page, ETags. Every
//! request is counted by path and query, and by `User-Agent`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Pages under /docs/.
pub const DOCS: usize = 240;
/// Pages listed only in the gzip sitemap.
pub const ORPHANS: usize = 10;

#[derive(Clone, Default)]
pub struct Counts(Arc<Mutex<HashMap<String, usize>>>);

impl Counts {
    pub fn get(&self, path: &str) -> usize {
        self.0.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    pub fn snapshot(&self) -> HashMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
    pub fn total_with_prefix(&self, prefix: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum()
    }
}

#[derive(Clone)]
struct Site {
    counts: Counts,
    agents: Counts,
    conditional: Arc<Mutex<usize>>,
    robots: &'static str,
}

pub struct SiteServer {
    pub addr: SocketAddr,
    pub counts: Counts,
    /// Requests by `User-Agent`.
    pub agents: Counts,
    /// Requests that carried If-None-Match and were answered 304.
    pub not_modified: Arc<Mutex<usize>>,
}

impl SiteServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

pub const ROBOTS: &str = "User-agent: *\nDisallow: /private/\n\nSitemap: /sitemap_index.xml\n";

pub async fn spawn() -> SiteServer {
    spawn_with_robots(ROBOTS).await
}

pub async fn spawn_with_robots(robots: &'static str) -> SiteServer {
    let site = Site { counts: Counts::default(), agents: Counts::default(), conditional: Arc::default(), robots };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(handle).with_state(site.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    SiteServer { addr, counts: site.counts, agents: site.agents, not_modified: site.conditional }
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn page(title: &str, paragraphs: &[String], links: &[String]) -> String {
    let links: String = links.iter().map(|l| format!("<li><a href=\"{l}\">{l}</a></li>")).collect();
    let paras: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><title>{title}</title>\
         <meta name=\"description\" content=\"About {title}\"></head><body>\
         <nav><ul><li><a href=\"/\">Home</a></li></ul></nav>\
         <main><article><h1>{title}</h1>{paras}<ul>{links}</ul></article></main>\
         <footer>Generated site</footer></body></html>"
    )
}

const WORDS: &[&str] = &[
    "coffee",
    "roast",
    "grinder",
    "kettle",
    "brew",
    "filter",
    "espresso",
    "crema",
    "aroma",
    "bean",
    "origin",
    "harvest",
    "water",
    "ratio",
    "bloom",
    "pour",
    "taste",
    "acidity",
    "body",
    "finish",
    "sweetness",
    "press",
    "steam",
    "milk",
];

/// Unique prose for page `i`: long enough for the readability heuristics.
pub fn prose(i: usize) -> Vec<String> {
    (0..3)
        .map(|p| {
            let words: Vec<&str> = (0..40).map(|w| WORDS[(i * 7 + p * 13 + w * (i % 5 + 1)) % WORDS.len()]).collect();
            format!("Document {i} part {p}: {}. Number {i} is unlike any other page here.", words.join(" "))
        })
        .collect()
}

fn doc(i: usize) -> String {
    let links = [(i + 1) % DOCS, (i * 2 + 1) % DOCS, (i * 3 + 2) % DOCS]
        .map(|j| format!("/docs/{j}.html"))
        .into_iter()
        .chain([format!("../docs/{i}.html#self"), "/".to_owned()])
        .collect::<Vec<_>>();
    page(&format!("Doc {i}"), &prose(i), &links)
}

async fn handle(State(site): State<Site>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let key = match request.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let n = {
        let mut counts = site.counts.0.lock().unwrap();
        let n = counts.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    let headers = request.headers().clone();
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    *site.agents.0.lock().unwrap().entry(agent.to_owned()).or_insert(0) += 1;
    let query = request.uri().query().unwrap_or_default().to_owned();
    respond(&site, &path, &query, &headers, n).await
}

async fn respond(site: &Site, path: &str, query: &str, headers: &HeaderMap, nth: usize) -> Response {
    match path {
        "/robots.txt" => site.robots.into_response(),
        "/" => {
            let mut links: Vec<String> = (0..10).map(|i| format!("/docs/{i}.html")).collect();
            links.extend(
                [
                    "/private/secret.html",
                    "/old",
                    "/loop/0",
                    "/calendar?month=0",
                    "/files/report.pdf",
                    "/latin1.html",
                    "/huge.html",
                    "/noindex.html",
                    "/missing",
                    "/flaky",
                    "/slow/0",
                    "/slow/1",
                    "/docs/0.html?utm_source=mail#top",
                    "http://other.invalid/elsewhere",
                    "mailto:team@example.com",
                ]
                .map(String::from),
            );
            html(page("Home", &prose(100_000), &links))
        }
        "/sitemap_index.xml" => (
            [(header::CONTENT_TYPE, "application/xml")],
            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <sitemap><loc>/sitemap-1.xml</loc></sitemap><sitemap><loc>/sitemap-2.xml.gz</loc></sitemap></sitemapindex>"
                .replace(
                    "<loc>/",
                    &format!("<loc>http://{}/", headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default()),
                ),
        )
            .into_response(),
        "/sitemap-1.xml" => {
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
            let urls: String = (0..5).map(|i| format!("<url><loc>http://{host}/docs/{i}.html</loc></url>")).collect();
            (
                [(header::CONTENT_TYPE, "application/xml")],
                format!("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>"),
            )
                .into_response()
        }
        "/sitemap-2.xml.gz" => {
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
            let urls: String =
                (0..ORPHANS).map(|i| format!("<url><loc>http://{host}/orphan/{i}.html</loc></url>")).collect();
            let xml = format!("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut gz, xml.as_bytes()).unwrap();
            ([(header::CONTENT_TYPE, "application/gzip")], gz.finish().unwrap()).into_response()
        }
        p if p.starts_with("/docs/") => {
            let Some(i) = p
                .strip_prefix("/docs/")
                .and_then(|s| s.strip_suffix(".html"))
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|i| *i < DOCS)
            else {
                return StatusCode::NOT_FOUND.into_response();
            };
            let etag = format!("\"v1-{i}\"");
            if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
                *site.conditional.lock().unwrap() += 1;
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
            }
            let mut response = html(doc(i));
            response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
            response
        }
        p if p.starts_with("/orphan/") => html(page(
            &format!("Orphan {p}"),
            &prose(50_000 + p.len() * 31 + p.bytes().map(usize::from).sum::<usize>()),
            &[],
        )),
        "/private/secret.html" => html(page("Secret", &prose(99_999), &[])),
        "/old" => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/moved.html")]).into_response(),
        "/moved.html" => html(page("Moved here", &prose(77_777), &["/dup.html".to_owned()])),
        p if p.starts_with("/loop/") => {
            let i: usize = p[6..].parse().unwrap_or(0);
            (StatusCode::FOUND, [(header::LOCATION, format!("/loop/{}", i + 1))]).into_response()
        }
        "/calendar" => {
            let month: i64 = query.strip_prefix("month=").and_then(|m| m.parse().ok()).unwrap_or(0);
            html(page(
                &format!("Calendar {month}"),
                &[format!("Events of month {month}: none planned, as ever, in month number {month} of the calendar.")],
                &[format!("/calendar?month={}", month + 1), format!("/calendar?month={}", month - 1)],
            ))
        }
        "/files/report.pdf" => {
            ([(header::CONTENT_TYPE, "application/pdf")], b"%PDF-1.4 not really".to_vec()).into_response()
        }
        "/latin1.html" => {
            let body = b"<html><head><title>Caf\xe9</title></head><body><article><h1>Caf\xe9 cr\xe8me br\xfbl\xe9e</h1>\
                <p>Notre caf\xe9 propose une cr\xe8me br\xfbl\xe9e d\xe9licieuse, pr\xe9par\xe9e chaque matin avec des \
                \xe9l\xe9ments frais. Les clients appr\xe9cient la qualit\xe9 et la r\xe9gularit\xe9 du service.</p>\
                <p>Le g\xe2teau du jour change selon la saison, et nos employ\xe9s choisissent les fruits au march\xe9.</p>\
                </article></body></html>";
            ([(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")], body.to_vec()).into_response()
        }
        "/huge.html" => {
            let mut body = String::from("<html><body><article>");
            while body.len() < 6 * 1024 * 1024 {
                body.push_str("<p>huge huge huge huge huge huge huge huge huge huge huge huge huge huge huge</p>");
            }
            body.push_str("</article></body></html>");
            html(body)
        }
        "/noindex.html" => html(
            page("Hidden", &prose(88_888), &["/docs/5.html".to_owned()])
                .replace("<head>", "<head><meta name=\"robots\" content=\"noindex\">"),
        ),
        "/dup.html" => html(doc(0).replace("<title>Doc 0</title>", "<title>Doc 0 copy</title>")),
        "/flaky" => {
            if nth == 1 {
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            } else {
                html(page("Flaky", &prose(66_666), &[]))
            }
        }
        p if p.starts_with("/slow/") => {
            tokio::time::sleep(Duration::from_millis(400)).await;
            html(page(
                &format!("Slow {p}"),
                &prose(55_000 + p.len() + p.bytes().last().map(usize::from).unwrap_or(0)),
                &[],
            ))
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
