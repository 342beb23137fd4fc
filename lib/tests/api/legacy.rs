//! `voiceforge import-legacy`: a single-tenant database built from docs/legacy-schema.sql moves
//! into an organization with nothing lost, twice without change, resumably, and read-only.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    ops::ControlFlow,
};

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;
use voiceforge::{
    auth::Role,
    generate::templates::{self, Template},
    legacy::{ImportOptions, ImportReport, Progress, Quiet, TableReport, import},
    tenancy::System,
};

use crate::{
    harness::{TestApp, TestDb},
    templates::send,
};

const UNIQUE: usize = 267;
const DUPLICATES: usize = 20;
const EMPTY: usize = 10;
const HUGE: usize = 3;
/// Legacy crawls; the last has no root URL and cannot be imported.
const CRAWLS: usize = 30;
/// Legacy crawls created this month (the first ones).
const THIS_MONTH: usize = 4;
/// Unique pages linked to the crawl that cannot be imported.
const ORPHANS: usize = 5;

/// Legacy templates as (name, kind, prompt); ids follow this order from 1.
const TEMPLATES: &[(&str, Option<&str>, &str)] = &[
    ("Blog", Some("blog_post"), "Write about {{topic}} for {{ audience }}"),
    ("Odd", None, "Broken {{ placeholder and {{}} and {{a-b}} and }}"),
    ("Plain", Some("email"), "No placeholders at all"),
    // 4: the same as 1.
    ("Blog", Some("blog_post"), "Write about {{topic}} for {{ audience }}"),
    // 5: the name of 1, other words.
    ("Blog", Some("blog_post"), "Another take on {{topic}}"),
    // 6: a built-in's name.
    ("Blog post", Some("blog"), "Our own blog prompt on {{topic}}"),
    // 7: no name.
    ("  ", Some("social"), "Tweet about {{topic}}"),
    // 8: nothing to import.
    ("Empty", Some("email"), "   "),
    // 9: an unknown kind.
    ("Verse", Some("poem"), "A poem on {{topic}} in {{form}}"),
];
/// Legacy templates added after TEMPLATES: one over the instructions limit, one with too many
/// fields, one with a name over 100 characters.
const ODD_TEMPLATES: usize = 3;

/// A legacy install: 300 contents (unique, duplicates, empty, over 2 MiB), chunks with and
/// without embeddings, 30 crawls (some this month, some unfinished, one unusable), and
/// templates with odd placeholders, duplicates and taken names.
async fn legacy_db() -> TestDb {
    let db = TestDb::empty().await;
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/legacy-schema.sql")).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(schema)).execute(&db.pool).await.unwrap();
    sqlx::query(
        "INSERT INTO crawls (root_url, status, pages_crawled, created_at, finished_at)
         SELECT CASE WHEN i = $1 THEN '' ELSE 'https://brand.test/' || i || '/' END,
                CASE i % 10 WHEN 0 THEN 'failed' WHEN 5 THEN 'running' WHEN 7 THEN 'queued' ELSE 'completed' END,
                i * 3, t, CASE WHEN i % 10 IN (5, 7) THEN NULL ELSE t + interval '5 minutes' END
           FROM generate_series(1, $1) i,
                LATERAL (SELECT CASE WHEN i <= $2 THEN now() ELSE timestamptz '2024-03-01' + i * interval '1 day' END) d(t)",
    )
    .bind(CRAWLS as i32)
    .bind(THIS_MONTH as i32)
    .execute(&db.pool)
    .await
    .unwrap();
    for i in 0..UNIQUE {
        let body = format!("# Page {i}\n\nOur brand helps teams ship faster. Fact number {i} about us.\n");
        let title = if i % 7 == 0 { None } else { Some(format!("Page {i}")) };
        let crawl = if i < ORPHANS { CRAWLS as i32 } else { 1 + (i % (CRAWLS - 1)) as i32 };
        sqlx::query("INSERT INTO contents (crawl_id, url, title, body) VALUES ($1, $2, $3, $4)")
            .bind(crawl)
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
    for (name, kind, prompt) in TEMPLATES {
        sqlx::query("INSERT INTO marketing_templates (name, kind, prompt) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(kind)
            .bind(prompt)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let many: String = (0..21).map(|i| format!("{{{{f{i}}}}} ")).collect();
    let long_name = "N".repeat(150);
    let odd = [("Huge", "x".repeat(9000)), ("Many", many), (long_name.as_str(), "Long name {{topic}}".into())];
    for (name, prompt) in odd {
        sqlx::query("INSERT INTO marketing_templates (name, prompt) VALUES ($1, $2)")
            .bind(name)
            .bind(prompt)
            .execute(&db.pool)
            .await
            .unwrap();
    }
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

fn table<'r>(report: &'r ImportReport, name: &str) -> &'r TableReport {
    report.table(name).unwrap()
}

fn contents(report: &ImportReport) -> &TableReport {
    table(report, "contents")
}

/// Reads as the system path.
async fn system(t: &TestApp) -> System {
    System::begin(&t.app.db, "test: read the import").await.unwrap()
}

/// The org's items keyed by URL (or title for URL-less ones) with their markdown.
async fn items(t: &TestApp, org: &str) -> HashMap<String, String> {
    let rows: Vec<(Option<String>, String, String)> = sqlx::query_as(
        "SELECT c.url, c.title, c.markdown FROM contents c JOIN organizations o ON o.id = c.org_id WHERE o.clerk_org_id = $1",
    )
    .bind(org)
    .fetch_all(system(t).await.conn())
    .await
    .unwrap();
    rows.into_iter().map(|(url, title, md)| (url.unwrap_or(title), md)).collect()
}

/// The import map of `org` for one legacy table: legacy id → (outcome, new id).
async fn map(t: &TestApp, org: &str, legacy_table: &str) -> BTreeMap<i64, (String, Uuid)> {
    let rows: Vec<(i64, String, Uuid)> = sqlx::query_as(
        "SELECT m.legacy_id, m.outcome, m.new_id FROM legacy_import_map m JOIN organizations o ON o.id = m.org_id
          WHERE o.clerk_org_id = $1 AND m.legacy_table = $2",
    )
    .bind(org)
    .bind(legacy_table)
    .fetch_all(system(t).await.conn())
    .await
    .unwrap();
    rows.into_iter().map(|(id, outcome, new_id)| (id, (outcome, new_id))).collect()
}

/// Rows of `org` in `table` (crawls, contents, marketing_templates).
async fn count(t: &TestApp, org: &str, table: &str) -> i64 {
    let sql =
        format!("SELECT count(*) FROM {table} x JOIN organizations o ON o.id = x.org_id WHERE o.clerk_org_id = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(org).fetch_one(system(t).await.conn()).await.unwrap()
}

/// Object counts of `org` in every table the import writes.
async fn footprint(t: &TestApp, org: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for table in ["crawls", "contents", "marketing_templates", "legacy_import_map", "usage_counters", "template_seeds"]
    {
        out.push(count(t, org, table).await);
    }
    out
}

/// Asserts that every legacy id of every table is in the map or reported as failed.
async fn assert_accounted(t: &TestApp, org: &str, legacy: &TestDb, failed: &HashMap<&str, BTreeSet<i64>>) {
    for legacy_table in ["crawls", "contents", "marketing_templates"] {
        let ids: BTreeSet<i64> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id::bigint FROM {legacy_table}")))
                .fetch_all(&legacy.pool)
                .await
                .unwrap()
                .into_iter()
                .collect();
        let mapped: BTreeSet<i64> = map(t, org, legacy_table).await.into_keys().collect();
        let failed = &failed[legacy_table];
        assert!(mapped.is_disjoint(failed), "{legacy_table}: a row is both mapped and failed");
        let accounted: BTreeSet<i64> = mapped.union(failed).copied().collect();
        assert_eq!(accounted, ids, "{legacy_table}: every legacy id is mapped or reported");
    }
}

fn failed_ids<'r>(reports: impl IntoIterator<Item = &'r ImportReport>) -> HashMap<&'static str, BTreeSet<i64>> {
    let mut out: HashMap<&'static str, BTreeSet<i64>> = HashMap::new();
    for report in reports {
        for t in &report.tables {
            out.entry(t.table).or_default().extend(t.failed.iter().map(|f| f.legacy_id));
        }
    }
    out
}

/// The org's templates by id.
async fn org_templates(t: &TestApp, org: &str) -> HashMap<Uuid, Template> {
    let identity = voiceforge::auth::Identity {
        user_id: "user_importer".into(),
        session_id: "test".into(),
        org_id: org.into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    };
    let mut tenant = voiceforge::tenancy::Tenant::begin(&t.app.db, &identity).await.unwrap();
    let listed = templates::list(&mut tenant, None, 100).await.unwrap();
    listed.into_iter().map(|t| (t.id, t)).collect()
}

/// An imported crawl as stored: root URL, status, reason, created, started, finished, creator.
type ImportedCrawl =
    (String, String, Option<String>, OffsetDateTime, Option<OffsetDateTime>, Option<OffsetDateTime>, Option<String>);

#[tokio::test]
async fn a_legacy_database_is_imported_whole_once_and_left_untouched() {
    let legacy = legacy_db().await;
    let before = checksums(&legacy).await;
    let t = TestApp::spawn().await;

    let dry = import(&t.app.db, &ImportOptions { dry_run: true, ..options(&legacy, "org_legacy") }, &mut Quiet)
        .await
        .unwrap();
    assert_eq!(t.count_all("organizations").await, 0, "a dry run writes nothing");

    // A template the organization made before the import, named like a legacy one.
    let admin = t.token("org_legacy", "user_importer", Role::Admin);
    let body = json!({"name": "Plain", "kind": "email", "instructions": "Our own plain email", "fields": []});
    assert_eq!(send(&t, "POST", "/api/templates", &admin, Some(body)).await.status, 201);

    let report = import(&t.app.db, &options(&legacy, "org_legacy"), &mut Quiet).await.unwrap();
    assert!(!report.interrupted);
    let c = contents(&report);
    assert_eq!(
        (c.total, c.imported, c.duplicates, c.failed.len()),
        (300, UNIQUE as u64, DUPLICATES as u64, EMPTY + HUGE)
    );
    assert!(c.failed.iter().filter(|f| f.reason.contains("empty")).count() == EMPTY);
    assert!(c.failed.iter().filter(|f| f.reason.contains("over the")).count() == HUGE);
    assert_eq!(c.warnings.len(), ORPHANS, "items of a crawl that was not imported are reported: {:?}", c.warnings);
    let chunks = table(&report, "content_chunks");
    assert_eq!((chunks.total, chunks.rebuilt), (100, 100));

    let crawls = table(&report, "crawls");
    assert_eq!((crawls.total, crawls.imported, crawls.failed.len()), (CRAWLS as u64, CRAWLS as u64 - 1, 1));
    assert_eq!(crawls.failed[0].legacy_id, CRAWLS as i64);
    // The running and queued ones (i % 10 = 5 or 7; 30 is the unusable one).
    assert_eq!(crawls.warnings.len(), 6, "{:?}", crawls.warnings);

    let tpl = table(&report, "marketing_templates");
    let all_templates = (TEMPLATES.len() + ODD_TEMPLATES) as u64;
    assert_eq!((tpl.total, tpl.imported, tpl.duplicates), (all_templates, all_templates - 4, 1));
    let failed: BTreeMap<i64, &str> = tpl.failed.iter().map(|f| (f.legacy_id, f.reason.as_str())).collect();
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), [8, 10, 11], "{failed:?}");
    assert!(failed[&8].contains("empty prompt"));
    assert!(failed[&10].contains("8000"), "{}", failed[&10]);
    assert!(failed[&11].contains("20 fields"), "{}", failed[&11]);
    let warnings =
        |id: i64| tpl.warnings.iter().filter(|w| w.legacy_id == id).map(|w| w.message.as_str()).collect::<Vec<_>>();
    assert_eq!(warnings(2).len(), 4, "each odd placeholder of `Odd` is reported: {:?}", warnings(2));
    assert!(warnings(3)[0].contains("imported as \"Plain (imported)\""), "{:?}", warnings(3));
    assert!(warnings(5)[0].contains("imported as \"Blog (imported)\""), "{:?}", warnings(5));
    assert!(warnings(6)[0].contains("imported as \"Blog post (imported)\""), "{:?}", warnings(6));
    assert!(warnings(7)[0].contains("Imported template 7"), "{:?}", warnings(7));
    assert!(warnings(9)[0].contains("unknown kind \"poem\""), "{:?}", warnings(9));
    assert!(warnings(12)[0].contains("shortened"), "{:?}", warnings(12));

    // The dry run predicted all of it.
    for name in ["crawls", "contents", "content_chunks", "marketing_templates"] {
        let (d, r) = (table(&dry, name), table(&report, name));
        assert_eq!(
            (d.total, d.imported, d.duplicates, d.refused_by_limits, d.rebuilt, d.failed.len()),
            (r.total, r.imported, r.duplicates, r.refused_by_limits, r.rebuilt, r.failed.len()),
            "dry run predicts {name}"
        );
    }
    assert_eq!(table(&dry, "crawls").warnings.len(), crawls.warnings.len());

    // Every legacy row is mapped or reported, in this org only.
    let failed = failed_ids([&report]);
    assert_accounted(&t, "org_legacy", &legacy, &failed).await;

    // Every unique page landed in this org with its text; the importer is an admin member.
    let landed = items(&t, "org_legacy").await;
    assert_eq!(landed.len(), UNIQUE);
    for i in 0..UNIQUE {
        let md = &landed[&format!("https://brand.test/p/{i}")];
        assert!(md.contains(&format!("Fact number {i} about us.")), "{md}");
    }
    let members = t.get("/api/organizations/users", &admin).await;
    assert_eq!(members.json()["items"][0]["user_id"], "user_importer");

    // Crawls keep their URL, times and outcome; items link to the crawl they came from.
    let crawl_map = map(&t, "org_legacy", "crawls").await;
    type LegacyCrawl = (i64, String, String, OffsetDateTime, Option<OffsetDateTime>);
    let legacy_crawls: Vec<LegacyCrawl> =
        sqlx::query_as("SELECT id::bigint, root_url, status, created_at, finished_at FROM crawls ORDER BY id")
            .fetch_all(&legacy.pool)
            .await
            .unwrap();
    let mut sys = system(&t).await;
    for (id, url, status, created_at, finished_at) in &legacy_crawls[..CRAWLS - 1] {
        let (outcome, new_id) = &crawl_map[id];
        assert_eq!(outcome, "imported");
        let row: ImportedCrawl = sqlx::query_as(
            "SELECT c.root_url, c.status, c.status_reason, c.created_at, c.started_at, c.finished_at, u.clerk_user_id
                   FROM crawls c LEFT JOIN users u ON u.id = c.created_by WHERE c.id = $1",
        )
        .bind(new_id)
        .fetch_one(sys.conn())
        .await
        .unwrap();
        let expected = match status.as_str() {
            "completed" => "completed",
            "failed" => "failed",
            _ => "cancelled",
        };
        assert_eq!((&row.0, row.1.as_str(), &row.3), (url, expected, created_at), "legacy crawl {id}");
        assert!(row.2.as_deref().unwrap().contains(&format!("legacy crawl #{id}")), "{:?}", row.2);
        if status == "queued" {
            assert_eq!(row.4, None);
        } else {
            assert_eq!(row.4.as_ref(), Some(created_at));
        }
        match finished_at {
            Some(at) => assert_eq!(row.5.as_ref(), Some(at)),
            None => assert!(row.5.is_some(), "an unfinished legacy crawl ends at the import"),
        }
        assert_eq!(row.6.as_deref(), Some("user_importer"));
    }
    let content_map = map(&t, "org_legacy", "contents").await;
    let links: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id::bigint, crawl_id::bigint FROM contents").fetch_all(&legacy.pool).await.unwrap();
    let mut linked = 0;
    for (id, crawl) in links {
        let Some(("imported", new_id)) = content_map.get(&id).map(|(o, n)| (o.as_str(), n)) else { continue };
        let got: Option<Uuid> = sqlx::query_scalar("SELECT crawl_id FROM contents WHERE id = $1")
            .bind(new_id)
            .fetch_one(sys.conn())
            .await
            .unwrap();
        let expected = crawl.and_then(|c| crawl_map.get(&c)).map(|(_, n)| *n);
        assert_eq!(got, expected, "legacy content {id}");
        linked += usize::from(got.is_some());
    }
    assert_eq!(linked, UNIQUE - ORPHANS);

    // Crawls from this month count towards this month's usage; older ones do not.
    let used: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(value), 0)::bigint FROM usage_counters u JOIN organizations o ON o.id = u.org_id
          WHERE o.clerk_org_id = 'org_legacy' AND metric = 'crawls' AND period = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')",
    )
    .fetch_one(sys.conn())
    .await
    .unwrap();
    assert_eq!(used, THIS_MONTH as i64);
    drop(sys);

    // Templates: fields from valid placeholders, odd ones literal, taken names suffixed, the
    // duplicate mapped to its original, the built-ins kept.
    let tpl_map = map(&t, "org_legacy", "marketing_templates").await;
    let org_tpls = org_templates(&t, "org_legacy").await;
    let by_legacy = |id: i64| &org_tpls[&tpl_map[&id].1];
    let blog = by_legacy(1);
    assert_eq!((blog.name.as_str(), blog.kind), ("Blog", templates::Kind::BlogPost));
    assert_eq!(blog.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["topic", "audience"]);
    assert_eq!(tpl_map[&4], ("duplicate".into(), tpl_map[&1].1));
    let odd = by_legacy(2);
    assert!(odd.fields.is_empty());
    assert_eq!(templates::render(odd, &BTreeMap::new()), TEMPLATES[1].2, "odd placeholders render literally");
    let names: BTreeSet<&str> = org_tpls.values().map(|t| t.name.as_str()).collect();
    for name in
        ["Plain", "Plain (imported)", "Blog (imported)", "Blog post", "Blog post (imported)", "Imported template 7"]
    {
        assert!(names.contains(name), "{name} in {names:?}");
    }
    assert_eq!(by_legacy(5).instructions, TEMPLATES[4].2);
    assert_eq!(by_legacy(9).kind, templates::Kind::Custom);
    assert_eq!(by_legacy(9).fields.len(), 2);
    assert_eq!(by_legacy(12).name.chars().count(), 100);
    assert_eq!(org_tpls.len(), templates::BUILTINS.len() + 1 + tpl.imported as usize);
    for (id, (_, new_id)) in &tpl_map {
        let (_, _, prompt) = TEMPLATES.get(*id as usize - 1).copied().unwrap_or(("", None, "Long name {{topic}}"));
        assert_eq!(templates::render(&org_tpls[new_id], &filled()), render_filled(prompt), "legacy template {id}");
    }

    // A second run changes nothing.
    let footprint_before = footprint(&t, "org_legacy").await;
    let again = import(&t.app.db, &options(&legacy, "org_legacy"), &mut Quiet).await.unwrap();
    for t in &again.tables {
        assert_eq!((t.imported, t.duplicates, t.refused_by_limits, t.warnings.len()), (0, 0, 0, 0), "{}", t.table);
    }
    let c2 = contents(&again);
    assert_eq!(c2.already_imported, (UNIQUE + DUPLICATES) as u64);
    assert_eq!(table(&again, "content_chunks").rebuilt, 0, "nothing imported, nothing rebuilt");
    assert_eq!(table(&again, "crawls").already_imported, CRAWLS as u64 - 1);
    assert_eq!(table(&again, "marketing_templates").already_imported, all_templates - 3);
    assert_eq!(footprint(&t, "org_legacy").await, footprint_before);
    assert_eq!(items(&t, "org_legacy").await.len(), UNIQUE);

    // Nothing landed anywhere else.
    assert_eq!(t.count_all("organizations").await, 1);
    assert_eq!(checksums(&legacy).await, before, "the legacy database must not change");
}

/// A legacy prompt rendered with every valid placeholder blank.
/// Inputs for every placeholder the legacy templates use.
fn filled() -> BTreeMap<String, String> {
    [("topic", "pricing"), ("audience", "CFOs"), ("form", "a list")].map(|(k, v)| (k.to_owned(), v.to_owned())).into()
}

/// A legacy prompt with [`filled`]'s values in its placeholders.
fn render_filled(prompt: &str) -> String {
    let mut out = prompt.to_owned();
    for (valid, value) in [("{{topic}}", "pricing"), ("{{ audience }}", "CFOs"), ("{{form}}", "a list")] {
        out = out.replace(valid, value);
    }
    out
}

/// Stops once `n` rows of `table` are handled.
struct StopAt(&'static str, u64);

impl Progress for StopAt {
    fn update(&mut self, table: &str, done: u64, _: u64) -> ControlFlow<()> {
        if table == self.0 && done >= self.1 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
}

#[tokio::test]
async fn an_interrupted_import_resumes_to_the_same_result() {
    let legacy = legacy_db().await;
    let before = checksums(&legacy).await;
    let t = TestApp::spawn().await;
    let org = "org_resume";
    let run = |progress: StopAt| {
        let (db, options) = (&t.app.db, options(&legacy, org));
        async move {
            let mut progress = progress;
            import(db, &options, &mut progress).await.unwrap()
        }
    };

    let first = run(StopAt("crawls", 10)).await;
    assert!(first.interrupted);
    assert_eq!(table(&first, "crawls").imported, 10);
    assert_eq!((count(&t, org, "crawls").await, count(&t, org, "contents").await), (10, 0));

    let second = run(StopAt("contents", 120)).await;
    assert!(second.interrupted);
    assert_eq!(table(&second, "crawls").already_imported, 10);
    let partial = items(&t, org).await.len();
    assert!(partial > 0 && partial < UNIQUE, "{partial}");
    assert_eq!(count(&t, org, "marketing_templates").await, 0);

    // A dry run now predicts the rest, and writes nothing.
    let footprint_before = footprint(&t, org).await;
    let dry = import(&t.app.db, &ImportOptions { dry_run: true, ..options(&legacy, org) }, &mut Quiet).await.unwrap();
    assert_eq!(footprint(&t, org).await, footprint_before, "a dry run writes nothing");

    let third = run(StopAt("marketing_templates", 3)).await;
    assert!(third.interrupted);
    let fourth = run(StopAt("none", 0)).await;
    assert!(!fourth.interrupted);

    let runs = [&first, &second, &third, &fourth];
    let imported = |name: &str, runs: &[&ImportReport]| runs.iter().map(|r| table(r, name).imported).sum::<u64>();
    assert_eq!(imported("crawls", &runs), CRAWLS as u64 - 1);
    assert_eq!(imported("contents", &runs), UNIQUE as u64);
    assert_eq!(imported("marketing_templates", &runs), (TEMPLATES.len() + ODD_TEMPLATES) as u64 - 4);
    for name in ["contents", "marketing_templates"] {
        assert_eq!(table(&dry, name).imported, imported(name, &runs[2..]), "dry run predicts the rest of {name}");
    }
    assert_eq!(items(&t, org).await.len(), UNIQUE);
    assert_eq!(count(&t, org, "crawls").await, CRAWLS as i64 - 1);
    assert_eq!(
        count(&t, org, "marketing_templates").await,
        (templates::BUILTINS.len() + TEMPLATES.len() + ODD_TEMPLATES - 4) as i64
    );
    let failed = failed_ids([&fourth]);
    assert_accounted(&t, org, &legacy, &failed).await;
    assert_eq!(checksums(&legacy).await, before, "the legacy database must not change");
}

#[tokio::test]
async fn crawl_columns_some_installs_have_are_carried() {
    let legacy = TestDb::empty().await;
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/legacy-schema.sql")).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(schema)).execute(&legacy.pool).await.unwrap();
    sqlx::raw_sql(
        "ALTER TABLE crawls ADD COLUMN started_at timestamptz, ADD COLUMN error text, ADD COLUMN max_pages integer;
         INSERT INTO crawls (root_url, status, error, max_pages, created_at, started_at, finished_at) VALUES
           ('https://a.test/', 'failed', 'DNS lookup failed', 50, '2024-01-01T10:00:00Z', '2024-01-01T10:01:00Z', '2024-01-01T10:02:00Z'),
           ('https://b.test/', 'cancelled', NULL, 99999, '2024-01-02T10:00:00Z', NULL, '2024-01-02T10:02:00Z');",
    )
    .execute(&legacy.pool)
    .await
    .unwrap();
    let t = TestApp::spawn().await;
    let report = import(&t.app.db, &options(&legacy, "org_columns"), &mut Quiet).await.unwrap();
    let crawls = table(&report, "crawls");
    assert_eq!((crawls.imported, crawls.warnings.len()), (2, 1), "{:?}", crawls.warnings);
    assert!(crawls.warnings[0].message.contains("max_pages 99999"));

    let token = t.token("org_columns", "user_importer", Role::Admin);
    let listed = send(&t, "GET", "/api/crawls", &token, None).await.json();
    let listed = listed["items"].as_array().unwrap();
    let by_url = |url: &str| listed.iter().find(|c| c["url"] == url).unwrap().clone();
    let a = by_url("https://a.test/");
    assert_eq!(a["status"], "failed");
    assert!(a["status_reason"].as_str().unwrap().starts_with("DNS lookup failed; imported"), "{a}");
    assert_eq!(a["options"]["max_pages"], 50);
    assert_eq!(a["started_at"], "2024-01-01T10:01:00Z");
    let b = by_url("https://b.test/");
    assert_eq!((b["status"].as_str(), b["options"]["max_pages"].as_i64()), (Some("cancelled"), Some(10_000)));
    assert_eq!(b["finished_at"], "2024-01-02T10:02:00Z");
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
    assert_eq!(table(&report, "crawls").refused_by_limits, 0, "past crawls are never refused by the crawl limit");
    // Legacy chunks belong to contents 1–100: only those of the 50 imported items are rebuilt.
    assert_eq!(table(&report, "content_chunks").rebuilt, 50, "chunks of refused rows are not rebuilt");

    set_limit(1000).await;
    let report = import(&t.app.db, &options(&legacy, "org_small"), &mut Quiet).await.unwrap();
    assert_eq!(contents(&report).imported, (UNIQUE - 50) as u64);
    assert_eq!(table(&report, "content_chunks").rebuilt, 50, "the other 50 items' chunks, now imported");
    assert_eq!(items(&t, "org_small").await.len(), UNIQUE);
}
