//! Sitemaps: `<urlset>` and `<sitemapindex>` documents, plain or gzip, read with roxmltree
//! and capped in size and count.

/// Largest sitemap read after decompression (the protocol's own limit is 50 MB).
pub const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;

/// What one sitemap document lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Page URLs (`<urlset><url><loc>`).
    pub pages: Vec<String>,
    /// Child sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<String>,
}

/// Why a sitemap could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    /// Gzip that does not inflate, or inflates beyond the cap.
    #[error("the sitemap is not valid gzip or is larger than {MAX_SITEMAP_BYTES} bytes")]
    Gzip,
    /// Not XML, or neither a urlset nor a sitemapindex.
    #[error("the sitemap is not a urlset or sitemapindex document: {0}")]
    Xml(String),
}

/// Parses a sitemap body (gzip detected by its magic bytes), keeping at most `max_urls` pages.
pub fn parse(body: &[u8], max_urls: usize) -> Result<Sitemap, SitemapError> {
    let inflated;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        inflated = gunzip(body)?;
        &inflated[..]
    } else {
        body
    };
    let text = std::str::from_utf8(body).map_err(|e| SitemapError::Xml(e.to_string()))?;
    let text = text.trim_start_matches('\u{feff}');
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: 4_000_000, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| SitemapError::Xml(e.to_string()))?;
    let root = doc.root_element();
    let (entry, out_is_pages) = match root.tag_name().name() {
        "urlset" => ("url", true),
        "sitemapindex" => ("sitemap", false),
        other => return Err(SitemapError::Xml(format!("unexpected root element <{other}>"))),
    };
    let mut out = Sitemap::default();
    for node in root.children().filter(|n| n.tag_name().name() == entry) {
        let Some(loc) = node.children().find(|n| n.tag_name().name() == "loc").and_then(|n| n.text()) else {
            continue;
        };
        let list = if out_is_pages { &mut out.pages } else { &mut out.sitemaps };
        if list.len() >= max_urls {
            break;
        }
        list.push(loc.trim().to_owned());
    }
    Ok(out)
}

fn gunzip(body: &[u8]) -> Result<Vec<u8>, SitemapError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_SITEMAP_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| SitemapError::Gzip)?;
    if out.len() > MAX_SITEMAP_BYTES {
        return Err(SitemapError::Gzip);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlsets_and_indexes_are_read_plain_or_gzipped_and_capped() {
        let set = r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc> https://e.com/a </loc><lastmod>2026-01-01</lastmod></url>
            <url><loc>https://e.com/b</loc></url><url><loc>https://e.com/c</loc></url></urlset>"#;
        assert_eq!(parse(set.as_bytes(), 2).unwrap().pages, ["https://e.com/a", "https://e.com/b"]);
        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>https://e.com/s1.xml.gz</loc></sitemap></sitemapindex>"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, index.as_bytes()).unwrap();
        let parsed = parse(&gz.finish().unwrap(), 10).unwrap();
        assert_eq!(parsed.sitemaps, ["https://e.com/s1.xml.gz"]);
        assert!(parse(b"<html></html>", 10).is_err());
        assert!(parse(b"<!DOCTYPE x [<!ENTITY a 'b'>]><urlset/>", 10).is_err(), "DTDs are refused");
        assert!(parse(&[0x1f, 0x8b, 0, 1, 2], 10).is_err());
    }
}
