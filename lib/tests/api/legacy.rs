//! `voiceforge import-legacy`: a single-tenant database built from docs/legacy-schema.sql moves
//! into an organization with nothing lost, twice without change, resumably, and read-only.

use std::{collections::HashMap, ops::ControlFlow};

use voiceforge::{
    legacy::{ImportOptions, ImportReport, Progress, Quiet, import},
    tenancy::System,
};

use crate::harness::{TestApp, TestDb};

const UNIQUE: usize = 267;
const DUPLICATES: usize = 20;
const EMPTY: usize = 10;
const HUGE: usize = 3;

/// A legacy install: 300 contents (unique, duplicates, empty, over 2 MiB), chunks with and
/// without embeddings, crawls, and templates with odd placeholders.
async fn legacy_db() -> TestDb {
    let db = TestDb::empty().await;
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/legacy-schema.sql")).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(schema)).execute(&db.pool).await.unwrap();
    sqlx::query(
        "INSERT INTO crawls (root_url, pages_crawled) SELECT 'https://brand.test/', 100 FROM generate_series(1, 3)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    for i in 0..UNIQUE {
        let body = format!("# Page {i}\n\nOur brand helps teams ship faster. Fact number {i} about us.\n");
        let title = if i % 7 == 0 { None } else { Some(format!("Page {i}")) };
        sqlx::query("INSERT INTO contents (crawl_id, url, title, body) VALUES (1 + $1 % 3, $2, $3, $4)")
            .bind(i as i32)
            .bind(format!("https://brand.test/p/{i}"))
            .bind(title)
            .bind(body)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    for i in 0..DUPLICATES {
        // Same words as page i, reflowed, under another URL.
        let body = format!("# Page {i}\nOur brand helps teams ship faster.   Fact number {i} about us.");
        sqlx::query("INSERT INTO contents (url, title, body) VALUES ($1, 'Copy', $2)")
            .bind(format!("https://brand.test/copy/{i}"))
            .bind(body)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    for i in 0..EMPTY {
        let body = if i % 2 == 0 { None } else { Some("   \n ") };
        sqlx::query("INSERT INTO contents (title, body) VALUES ('Empty', $1)")
            .bind(body)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    for i in 0..HUGE {
        let body = format!("Huge {i} ") + &"lorem ipsum dolor ".repeat(130_000);
        sqlx::query("INSERT INTO contents (title, body) VALUES ('Huge', $1)")
            .bind(body)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO content_chunks (content_id, chunk_index, text, embedding)
         SELECT id, 0, left(body, 50), CASE WHEN id % 2 = 0 THEN array_fill(0.1::real, ARRAY[384])::vector END
           FROM contents WHERE id <= 100",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO marketing_templates (name, kind, prompt) VALUES
           ('Blog', 'blog_post', 'Write about {{topic}} for {{ audience }}'),
           ('Odd', NULL, 'Broken {{ placeholder and {{}} and {{a-b}} and }}'),
           ('Plain', 'email', 'No placeholders at all')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    db
}

/// A checksum of every legacy table's rows.
async fn checksums(db: &TestDb) -> Vec<String> {
    let mut sums = Vec::new();
    for table in ["crawls", "contents", "content_chunks", "marketing_templates"] {
        let sql = format!("SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM {table} t");
        sums.push(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&db.pool).await.unwrap());
    }
    sums
}

fn options(legacy: &TestDb, org: &str) -> ImportOptions {
    ImportOptions {
        from: legacy.url.clone(),
        org: org.into(),
        created_by: Some("user_importer".into()),
        dry_run: false,
    }
}

fn contents(report: &ImportReport) -> &voiceforge::legacy::TableReport {
    report.tables.iter().find(|t| t.table == "contents").unwrap()
}

/// The org's items keyed by URL (or title for URL-less ones) with their markdown.
async fn items(t: &TestApp, org: &str) -> HashMap<String, String> {
    let mut sys = System::begin(&t.app.db, "test: read imported items").await.unwrap();
    let rows: Vec<(Option<String>, String, String)> = sqlx::query_as(
        "SELECT c.url, c.title, c.markdown FROM contents c JOIN organizations o ON o.id = c.org_id WHERE o.clerk_org_id = $1",
    )
    .bind(org)
    .fetch_all(sys.conn())
    .await
    .unwrap();
    rows.into_iter().map(|(url, title, md)| (url.unwrap_or(title), md)).collect()
}

#[tokio::test]
async fn a_legacy_database_is_imported_whole_once_and_left_untouched() {
    let legacy = legacy_db().await;
    let before = checksums(&legacy).await;
    let t = TestApp::spawn().await;

    let dry = import(&t.app.db, &ImportOptions { dry_run: true, ..options(&legacy, "org_legacy") }, &mut Quiet)
        .await
        .unwrap();
    assert_eq!(t.count_all("organizations").await, 0, "a dry run writes nothing");

    let report = import(&t.app.db, &options(&legacy, "org_legacy"), &mut Quiet).await.unwrap();
    let c = contents(&report);
    assert_eq!(
        (c.total, c.imported, c.duplicates, c.failed.len()),
        (300, UNIQUE as u64, DUPLICATES as u64, EMPTY + HUGE)
    );
    assert!(c.failed.iter().filter(|f| f.reason.contains("empty")).count() == EMPTY);
    assert!(c.failed.iter().filter(|f| f.reason.contains("over the")).count() == HUGE);
    let dry_c = contents(&dry);
    assert_eq!(
        (dry_c.imported, dry_c.duplicates, dry_c.failed.len()),
        (c.imported, c.duplicates, c.failed.len()),
        "dry run predicts the run"
    );
    let chunks = report.tables.iter().find(|t| t.table == "content_chunks").unwrap();
    assert_eq!(chunks.rebuilt, chunks.total);

    // Every unique page landed in this org with its text; the importer is an admin member.
    let landed = items(&t, "org_legacy").await;
    assert_eq!(landed.len(), UNIQUE);
    for i in 0..UNIQUE {
        let md = &landed[&format!("https://brand.test/p/{i}")];
        assert!(md.contains(&format!("Fact number {i} about us.")), "{md}");
    }
    let admin =
        t.get("/api/organizations/users", &t.token("org_legacy", "user_importer", voiceforge::auth::Role::Admin)).await;
    assert_eq!(admin.json()["items"][0]["user_id"], "user_importer");

    // A second run changes nothing.
    let again = import(&t.app.db, &options(&legacy, "org_legacy"), &mut Quiet).await.unwrap();
    let c2 = contents(&again);
    assert_eq!((c2.imported, c2.already_imported, c2.duplicates), (0, (UNIQUE + DUPLICATES) as u64, 0));
    assert_eq!(items(&t, "org_legacy").await.len(), UNIQUE);

    assert_eq!(checksums(&legacy).await, before, "the legacy database must not change");
}

struct StopAfter(u64);

impl Progress for StopAfter {
    fn update(&mut self, _: &str, done: u64, _: u64) -> ControlFlow<()> {
        if done >= self.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
}

#[tokio::test]
async fn an_interrupted_import_resumes_to_the_same_result() {
    let legacy = legacy_db().await;
    let t = TestApp::spawn().await;
    let first = import(&t.app.db, &options(&legacy, "org_resume"), &mut StopAfter(120)).await.unwrap();
    assert!(first.interrupted);
    let partial = items(&t, "org_resume").await.len();
    assert!(partial > 0 && partial < UNIQUE, "{partial}");

    let rest = import(&t.app.db, &options(&legacy, "org_resume"), &mut Quiet).await.unwrap();
    assert!(!rest.interrupted);
    assert_eq!(contents(&first).imported + contents(&rest).imported, UNIQUE as u64);
    let landed = items(&t, "org_resume").await;
    assert_eq!(landed.len(), UNIQUE);
}

#[tokio::test]
async fn rows_over_the_content_limit_are_reported_and_imported_once_it_is_raised() {
    let legacy = legacy_db().await;
    let t = TestApp::spawn().await;
    voiceforge::tenancy::ensure_organization(&t.app.db, "org_small").await.unwrap();
    let set_limit = |n: i32| {
        let db = &t.app.db;
        async move {
            let mut sys = System::begin(db, "test: set limit").await.unwrap();
            sqlx::query("UPDATE organizations SET max_content_items = $1 WHERE clerk_org_id = 'org_small'")
                .bind(n)
                .execute(sys.conn())
                .await
                .unwrap();
            sys.commit().await.unwrap();
        }
    };
    set_limit(50).await;
    let report = import(&t.app.db, &options(&legacy, "org_small"), &mut Quiet).await.unwrap();
    let c = contents(&report);
    assert_eq!(c.imported, 50);
    assert_eq!(c.refused_by_limits, (UNIQUE - 50) as u64, "refused rows are reported, not dropped silently");

    set_limit(1000).await;
    let report = import(&t.app.db, &options(&legacy, "org_small"), &mut Quiet).await.unwrap();
    assert_eq!(contents(&report).imported, (UNIQUE - 50) as u64);
    assert_eq!(items(&t, "org_small").await.len(), UNIQUE);
}
