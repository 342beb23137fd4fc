//! Ingest benchmark: pages of Debian's python3-doc (main content already extracted to
//! markdown, as the crawler hands them over) through the library's own path: `content::store`
//! (chunking, chunk rows, outbox rows, one tenant transaction per page, as a crawl stores
//! them), then `drain_outbox` (local all-MiniLM-L6-v2 embedding, pgvector upsert, outbox
//! bookkeeping) until the outbox is empty. The embedder and the vector store are wrapped in
//! timers, so each stage's share comes from the same run; chunking alone is timed on the same
//! pages beforehand. Baseline: the embedding of the same chunks alone, the ceiling of any
//! ingest that embeds locally. Prints pages/s, chunks/s, stage shares and peak memory
//! (VmHWM). Run by `bench/ingest`.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::Connection;
use uuid::Uuid;
use voiceforge::{
    auth::{Identity, Role},
    content::{self, DrainBudget, NewContent, Source, chunking},
    db::Database,
    embed::{BoxFuture, EmbedError, Embedder, Embeddings, InputKind, local::LocalEmbedder},
    search::Retrieval,
    tenancy::Tenant,
    vector::{VectorError, VectorMatch, VectorRecord, VectorStore, pgvector::PgVectorStore},
};

/// Nanoseconds spent inside a wrapped call.
#[derive(Default)]
struct Timer(AtomicU64);

impl Timer {
    fn add(&self, d: Duration) {
        self.0.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
    fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// The local embedder, timed.
struct TimedEmbedder {
    inner: LocalEmbedder,
    timer: Arc<Timer>,
}

impl Embedder for TimedEmbedder {
    fn model(&self) -> &str {
        self.inner.model()
    }
    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }
    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }
    fn ready(&self) -> Result<(), EmbedError> {
        self.inner.ready()
    }
    fn embed<'a>(&'a self, texts: &'a [String], kind: InputKind) -> BoxFuture<'a, Result<Embeddings, EmbedError>> {
        Box::pin(async move {
            let t = Instant::now();
            let out = self.inner.embed(texts, kind).await;
            self.timer.add(t.elapsed());
            out
        })
    }
}

/// The pgvector store, its upserts timed.
struct TimedStore {
    inner: PgVectorStore,
    timer: Arc<Timer>,
}

impl VectorStore for TimedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn upsert<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        records: &'a [VectorRecord],
    ) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            let t = Instant::now();
            let out = self.inner.upsert(tenant, records).await;
            self.timer.add(t.elapsed());
            out
        })
    }
    fn query<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        vector: &'a [f32],
        k: usize,
        content_ids: Option<&'a [Uuid]>,
    ) -> BoxFuture<'a, Result<Vec<VectorMatch>, VectorError>> {
        self.inner.query(tenant, vector, k, content_ids)
    }
    fn delete<'a>(&'a self, tenant: &'a mut Tenant, chunk_ids: &'a [Uuid]) -> BoxFuture<'a, Result<(), VectorError>> {
        self.inner.delete(tenant, chunk_ids)
    }
    fn delete_namespace<'a>(&'a self, db: &'a Database, org_id: Uuid) -> BoxFuture<'a, Result<(), VectorError>> {
        self.inner.delete_namespace(db, org_id)
    }
}

/// The first `n` HTML pages of the site (sorted, so runs compare), without Sphinx's
/// `_sources`, `_static` and the like.
fn pages(site: &Path, n: usize) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('_') {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "html") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(site, &mut out);
    out.sort();
    out.truncate(n);
    out
}

/// Peak resident memory of this process (kernel's high-water mark), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL (bench/ingest sets it from scripts/db)");
    let site = PathBuf::from(std::env::var("SITE_DIR").unwrap_or_else(|_| "/usr/share/doc/python3/html".into()));
    let n: usize = std::env::var("INGEST_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // Local embedding runs at a few chunks per second on a 2-core CPU (a 256-piece chunk is
    // ~5 GFLOP), so the run takes pages in order until this many chunks, not a page count.
    let max_chunks: usize = std::env::var("INGEST_CHUNKS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let model_dir = std::env::var_os("VOICEFORGE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".voiceforge/models/all-MiniLM-L6-v2"));

    let name = format!("vf_t_ingest_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    voiceforge::db::migrate(url.as_str()).await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url.as_str()).await.unwrap();
    let db = Database::from_pool(pool);

    // The crawler's output: main content as markdown (not part of the measured pipeline).
    let files = pages(&site, n);
    assert!(!files.is_empty(), "no HTML pages under {} (apt-get install python3-doc)", site.display());
    let started = Instant::now();
    let extracted: Vec<voiceforge::crawl::ExtractedPage> = files
        .iter()
        .filter_map(|f| {
            let html = std::fs::read_to_string(f).unwrap_or_default();
            let rel = f.strip_prefix(&site).unwrap().to_string_lossy().into_owned();
            let page_url = url::Url::parse(&format!("https://docs.example/{rel}")).unwrap();
            voiceforge::crawl::extract::extract(&html, &page_url).ok()
        })
        .collect();
    let extract_time = started.elapsed();
    let mut taken = 0;
    let extracted: Vec<_> = extracted
        .into_iter()
        .take_while(|p| {
            taken += chunking::chunk(&p.markdown).len();
            taken <= max_chunks
        })
        .collect();
    let markdown_bytes: usize = extracted.iter().map(|p| p.markdown.len()).sum();

    // Chunking alone, on the same pages (the store below chunks them again, as it must).
    let t = Instant::now();
    let chunk_count: usize = extracted.iter().map(|p| chunking::chunk(&p.markdown).len()).sum();
    let chunk_time = t.elapsed();

    let embed_timer = Arc::new(Timer::default());
    let upsert_timer = Arc::new(Timer::default());
    let model_dir_for_raw = model_dir.clone();
    let embedder = TimedEmbedder { inner: LocalEmbedder::new(model_dir), timer: embed_timer.clone() };
    let t = Instant::now();
    embedder.ready().expect("local model (run scripts/model)");
    let model_load = t.elapsed();
    let retrieval = Retrieval::new(
        Some(Arc::new(embedder)),
        Arc::new(TimedStore {
            inner: PgVectorStore::new().with_model("all-MiniLM-L6-v2"),
            timer: upsert_timer.clone(),
        }),
    );
    retrieval.ensure_compatible(&db).await.unwrap();

    let identity = Identity {
        user_id: "user_ingest".into(),
        session_id: "sess".into(),
        org_id: "org_ingest".into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: "bench".into(),
    };
    // Store: one tenant transaction per page, as the crawler stores pages.
    let pipeline = Instant::now();
    let mut stored = 0;
    for page in &extracted {
        let mut tenant = Tenant::begin(&db, &identity).await.unwrap();
        let new = NewContent {
            source: Source::Manual,
            crawl_id: None,
            url: Some(page.canonical_url.to_string()),
            title: page.title.clone(),
            description: page.description.clone(),
            language: page.language.clone(),
            markdown: page.markdown.clone(),
        };
        match content::store(&mut tenant, new).await {
            Ok(content::Stored::Created(_)) => stored += 1,
            Ok(_) => {}
            Err(e) => panic!("storing {}: {e}", page.canonical_url),
        }
        tenant.commit().await.unwrap();
    }
    let store_time = pipeline.elapsed();

    // Drain: what `voiceforge serve`'s loop and the cron do, until nothing is left.
    let t = Instant::now();
    let budget = DrainBudget { max_orgs: 50, batch: 64, time: Duration::from_secs(600), ..DrainBudget::default() };
    let (mut upserted, mut failed) = (0, 0);
    loop {
        let report = content::drain_outbox(&db, &retrieval, budget).await.unwrap();
        upserted += report.upserted;
        failed += report.failed;
        if report.upserted == 0 && report.deleted == 0 {
            break;
        }
    }
    let drain_time = t.elapsed();
    let total = pipeline.elapsed();
    let (embed_time, upsert_time) = (embed_timer.get(), upsert_timer.get());
    assert_eq!(failed, 0, "outbox rows failed");

    let pct = |d: Duration| 100.0 * secs(d) / secs(total);
    let store_db = store_time.saturating_sub(chunk_time);
    let outbox_rest = drain_time.saturating_sub(embed_time + upsert_time);
    println!(
        "{} pages ({stored} stored, {:.1} MB of markdown; extracting the candidates took {:.2} s, not counted), {chunk_count} chunks, {upserted} vectors; model loaded in {:.2} s",
        extracted.len(),
        markdown_bytes as f64 / 1e6,
        secs(extract_time),
        secs(model_load),
    );
    println!("\nstage                                 seconds   share");
    println!("  chunking (markdown splitter, cl100k) {:>8.2} {:>6.1} %", secs(chunk_time), pct(chunk_time));
    println!("  chunk + outbox rows (store)          {:>8.2} {:>6.1} %", secs(store_db), pct(store_db));
    println!("  embedding (all-MiniLM-L6-v2, CPU)    {:>8.2} {:>6.1} %", secs(embed_time), pct(embed_time));
    println!("  vector upsert (pgvector)             {:>8.2} {:>6.1} %", secs(upsert_time), pct(upsert_time));
    println!("  outbox claim/complete, usage         {:>8.2} {:>6.1} %", secs(outbox_rest), pct(outbox_rest));
    println!("  total                                {:>8.2}", secs(total));
    let pages_per_s = extracted.len() as f64 / secs(total);
    let ceiling = extracted.len() as f64 / secs(embed_time);
    println!("\ningest: {pages_per_s:.2} pages/s, {:.1} chunks/s", chunk_count as f64 / secs(total));
    println!(
        "baseline, embedding the same chunks alone: {ceiling:.2} pages/s, {:.1} chunks/s",
        chunk_count as f64 / secs(embed_time)
    );
    println!("ratio (ingest / embedding alone): {:.2}", pages_per_s / ceiling);
    println!("peak memory (VmHWM, model included): {:.0} MiB", peak_rss_mib());

    // The raw model on the same texts the drain embedded (title, heading path, plain text):
    // one call per batch of 32 in stored order, as a plain loop over the model would run it.
    // And the text as it was embedded before (heading and raw markdown), for the tokens saved.
    let mut tenant = Tenant::begin(&db, &identity).await.unwrap();
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT i.title, c.heading, c.text FROM content_chunks c JOIN contents i ON i.id = c.content_id
          ORDER BY c.content_id, c.position",
    )
    .fetch_all(tenant.conn())
    .await
    .unwrap();
    tenant.commit().await.unwrap();
    let prepared: Vec<String> = rows
        .iter()
        .map(|(title, heading, text)| content::outbox::embedding_text(title, heading.as_deref(), text))
        .collect();
    let raw_markdown: Vec<String> = rows
        .iter()
        .map(|(_, heading, text)| {
            format!("{}{text}", heading.as_deref().map(|h| format!("{h}\n\n")).unwrap_or_default())
        })
        .collect();
    let model = voiceforge::embed::local::shared_model(&model_dir_for_raw).unwrap();
    let time_raw = |texts: &[String]| {
        let t = Instant::now();
        let mut pieces = 0;
        for batch in texts.chunks(32) {
            pieces += model.embed(batch).unwrap().tokens;
        }
        (t.elapsed(), pieces)
    };
    let (raw_time, raw_pieces) = time_raw(&prepared);
    let (old_time, old_pieces) = time_raw(&raw_markdown);
    let drain_rate = upserted as f64 / secs(drain_time);
    let raw_rate = prepared.len() as f64 / secs(raw_time);
    println!("\nthe outbox drain against the raw model on the same {} texts:", prepared.len());
    println!(
        "  drain (claim, embed on {} cores, upsert, complete)  {drain_rate:>8.1} chunks/s",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("  raw model, batches of 32 in order               {raw_rate:>8.1} chunks/s  ({raw_pieces} word pieces)");
    println!("  ratio (drain / raw model): {:.2}", drain_rate / raw_rate);
    println!(
        "  before: heading + raw markdown                  {:>8.1} chunks/s  ({old_pieces} word pieces); the drain is {:.2}x that",
        raw_markdown.len() as f64 / secs(old_time),
        drain_rate / (raw_markdown.len() as f64 / secs(old_time))
    );

    drop(retrieval);
    drop(db);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap();
}
