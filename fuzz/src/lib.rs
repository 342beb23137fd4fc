//! Fuzz target bodies for VoiceForge's parsers of hostile input, shared by the libFuzzer
//! entry points (`fuzz_targets/`, run by `cargo fuzz`) and the stable smoke harness
//! (`src/bin/smoke.rs`, part of `scripts/test`). Each body asserts properties of the code
//! under test, not only that it returns: a failed assertion is a finding.

pub mod smoke;

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::OnceLock,
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use url::Url;
use voiceforge::{
    auth::{
        self, AuthError, IssuerConfig, KeySource, TokenVerifier,
        webhook::{self, SvixHeaders, WebhookError},
    },
    crawl::{
        extract, fetch,
        guard::{self, Policy},
        robots::Rules,
        sitemap,
        urls::{self, MAX_URL_LEN},
    },
    generate::templates::{self, TemplateError},
};

/// A fuzz target: its name (the `fuzz_targets/` file and `seeds/` folder), its body, the
/// longest input worth trying, and tokens the smoke harness splices into inputs.
pub struct Target {
    /// Name, as `cargo fuzz run NAME` knows it.
    pub name: &'static str,
    /// The body: panics when a property fails.
    pub run: fn(&[u8]),
    /// Inputs longer than this are cut by the smoke harness.
    pub max_len: usize,
    /// Tokens worth splicing in.
    pub dictionary: &'static [&'static str],
}

/// Every target, in the order the smoke harness runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "url_normalize",
        run: url_normalize,
        max_len: 4096,
        dictionary: &[
            "http://",
            "https://",
            "://",
            "@",
            ":",
            "/",
            "?",
            "#",
            "&",
            "=",
            "%2e",
            "%00",
            "..",
            "./",
            "utm_source",
            "fbclid",
            ".",
            "[",
            "]",
            "xn--",
            "\n",
            "\t",
            " ",
            ":80",
            ":443",
            "\\",
            "%25",
            "+",
        ],
    },
    Target {
        name: "ssrf_guard",
        run: ssrf_guard,
        max_len: 512,
        dictionary: &[
            "http://",
            "[::ffff:",
            "[::",
            "]",
            "0x7f",
            "0177",
            "127.",
            ".1",
            "169.254.169.254",
            "64:ff9b::",
            "fe80",
            "fc00",
            "::1",
            "0.",
            "2130706433",
            "%2e",
            ":",
            "@",
            "10.",
            "192.168.",
            "100.64.",
            "ff02",
        ],
    },
    Target {
        name: "html_extract",
        run: html_extract,
        max_len: 64 * 1024,
        dictionary: &[
            "<div>",
            "</div>",
            "<a href=\"",
            "\">",
            "<p>",
            "<table>",
            "<tr><td>",
            "<math>",
            "<svg>",
            "<template>",
            "<base href=\"",
            "<link rel=\"canonical\" href=\"",
            "<meta name=\"robots\" content=\"noindex\">",
            "<meta charset=\"",
            "<title>",
            "</title>",
            "<html lang=\"",
            "<script>",
            "<![CDATA[",
            "<!--",
            "-->",
            "&amp;",
            "&#x0;",
            "<b><i>",
            "<article>",
            "<select>",
            "<frameset>",
            "<noscript>",
            "\u{feff}",
        ],
    },
    Target {
        name: "robots",
        run: robots,
        max_len: 16 * 1024,
        dictionary: &[
            "User-agent: ",
            "VoiceForgeBot",
            "*",
            "Disallow: ",
            "Allow: ",
            "Crawl-delay: ",
            "Sitemap: ",
            "\n",
            "\r\n",
            "$",
            "/",
            "#",
            "%2F",
            "1e308",
            "NaN",
            "-1",
            "0.0001",
        ],
    },
    Target {
        name: "sitemap",
        run: sitemap,
        max_len: 32 * 1024,
        dictionary: &[
            "<urlset>",
            "</urlset>",
            "<url>",
            "</url>",
            "<loc>",
            "</loc>",
            "<sitemapindex>",
            "<sitemap>",
            "</sitemap>",
            "<?xml version=\"1.0\"?>",
            "<!DOCTYPE",
            "<!ENTITY",
            "&amp;",
            "&lt;",
            "<![CDATA[",
            "]]>",
            "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"",
            "\u{feff}",
        ],
    },
    Target {
        name: "token_header",
        run: token_header,
        max_len: 4096,
        dictionary: &[
            "Bearer ",
            ".",
            "\"alg\"",
            "\"RS256\"",
            "\"none\"",
            "\"HS256\"",
            "\"kid\"",
            "\"fuzz_kid_a\"",
            "\"iss\"",
            "\"https://jwks.fuzz.test\"",
            "\"https://pem.fuzz.test\"",
            "\"sub\"",
            "\"sid\"",
            "\"org_id\"",
            "\"v\":2",
            "\"o\":{\"id\":\"org_x\"}",
            "\"sts\":\"pending\"",
            "\"exp\":",
            "\"nbf\":",
            "\"iat\":",
            "99999999999",
            "{",
            "}",
            ":",
            ",",
            "null",
        ],
    },
    Target {
        name: "webhook_verify",
        run: webhook_verify,
        max_len: 8192,
        dictionary: &["\0", "v1,", " ", "v2,", "msg_", "1767225600", "=", "+", "/", "whsec_"],
    },
    Target {
        name: "template_placeholders",
        run: template_placeholders,
        max_len: 8192,
        dictionary: &["{{", "}}", "{{ ", " }}", "{", "}", "topic", "_", "A", "é", "\u{0}", "{{{", "}}}"],
    },
];

/// The page every fuzzed document and link is resolved against.
const PAGE_URL: &str = "https://acme.example/docs/page.html";

/// URL normalization: a normalized URL is a fixed point (idempotent), http(s) only, without
/// credentials or fragment, within the length cap, its query sorted and free of trackers;
/// resolved links are normalized too.
pub fn url_normalize(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (first, rest) = text.split_once('\n').unwrap_or((&*text, ""));
    for input in [&*text, first] {
        if let Ok(url) = urls::normalize(input) {
            assert_normalized(&url);
            let _ = urls::trap_reason(&url);
            let path = url.path();
            assert!(urls::pattern_matches(path, path), "a path is a prefix pattern of itself");
            if urls::valid_pattern(rest) {
                let _ = urls::pattern_matches(rest, path);
            }
        }
    }
    // Links: the first line is the page, the rest an href on it.
    let base = urls::normalize(first).unwrap_or_else(|_| Url::parse(PAGE_URL).expect("constant URL"));
    if let Some(link) = urls::resolve(&base, rest) {
        assert_normalized(&link);
    }
}

fn assert_normalized(url: &Url) {
    assert!(matches!(url.scheme(), "http" | "https"), "{url}: scheme");
    assert!(url.fragment().is_none() && url.username().is_empty() && url.password().is_none(), "{url}");
    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{url}: host");
    assert!(url.as_str().len() <= MAX_URL_LEN, "{url}: length");
    if let Some(query) = url.query() {
        assert!(!query.is_empty(), "{url}: empty query kept");
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        assert!(pairs.windows(2).all(|w| w[0] <= w[1]), "{url}: query not sorted");
        assert!(!pairs.iter().any(|(k, _)| k.to_ascii_lowercase().starts_with("utm_")), "{url}: tracker kept");
    }
    match urls::normalize(url.as_str()) {
        Ok(again) => assert_eq!(again.as_str(), url.as_str(), "normalization is not idempotent"),
        Err(err) => panic!("{url} normalized once but not twice: {err}"),
    }
}

/// The SSRF guard: no address in a special-purpose range (checked against an independent
/// CIDR table) passes, whatever notation the URL spells it in, and normalizing a URL never
/// turns a refused literal into an allowed one.
pub fn ssrf_guard(data: &[u8]) {
    let closed = Policy::default();
    let open = Policy { allow_private_networks: true, exempt: vec![] };
    if data.len() >= 16 {
        let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(&data[..16]).expect("16 bytes"));
        check_address(&closed, &open, IpAddr::V6(v6));
    }
    if data.len() >= 4 {
        let v4 = Ipv4Addr::from(<[u8; 4]>::try_from(&data[..4]).expect("4 bytes"));
        check_address(&closed, &open, IpAddr::V4(v4));
    }
    let text = String::from_utf8_lossy(data);
    for candidate in [text.to_string(), format!("http://{text}/"), format!("http://[{text}]/")] {
        let Ok(url) = Url::parse(&candidate) else { continue };
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        let refused = closed.check_url(&url).is_err();
        if let Some(ip) = literal
            && reference_is_special(ip)
        {
            assert!(refused, "{candidate} ({ip}) reached the network past the guard");
        }
        if refused && let Ok(normalized) = urls::normalize(&candidate) {
            assert!(closed.check_url(&normalized).is_err(), "normalizing {candidate} opened the guard");
        }
    }
}

fn check_address(closed: &Policy, open: &Policy, ip: IpAddr) {
    let range = guard::special_range(ip);
    let at = SocketAddr::new(ip, 443);
    if reference_is_special(ip) {
        assert!(range.is_some(), "{ip} is special-purpose but the guard calls it public");
        assert!(closed.check(at).is_err(), "{ip} passed the closed policy");
    }
    if range.is_none() {
        assert!(closed.check(at).is_ok(), "{ip}: public addresses pass");
    }
    let unspecified_or_multicast = match ip {
        IpAddr::V4(v4) => v4.is_unspecified() || v4.is_multicast(),
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_multicast(),
    };
    if unspecified_or_multicast {
        assert!(open.check(at).is_err(), "{ip}: even local development never connects there");
    }
}

/// IANA special-purpose blocks (REFERENCE.md § SSRF facts), as CIDR arithmetic: an oracle
/// written apart from the guard's own match arms.
const V4_SPECIAL: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),
    ([10, 0, 0, 0], 8),
    ([100, 64, 0, 0], 10),
    ([127, 0, 0, 0], 8),
    ([169, 254, 0, 0], 16),
    ([172, 16, 0, 0], 12),
    ([192, 0, 0, 0], 24),
    ([192, 0, 2, 0], 24),
    ([192, 168, 0, 0], 16),
    ([198, 18, 0, 0], 15),
    ([198, 51, 100, 0], 24),
    ([203, 0, 113, 0], 24),
    ([224, 0, 0, 0], 4),
    ([240, 0, 0, 0], 4),
];

const V6_SPECIAL: &[(u128, u32)] = &[
    (0, 128),                // ::/128
    (1, 128),                // ::1
    (0xfc00 << 112, 7),      // fc00::/7
    (0xfe80 << 112, 10),     // fe80::/10
    (0xff00 << 112, 8),      // ff00::/8
    (0x2001_0db8 << 96, 32), // documentation
    (0x0064_ff9b << 96, 96), // NAT64 well-known prefix (judged by its IPv4)
];

fn in_v4(ip: Ipv4Addr, (net, len): ([u8; 4], u32)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn reference_is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => V4_SPECIAL.iter().any(|&block| in_v4(v4, block)),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            // IPv4-mapped and the NAT64 prefix carry an IPv4 address: judge that.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return reference_is_special(IpAddr::V4(v4));
            }
            if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
                return reference_is_special(IpAddr::V4(Ipv4Addr::from(bits as u32)));
            }
            V6_SPECIAL.iter().any(|&(net, len)| {
                let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
                bits & mask == net & mask
            }) || v6.is_loopback()
                || v6.is_unspecified()
        }
    }
}

/// HTML extraction: any bytes give a page whose links are normalized http(s) URLs (at most
/// 2,000), whose canonical URL stays on the page's site, and whose title, description and
/// language respect their caps.
pub fn html_extract(data: &[u8]) {
    let page_url = Url::parse(PAGE_URL).expect("constant URL");
    let html = fetch::decode_html(data, None);
    let page = match extract::extract(&html, &page_url) {
        Ok(page) => page,
        Err(too_complex) => {
            // Refused only past the caps: a small input can still build many elements.
            assert!(!too_complex.to_string().is_empty());
            return;
        }
    };
    assert!(page.links.len() <= 2000, "{} links kept", page.links.len());
    for link in &page.links {
        assert!(matches!(link.scheme(), "http" | "https") && link.fragment().is_none(), "{link}");
        assert_eq!(urls::normalize(link.as_str()).ok().as_ref(), Some(link), "links are normalized");
    }
    assert_eq!(page.canonical_url.host_str(), page_url.host_str(), "canonical left the site");
    assert_eq!(page.canonical_url.scheme(), page_url.scheme());
    assert!(page.title.chars().count() <= 1024 && !page.title.contains('\n'), "title {:?}", page.title);
    assert!(page.description.as_ref().is_none_or(|d| d.chars().count() <= 4096 && !d.is_empty()));
    if let Some(lang) = &page.language {
        assert!((2..=35).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
    // The same bytes declared as Latin-1 decode too (every byte is a character).
    let latin1 = fetch::decode_html(data, Some("text/html; charset=iso-8859-1"));
    assert!(
        data.starts_with(&[0xef, 0xbb, 0xbf])
            || data.starts_with(&[0xfe, 0xff])
            || data.starts_with(&[0xff, 0xfe])
            || latin1.chars().count() == data.len(),
        "windows-1252 maps every byte to one character"
    );
}

/// robots.txt: any text parses; `Crawl-delay` comes out within 1 ms to 30 s; a file that
/// disallows nothing (in any spelling the parser accepts) allows everything; sitemaps
/// listed are taken from the file.
pub fn robots(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let rules = Rules::parse(Some(&*text));
    if let Some(ms) = rules.crawl_delay_ms() {
        assert!((1..=30_000).contains(&ms), "crawl delay {ms} ms");
    }
    let probes = ["https://e.com/", "https://e.com/private/x?y=1", "https://e.com/%2Fa/b.html", "https://e.com/*$"];
    // The parser also takes the misspellings Google's does ("Dissallow: /" still refuses).
    let lower = text.to_ascii_lowercase();
    let disallows = ["disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw"]
        .iter()
        .any(|spelling| lower.contains(spelling));
    for probe in probes {
        let url = Url::parse(probe).expect("constant URL");
        let allowed = rules.allowed(&url);
        assert_eq!(allowed, rules.allowed(&url), "robots answers are stable");
        if !disallows {
            assert!(allowed, "{probe} refused by a robots.txt without Disallow");
        }
    }
    for map in rules.sitemaps() {
        assert!(text.contains(map.as_str()), "sitemap {map:?} is not in the file");
    }
    assert!(Rules::parse(None).allowed(&Url::parse(probes[1]).expect("constant URL")));
}

/// Sitemaps: a document is either a urlset or an index, capped at `max_urls` trimmed
/// entries, and gzip changes nothing about what it lists.
pub fn sitemap(data: &[u8]) {
    const MAX: usize = 50;
    let plain = sitemap::parse(data, MAX);
    if let Ok(map) = &plain {
        assert!(map.pages.is_empty() || map.sitemaps.is_empty(), "a document is one kind");
        assert!(map.pages.len() <= MAX && map.sitemaps.len() <= MAX, "cap ignored");
        for entry in map.pages.iter().chain(&map.sitemaps) {
            assert_eq!(entry.trim(), entry, "entries are trimmed");
        }
    }
    if !data.starts_with(&[0x1f, 0x8b]) {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("in-memory write");
        let zipped = sitemap::parse(&gz.finish().expect("in-memory gzip"), MAX);
        match (&plain, &zipped) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "gzip changed the sitemap"),
            (Err(_), Err(_)) => {}
            _ => panic!("plain {plain:?} but gzipped {zipped:?}"),
        }
    }
}

const PEM_ISSUER: &str = "https://pem.fuzz.test";
const JWKS_ISSUER: &str = "https://jwks.fuzz.test";
const KID: &str = "fuzz_kid_a";
const PUBLIC_PEM: &str = include_str!("../../lib/src/auth/testdata/test-key-a.pub.pem");
const PRIVATE_PEM: &str = include_str!("../../lib/src/auth/testdata/test-key-a.pem");
/// test-key-a as a JWK (n and e of test-key-a.pub.pem).
const JWK_N: &str = "vfJNSjsYwlZYIMapVuY5we0ul_3_7ThhgYLzG0WP5cUEIMV62vgOLZcfbBL_qcWwAn1ts5wP9F2aabjdzlC7E_QmoVqdjOaHQrOsYBzOytLhL4-DTAUHSJKop_uCuVyT_dQAqnYzAetP2GZAm8_D5Vw3783NLOIqxoU3hmMih0izbrlNIVhM4qUA-t87KmPybvUcMeBAHyp-ptkzPM7xesxbn_vjrqByxI7Nc6gg0potfrsaoaweOrpddw6tOAhmELXqJOKJkgx-T1wU2zuCDJOCV6qGxjLv__XpGSoDOb6aekU1aWI4H9s6jnN2iy67aSb-u2cSWXiDTPN8rteuhQ";

struct Verification {
    runtime: tokio::runtime::Runtime,
    verifier: TokenVerifier,
    signer: jsonwebtoken::EncodingKey,
}

fn verification() -> &'static Verification {
    static CELL: OnceLock<Verification> = OnceLock::new();
    CELL.get_or_init(|| {
        voiceforge::http::install_crypto_provider();
        let jwks = serde_json::json!({"keys": [{"kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig", "n": JWK_N, "e": "AQAB"}]});
        let issuers = vec![
            IssuerConfig { issuer: PEM_ISSUER.into(), keys: KeySource::Pem(PUBLIC_PEM.into()), authorized_parties: vec![] },
            IssuerConfig {
                issuer: JWKS_ISSUER.into(),
                keys: KeySource::Static(serde_json::from_value(jwks).expect("JWK set")),
                authorized_parties: vec!["https://app.fuzz.test".into()],
            },
        ];
        let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client (never used: keys are local)");
        Verification {
            runtime: tokio::runtime::Builder::new_current_thread().build().expect("runtime"),
            verifier: TokenVerifier::new(issuers, http),
            signer: jsonwebtoken::EncodingKey::from_rsa_pem(PRIVATE_PEM.as_bytes()).expect("test key"),
        }
    })
}

/// Errors a token can get before its signature has verified.
fn before_signature(err: &AuthError) -> bool {
    matches!(
        err,
        AuthError::MissingToken
            | AuthError::MalformedToken
            | AuthError::UnsupportedAlgorithm
            | AuthError::InvalidIssuer
            | AuthError::UnknownKey
            | AuthError::InvalidSignature
            | AuthError::KeysUnavailable
    )
}

/// Session tokens: the bearer header and the JWT header (`alg`, `kid`) parse without
/// panicking; nothing unsigned is ever accepted and no claim is judged before the signature;
/// a validly signed token yields exactly the identity its claims name.
pub fn token_header(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let v = verification();
    let verify = |token: &str| v.runtime.block_on(v.verifier.verify(token));
    match mode % 3 {
        0 => {
            let header = String::from_utf8_lossy(rest);
            if let Ok(token) = auth::bearer_token(Some(&*header)) {
                assert!(token.len() <= auth::MAX_TOKEN_LEN && header.contains(token));
                match v.runtime.block_on(v.verifier.authenticate(Some(&*header))) {
                    Ok(id) => panic!("an unsigned token was accepted: {id:?}"),
                    Err(err) => assert!(before_signature(&err), "{err:?} judged before the signature"),
                }
            }
        }
        1 => {
            // Structured: header JSON, payload JSON and signature bytes split by 0xff.
            let mut parts = rest.splitn(3, |&b| b == 0xff);
            let (h, p, s) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next());
            let token = format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(h),
                URL_SAFE_NO_PAD.encode(p),
                URL_SAFE_NO_PAD.encode(s.unwrap_or_default())
            );
            match verify(&token) {
                Ok(id) => panic!("a forged token was accepted: {id:?}"),
                Err(err) => assert!(before_signature(&err), "{err:?} judged before the signature"),
            }
        }
        _ => {
            // Validly signed: the claims are the fuzzer's.
            let kid_in_header = rest.first().is_some_and(|b| b & 1 == 1);
            let header = if kid_in_header {
                format!(r#"{{"alg":"RS256","kid":"{KID}","typ":"JWT","cat":"cl_B7d4PD111AAA"}}"#)
            } else {
                r#"{"alg":"RS256","typ":"JWT"}"#.to_owned()
            };
            let payload = rest.get(1..).unwrap_or_default();
            let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(&header), URL_SAFE_NO_PAD.encode(payload));
            let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &v.signer, jsonwebtoken::Algorithm::RS256)
                .expect("signing");
            let token = format!("{message}.{signature}");
            if let Ok(id) = verify(&token) {
                assert_identity_matches_claims(&id, payload);
            }
        }
    }
}

fn assert_identity_matches_claims(id: &auth::Identity, payload: &[u8]) {
    let claims: serde_json::Value = serde_json::from_slice(payload).expect("accepted claims are JSON");
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    assert_eq!(Some(id.issuer.clone()), text(&claims["iss"]), "issuer");
    assert_eq!(Some(id.user_id.clone()), text(&claims["sub"]), "sub");
    assert_eq!(Some(id.session_id.clone()), text(&claims["sid"]), "sid");
    assert_ne!(claims["sts"], "pending", "a pending session has no organization");
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(claims["exp"].as_f64().is_some_and(|exp| exp + 5.0 >= now - 1.0), "expired token accepted");
    for future in ["iat", "nbf"] {
        assert!(claims[future].as_f64().is_none_or(|t| t <= now + 6.0), "{future} in the future accepted");
    }
    if id.issuer == JWKS_ISSUER {
        assert_eq!(claims["azp"], "https://app.fuzz.test", "azp must be an authorized party");
    }
    let v2 = claims["v"].as_u64().is_some_and(|v| v >= 2);
    let org = if v2 { &claims["o"]["id"] } else { &claims["org_id"] };
    assert_eq!(Some(id.org_id.clone()), text(org), "organization");
    assert!(!id.org_id.is_empty());
}

/// Svix webhook verification against an independent HMAC: only a matching `v1` signature
/// of `id.timestamp.body` within five minutes passes; a correct one always passes; a one-bit
/// change of the body never does.
pub fn webhook_verify(data: &[u8]) {
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_767_225_600;
    let now = time::OffsetDateTime::from_unix_timestamp(NOW).expect("constant time");
    let mut parts = data.splitn(4, |&b| b == 0);
    let mut field = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (id, timestamp, signature) = (field(), field(), field());
    let body = parts.next().unwrap_or_default();

    let key = STANDARD.decode(SECRET.trim_start_matches("whsec_")).expect("secret");
    let mac = |ts: &str, body: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC key");
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    };
    let headers = SvixHeaders { id: &id, timestamp: &timestamp, signature: &signature };
    let result = webhook::verify_svix(SECRET, &headers, body, now);
    let ts_ok = !timestamp.is_empty()
        && timestamp.len() <= 20
        && timestamp.bytes().all(|b| b.is_ascii_digit())
        && timestamp.parse::<i64>().is_ok_and(|t| t.abs_diff(NOW) <= webhook::TOLERANCE_SECS);
    if result.is_ok() {
        let expected = mac(&timestamp, body);
        let matched = signature.split(' ').any(|e| {
            e.split_once(',').is_some_and(|(v, sig)| v == "v1" && STANDARD.decode(sig).is_ok_and(|s| s == expected))
        });
        assert!(matched && ts_ok && !id.is_empty() && id.len() <= 256, "accepted without a valid signature");
    }
    if let Err(err) = &result {
        assert!(!err.is_misconfiguration(), "the secret is valid: {err:?}");
        assert!(!err.code().is_empty());
    }
    // A correct signature added to whatever the sender put there always passes.
    let ts = if ts_ok { timestamp.clone() } else { NOW.to_string() };
    let good = format!("{signature} v1,{}", STANDARD.encode(mac(&ts, body)));
    if !id.is_empty() && id.len() <= 256 && good.len() <= 4096 {
        let headers = SvixHeaders { id: &id, timestamp: &ts, signature: &good };
        assert_eq!(webhook::verify_svix(SECRET, &headers, body, now), Ok(()), "a correct signature was refused");
        if let Some(first) = body.first() {
            let mut flipped = body.to_vec();
            flipped[0] = first ^ 1;
            let only_good = format!("v1,{}", STANDARD.encode(mac(&ts, body)));
            let headers = SvixHeaders { id: &id, timestamp: &ts, signature: &only_good };
            assert_eq!(
                webhook::verify_svix(SECRET, &headers, &flipped, now),
                Err(WebhookError::InvalidSignature),
                "a changed body passed"
            );
        }
    }
}

/// Template placeholders: every `{{name}}` found is a slice of the text with a valid name,
/// in order and without overlap, and the text between them holds no `{{` but escaped ones
/// (`\{{`); an error is the stable `invalid_placeholder`.
pub fn template_placeholders(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match templates::placeholders(&text) {
        Ok(found) => {
            let mut at = 0;
            for p in &found {
                assert!(p.range.start >= at && p.range.end <= text.len(), "{p:?} out of order or bounds");
                let whole = &text[p.range.clone()];
                assert!(whole.starts_with("{{") && whole.ends_with("}}"), "{whole:?}");
                assert_eq!(whole[2..whole.len() - 2].trim(), p.name, "the name is the trimmed inside");
                assert!(text.contains(&p.name), "placeholders are a subset of the text");
                assert!(p.name.len() <= 40 && p.name.starts_with(|c: char| c.is_ascii_lowercase()));
                assert!(p.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
                assert!(only_escaped_opens(&text, at, p.range.start), "a placeholder was skipped");
                at = p.range.end;
            }
            assert!(only_escaped_opens(&text, at, text.len()), "a trailing placeholder was skipped");
        }
        Err(TemplateError::Invalid(code, detail)) => {
            assert_eq!(code, "invalid_placeholder");
            assert!(detail.chars().count() < 200, "the error quotes at most 40 characters of input");
            assert!(text.contains("{{"), "an error without any placeholder");
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

/// Whether every `{{` in `text[from..to]`, read left to right as the template parser reads
/// it, is escaped by a `\` just before it.
fn only_escaped_opens(text: &str, from: usize, to: usize) -> bool {
    let mut at = from;
    while let Some(open) = text[at..to].find("{{").map(|i| i + at) {
        if !text[..open].ends_with(templates::ESCAPE) {
            return false;
        }
        at = open + 2;
    }
    true
}
