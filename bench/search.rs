//! Search benchmark: an organization with 10,000 chunks (beside a second organization of the
//! same size) in pgvector; prints latency (p50, p99) of the HNSW query, the exact query and
//! the whole hybrid search (query embedding with the local model, vector + full text,
//! fusion), and the recall@10 of the HNSW index against exact search. Run by `bench/search`.

use std::time::{Duration, Instant};

use sqlx::Connection;
use uuid::Uuid;
use voiceforge::{
    auth::{Identity, Role},
    search::{self, Retrieval, SearchQuery},
    tenancy::Tenant,
    vector::{
        pgvector::{PgVectorStore, Strategy, search as vector_search},
        vector_literal,
    },
};

const CHUNKS: usize = 10_000;
const DIMS: usize = 384;
const QUERIES: usize = 200;

/// A small deterministic generator (xorshift), so runs compare.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    }
    fn unit(&mut self, around: Option<&[f32]>, spread: f32) -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIMS).map(|i| around.map_or(0.0, |c| c[i]) + spread * self.next()).collect();
        voiceforge::embed::normalize(&mut v);
        v
    }
}

fn identity(org: &str) -> Identity {
    Identity {
        user_id: "user_bench".into(),
        session_id: "sess".into(),
        org_id: org.into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: "bench".into(),
    }
}

/// Seeds `CHUNKS` chunks in 100 items with clustered vectors (topics), as real corpora are.
async fn seed(db: &voiceforge::db::Database, org: &str, rng: &mut Rng, centers: &[Vec<f32>]) {
    let words = ["install", "billing", "refund", "shipping", "account", "password", "export", "report", "team", "api"];
    let mut tenant = Tenant::begin(db, &identity(org)).await.unwrap();
    let org_id = tenant.org().id;
    for item in 0..100 {
        let content_id: Uuid = sqlx::query_scalar(
            "INSERT INTO contents (org_id, source, title, markdown, word_count, content_hash)
             VALUES ($1, 'manual', $2, '', 0, encode(sha256($2::bytea), 'hex')) RETURNING id",
        )
        .bind(org_id)
        .bind(format!("{org} item {item}"))
        .fetch_one(tenant.conn())
        .await
        .unwrap();
        let per = CHUNKS / 100;
        let texts: Vec<String> = (0..per)
            .map(|i| {
                format!("Chunk {i} of item {item} about {} and {}", words[(item + i) % 10], words[(item * 7 + i) % 10])
            })
            .collect();
        let vectors: Vec<String> = (0..per)
            .map(|_| {
                let center = &centers[(rng.next().abs() * centers.len() as f32) as usize % centers.len()];
                vector_literal(&rng.unit(Some(center), 0.08))
            })
            .collect();
        let positions: Vec<i32> = (0..per as i32).collect();
        sqlx::query(
            "WITH c AS (
                 INSERT INTO content_chunks (org_id, content_id, position, text, token_count, ts_config, embedding_state)
                 SELECT $1, $2, p, t, 12, 'english', 'embedded' FROM unnest($3::int[], $4::text[]) AS u(p, t)
                 RETURNING id, position)
             INSERT INTO chunk_embeddings (org_id, chunk_id, content_id, model, dimensions, embedding)
             SELECT $1, c.id, $2, 'all-MiniLM-L6-v2', 384, v.e::vector
               FROM c JOIN unnest($3::int[], $5::text[]) AS v(p, e) ON v.p = c.position",
        )
        .bind(org_id)
        .bind(content_id)
        .bind(&positions)
        .bind(&texts)
        .bind(&vectors)
        .execute(tenant.conn())
        .await
        .unwrap();
        // The lexical index, as the library builds it for every stored item.
        sqlx::query("SELECT vf_index_content($1, $2)")
            .bind(org_id)
            .bind(content_id)
            .execute(tenant.conn())
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO search_stats (org_id, chunks, tokens, embedded)
         SELECT org_id, count(*), sum(token_count), count(*) FROM content_chunks WHERE org_id = $1 GROUP BY org_id",
    )
    .bind(org_id)
    .execute(tenant.conn())
    .await
    .unwrap();
    tenant.commit().await.unwrap();
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn line(name: &str, samples: &mut [Duration]) -> (Duration, Duration) {
    let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
    println!("{name:<34} p50 {:>8.2} ms   p99 {:>8.2} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3);
    (p50, p99)
}

#[tokio::main]
async fn main() {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL (bench/search sets it from scripts/db)");
    let name = format!("vf_t_bench_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    voiceforge::db::migrate(url.as_str()).await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url.as_str()).await.unwrap();
    let db = voiceforge::db::Database::from_pool(pool);

    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let centers: Vec<Vec<f32>> = (0..200).map(|_| rng.unit(None, 1.0)).collect();
    let started = Instant::now();
    seed(&db, "org_bench", &mut rng, &centers).await;
    seed(&db, "org_neighbour", &mut rng, &centers).await;
    println!(
        "seeded 2 organizations x {CHUNKS} chunks ({DIMS} dimensions) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // What autovacuum does soon after a bulk load: give the planner statistics.
    let mut system = voiceforge::tenancy::System::begin(&db, "bench: analyze").await.unwrap();
    for table in ["contents", "content_chunks", "chunk_embeddings", "search_postings", "search_stats"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}"))).execute(system.conn()).await.unwrap();
    }
    system.commit().await.unwrap();
    // Warm-up, as a serving process would be.
    for _ in 0..5 {
        let mut tenant = Tenant::begin(&db, &identity("org_bench")).await.unwrap();
        vector_search(&mut tenant, &rng.unit(Some(&centers[1]), 0.08), 10, None, Strategy::Hnsw).await.unwrap();
        tenant.commit().await.unwrap();
    }

    let queries: Vec<Vec<f32>> = (0..QUERIES)
        .map(|i| {
            let center = centers[i % centers.len()].clone();
            rng.unit(Some(&center), 0.08)
        })
        .collect();
    let (mut hnsw_times, mut exact_times) = (Vec::new(), Vec::new());
    let (mut hits, mut total) = (0usize, 0usize);
    for q in &queries {
        let mut tenant = Tenant::begin(&db, &identity("org_bench")).await.unwrap();
        let t = Instant::now();
        let approx = vector_search(&mut tenant, q, 10, None, Strategy::Hnsw).await.unwrap();
        hnsw_times.push(t.elapsed());
        let t = Instant::now();
        let exact = vector_search(&mut tenant, q, 10, None, Strategy::Exact).await.unwrap();
        exact_times.push(t.elapsed());
        tenant.commit().await.unwrap();
        total += exact.len();
        hits += exact.iter().filter(|e| approx.iter().any(|a| a.chunk_id == e.chunk_id)).count();
    }
    println!("\nvector query, k = 10, {QUERIES} queries:");
    let (hnsw_p50, _) = line("  HNSW (ef_search 64)", &mut hnsw_times);
    let (exact_p50, _) = line("  exact (baseline)", &mut exact_times);
    println!("  HNSW speed-up over exact at p50: {:.1}x", exact_p50.as_secs_f64() / hnsw_p50.as_secs_f64());
    println!("  HNSW recall@10 against exact: {:.3}", hits as f64 / total as f64);

    let model_dir = std::env::var_os("VOICEFORGE_MODEL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(".voiceforge/models/all-MiniLM-L6-v2"));
    let local = voiceforge::embed::local::LocalEmbedder::new(model_dir);
    let retrieval = Retrieval::new(
        Some(std::sync::Arc::new(local)),
        std::sync::Arc::new(PgVectorStore::new().with_model("all-MiniLM-L6-v2")),
    );
    retrieval.ensure_compatible(&db).await.expect("local model (run scripts/model)");
    let questions =
        ["how do I get my money back", "reset a forgotten password", "export a billing report", "invite my team"];
    let mut hybrid_times = Vec::new();
    for i in 0..60 {
        let q = SearchQuery::new(questions[i % questions.len()], 10);
        let mut tenant = Tenant::begin(&db, &identity("org_bench")).await.unwrap();
        let t = Instant::now();
        let found = search::search(&mut tenant, &retrieval, &db, &q).await.unwrap();
        hybrid_times.push(t.elapsed());
        tenant.commit().await.unwrap();
        assert_eq!(found.mode, "hybrid");
    }
    println!("\nwhole hybrid search (embed query + vector + full text + fusion), 60 searches:");
    let (hybrid_p50, _) = line("  POST /api/search domain call", &mut hybrid_times);
    // The same queries' embeddings alone, through the same embedder: the share of the search
    // spent before any SQL runs.
    let embedder = retrieval.embedder().expect("local embedder");
    let mut embed_times = Vec::new();
    for i in 0..60 {
        let texts = [questions[i % questions.len()].to_owned()];
        let t = Instant::now();
        embedder.embed(&texts, voiceforge::embed::InputKind::Query).await.unwrap();
        embed_times.push(t.elapsed());
    }
    let (embed_p50, _) = line("  query embedding alone", &mut embed_times);
    println!(
        "  query embedding share of the search at p50: {:.0} %",
        100.0 * embed_p50.as_secs_f64() / hybrid_p50.as_secs_f64()
    );
    // The two SQL rankings alone, with the search's candidate count (60), for the same queries.
    let texts: Vec<String> = questions.iter().map(|q| (*q).to_owned()).collect();
    let vectors = embedder.embed(&texts, voiceforge::embed::InputKind::Query).await.unwrap().vectors;
    let (mut text_times, mut vector_times) = (Vec::new(), Vec::new());
    for i in 0..60 {
        let (question, vector) = (questions[i % questions.len()], &vectors[i % questions.len()]);
        let mut tenant = Tenant::begin(&db, &identity("org_bench")).await.unwrap();
        let t = Instant::now();
        search::lexical::search(&mut tenant, question, 60, None).await.unwrap();
        text_times.push(t.elapsed());
        let t = Instant::now();
        vector_search(&mut tenant, vector, 60, None, Strategy::Hnsw).await.unwrap();
        vector_times.push(t.elapsed());
        tenant.commit().await.unwrap();
    }
    line("  BM25 ranking alone (60)", &mut text_times);
    line("  HNSW vector query alone (60)", &mut vector_times);

    drop(db);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap();
}
