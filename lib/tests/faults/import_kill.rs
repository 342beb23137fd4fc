//! `voiceforge import-legacy` killed (SIGKILL) twice mid-import and run again: each legacy
//! row lands once, chunks and their vector work are queued once, and the legacy database is
//! never written.

use std::time::Duration;

use crate::{
    harness::TestDb,
    support::{eventually, import_legacy, system_count},
};

/// Distinct legacy pages, and copies of the first few under other URLs.
const UNIQUE: i64 = 400;
const COPIES: i64 = 20;
const ORG: &str = "org_imported";

/// A legacy install from docs/legacy-schema.sql.
async fn legacy_db() -> TestDb {
    let db = TestDb::empty().await;
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/legacy-schema.sql")).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(schema)).execute(&db.pool).await.unwrap();
    let body = "'# Page ' || i || E'\\n\\nOur brand helps teams ship faster. Fact number ' || i || ' about us.'";
    let sql = format!(
        "INSERT INTO contents (url, title, body)
         SELECT 'https://brand.test/p/' || i, 'Page ' || i, {body} FROM generate_series(0, {}) AS i",
        UNIQUE - 1
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&db.pool).await.unwrap();
    let sql = format!(
        "INSERT INTO contents (url, title, body)
         SELECT 'https://brand.test/copy/' || i, 'Copy', {body} FROM generate_series(0, {}) AS i",
        COPIES - 1
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&db.pool).await.unwrap();
    db
}

async fn checksum(legacy: &TestDb) -> String {
    sqlx::query_scalar("SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM contents t")
        .fetch_one(&legacy.pool)
        .await
        .unwrap()
}

async fn imported(target: &TestDb) -> i64 {
    system_count(&target.pool, "SELECT count(*) FROM contents").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_import_legacy_midway_twice_resumes_to_each_row_once() {
    let legacy = legacy_db().await;
    let before = checksum(&legacy).await;
    let target = TestDb::new().await;
    let args = ["--from", &legacy.url, "--org", ORG, "--created-by", "user_importer"];
    let total = UNIQUE + COPIES;

    // Killed once its progress passes 100 rows, then again past 200 rows of the second run
    // (which counts the first run's rows as already imported).
    let mut landed = 0;
    for rows in [100, 200] {
        let mut run = import_legacy(&target.url, &args);
        let line = format!("contents: {rows}/{total}");
        eventually(Duration::from_secs(60), &line, || {
            let (out, line) = (run.output(), line.clone());
            async move { out.iter().any(|l| l.starts_with(&line)).then_some(()) }
        })
        .await;
        run.kill().await;
        let now = imported(&target).await;
        assert!(now > landed && now < UNIQUE, "killed mid-import: {now} items after the kill at {rows}");
        landed = now;
    }

    let mut last = import_legacy(&target.url, &args);
    assert!(last.wait(Duration::from_secs(90)).await, "{}", last.output().join("\n"));
    assert!(last.output().iter().any(|l| l == "Import finished."), "{}", last.output().join("\n"));

    // Each legacy row is mapped once; each unique page is one item; copies point at them.
    let count = |sql: &'static str| system_count(&target.pool, sql);
    assert_eq!(imported(&target).await, UNIQUE);
    assert_eq!(count("SELECT count(DISTINCT content_hash) FROM contents").await, UNIQUE);
    assert_eq!(count("SELECT count(DISTINCT url) FROM contents").await, UNIQUE);
    assert_eq!(count("SELECT count(*) FROM legacy_import_map").await, total);
    assert_eq!(count("SELECT count(DISTINCT legacy_id) FROM legacy_import_map").await, total);
    assert_eq!(count("SELECT count(*) FROM legacy_import_map WHERE outcome = 'duplicate'").await, COPIES);
    // Chunks were made once per item and each queued for embedding exactly once.
    let chunks = count("SELECT count(*) FROM content_chunks").await;
    assert!(chunks >= UNIQUE, "{chunks} chunks");
    assert_eq!(
        count("SELECT count(*) FROM (SELECT DISTINCT content_id, position FROM content_chunks) c").await,
        chunks
    );
    assert_eq!(count("SELECT count(*) FROM contents c WHERE NOT EXISTS (SELECT 1 FROM content_chunks k WHERE k.content_id = c.id)").await, 0);
    assert_eq!(count("SELECT count(*) FROM vector_outbox WHERE op = 'upsert'").await, chunks);
    assert_eq!(count("SELECT count(DISTINCT chunk_id) FROM vector_outbox").await, chunks);
    assert_eq!(count("SELECT count(*) FROM vector_outbox WHERE op = 'delete'").await, 0, "no chunk was made twice");
    // The library's item counter agrees with the rows (no slot taken by a killed transaction).
    let counter =
        count("SELECT coalesce(sum(value), 0)::bigint FROM usage_counters WHERE metric = 'content_items'").await;
    assert_eq!(counter, UNIQUE, "content item counter");

    // A further run adds nothing; the legacy database never changed.
    let mut again = import_legacy(&target.url, &args);
    assert!(again.wait(Duration::from_secs(60)).await, "{}", again.output().join("\n"));
    assert_eq!(imported(&target).await, UNIQUE);
    assert_eq!(count("SELECT count(*) FROM legacy_import_map").await, total);
    assert_eq!(checksum(&legacy).await, before, "the legacy database must not change");
}
