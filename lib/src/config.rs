//! Typed settings, read once from the environment.
//!
//! Every variable is listed in the README. Defaults make `voiceforge serve` work offline;
//! secrets are held in [`Secret`] so they never reach a log line or an error body.

use std::{fmt, path::PathBuf, time::Duration};

use anyhow::{Context, bail};

/// A value that must not be printed: `Debug` shows only whether it is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "Secret(<empty>)" } else { "Secret(<redacted>)" })
    }
}

/// The Clerk instance whose session tokens the API accepts.
#[derive(Clone, Debug)]
pub struct ClerkSettings {
    /// `iss` of the instance's tokens (its Frontend API URL).
    pub issuer: String,
    /// JWKS endpoint; defaults to `<issuer>/.well-known/jwks.json`.
    pub jwks_url: String,
    /// PEM public key for networkless verification (`CLERK_JWT_KEY`); wins over the JWKS.
    pub jwt_key: Option<Secret>,
    /// Allowed `azp` values; empty means any.
    pub authorized_parties: Vec<String>,
    /// Backend API secret, sent when the JWKS URL is Clerk's Backend API.
    pub secret_key: Option<Secret>,
}

/// Which service turns text into vectors (`EMBEDDING_PROVIDER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingProvider {
    /// all-MiniLM-L6-v2 in-process (the default when built with `local-embeddings`).
    Local,
    /// An OpenAI-compatible `/v1/embeddings` server.
    OpenAi,
    /// Pinecone Inference (`llama-text-embed-v2`).
    Pinecone,
    /// No embeddings: search is full-text only (the default without `local-embeddings`).
    None,
}

/// Embedding settings.
#[derive(Clone, Debug)]
pub struct EmbeddingSettings {
    /// The provider.
    pub provider: EmbeddingProvider,
    /// Model name (`EMBEDDING_MODEL`); each provider has a default.
    pub model: Option<String>,
    /// Vector length to request (`EMBEDDING_DIMENSIONS`); each provider has a default.
    pub dimensions: Option<usize>,
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<Secret>,
    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`).
    pub openai_base_url: String,
    /// Folder of the local model (`VOICEFORGE_MODEL_DIR`, default
    /// `<data dir>/models/all-MiniLM-L6-v2`).
    pub model_dir: PathBuf,
    /// Whether `EMBEDDING_PROVIDER` was set: a function without it searches full-text only,
    /// which it says once in its logs.
    pub provider_set: bool,
}

/// Where vectors live (`VECTOR_STORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorStoreKind {
    /// pgvector in the application database (default).
    Pgvector,
    /// A Pinecone serverless index.
    Pinecone,
}

/// Pinecone settings (vector store and inference).
#[derive(Clone, Debug)]
pub struct PineconeSettings {
    /// `PINECONE_API_KEY`.
    pub api_key: Option<Secret>,
    /// Data-plane host of the index (`PINECONE_INDEX_HOST`, `https://…pinecone.io`).
    pub index_host: Option<String>,
    /// Control plane and inference (`PINECONE_API_URL`, default `https://api.pinecone.io`).
    pub api_url: String,
    /// Pinned `X-Pinecone-Api-Version` (`PINECONE_API_VERSION`, default `2025-10`).
    pub api_version: String,
}

/// Everything VoiceForge reads from its environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Pooled database URL used by requests (`DATABASE_URL`).
    pub database_url: Secret,
    /// Direct URL for migrations (`DATABASE_URL_UNPOOLED`, else `DATABASE_URL`).
    pub database_url_unpooled: Secret,
    /// Connections per process; small because each serverless instance has its own pool.
    pub database_max_connections: u32,
    /// Disable sqlx's statement cache for transaction-mode poolers (`DATABASE_STATEMENT_CACHE=0`).
    pub database_statement_cache: usize,
    /// How long a request waits for a pooled connection before answering 503.
    pub database_acquire_timeout: Duration,
    /// The production Clerk instance, when configured.
    pub clerk: Option<ClerkSettings>,
    /// Origins allowed by CORS (`CORS_ALLOWED_ORIGINS`, comma-separated); empty: same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body accepted, in bytes (`MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Folder for local state: dev issuer key, models (`VOICEFORGE_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Shared secret of Vercel cron calls (`CRON_SECRET`).
    pub cron_secret: Option<Secret>,
    /// The embedding provider and model.
    pub embedding: EmbeddingSettings,
    /// The vector store.
    pub vector_store: VectorStoreKind,
    /// How long a drain's claimed outbox rows stay hidden from other drains
    /// (`VECTOR_OUTBOX_LEASE_SECONDS`, default 300): a killed drain's rows return after it.
    pub vector_outbox_lease: Duration,
    /// Drain the vector outbox inside `voiceforge serve` (`VECTOR_OUTBOX_WORKER`, default on);
    /// off when another process drains it, or to time crawling without embedding.
    pub vector_outbox_worker: bool,
    /// Pinecone access.
    pub pinecone: PineconeSettings,
    /// Svix signing secret of the Clerk webhook endpoint (`CLERK_WEBHOOK_SIGNING_SECRET`, `whsec_…`).
    pub clerk_webhook_signing_secret: Option<Secret>,
    /// Bearer token of the deployment's operators (`VOICEFORGE_ADMIN_TOKEN`), e.g. to change limits.
    pub admin_token: Option<Secret>,
    /// Rate-limit budgets per route class (`RATE_LIMIT_*`).
    pub rate_limits: crate::ratelimit::RateLimits,
    /// The website crawler (`CRAWL_*`).
    pub crawl: CrawlSettings,
    /// The LLM provider for generation; `None` uses the offline extractive composer.
    pub llm: Option<LlmSettings>,
}

/// How the website crawler fetches and how long its invocations run.
#[derive(Clone, Debug)]
pub struct CrawlSettings {
    /// Let crawls reach loopback and private networks (`CRAWL_ALLOW_PRIVATE_NETWORKS`, default
    /// off; local development and tests turn it on).
    pub allow_private_networks: bool,
    /// Largest decompressed page read (`CRAWL_MAX_PAGE_BYTES`, default 5 MB).
    pub max_page_bytes: usize,
    /// Per-request timeout (`CRAWL_REQUEST_TIMEOUT_MS`, default 15 s).
    pub request_timeout: Duration,
    /// Concurrent requests per host (`CRAWL_CONCURRENCY`, default 4).
    pub concurrency: usize,
    /// Least delay between requests to one host (`CRAWL_MIN_DELAY_MS`, default 100);
    /// a larger robots.txt `Crawl-delay` wins.
    pub min_delay: Duration,
    /// How long one invocation (a crawl's start request, a cron call) may work, every claimed
    /// batch and the outbox drain included: `CRAWL_INVOCATION_SECONDS` (default 240), at most
    /// [`FUNCTION_MAX_DURATION`] less [`deadline_margin`].
    pub invocation_budget: Duration,
    /// How long a claimed page stays leased to a worker (`CRAWL_LEASE_SECONDS`, default 120).
    pub lease: Duration,
    /// `User-Agent` of the crawler (`CRAWL_USER_AGENT`).
    pub user_agent: String,
    /// Run the advancing loop inside `voiceforge serve` (`CRAWL_WORKER`, default on).
    pub local_worker: bool,
}

/// Which hosted LLM API generation calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LlmKind {
    /// OpenAI-compatible chat completions (`OPENAI_*`).
    OpenAi,
    /// Anthropic Messages (`ANTHROPIC_*`).
    Anthropic,
}

/// A hosted LLM provider and how to call it.
#[derive(Clone, Debug)]
pub struct LlmSettings {
    /// Which API.
    pub kind: LlmKind,
    /// Base URL (`OPENAI_BASE_URL`, default `https://api.openai.com/v1`; `ANTHROPIC_BASE_URL`,
    /// default `https://api.anthropic.com`).
    pub base_url: String,
    /// API key.
    pub api_key: Secret,
    /// Model name (`OPENAI_MODEL` / `ANTHROPIC_MODEL`).
    pub model: String,
    /// Whole-request timeout of a non-streaming call (`LLM_TIMEOUT_MS`, default 60 s).
    pub timeout: Duration,
    /// Whole-request timeout of a streaming call (`LLM_STREAM_TIMEOUT_MS`, default 300 s).
    pub stream_timeout: Duration,
    /// Retries after a 429, 5xx or connection failure (`LLM_MAX_RETRIES`, default 2).
    pub max_retries: u32,
    /// First backoff, doubled per retry (`LLM_RETRY_BASE_MS`, default 500).
    pub retry_base: Duration,
    /// Output tokens asked for at most (`LLM_MAX_OUTPUT_TOKENS`, default 2048).
    pub max_output_tokens: u32,
}

impl Settings {
    /// Settings that work but leave a risk open, each said once at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.clerk.as_ref().is_some_and(|c| c.authorized_parties.is_empty()) {
            out.push(
                "CLERK_AUTHORIZED_PARTIES is not set: session tokens minted for any origin of this Clerk instance \
                 are accepted; set it to the frontend's origins (see docs/DEPLOY.md)"
                    .to_owned(),
            );
        }
        out
    }

    /// Reads settings from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let database_url =
            get("DATABASE_URL").context("DATABASE_URL is not set (scripts/db prints one for a local database)")?;
        let database_url_unpooled = get("DATABASE_URL_UNPOOLED").unwrap_or_else(|| database_url.clone());
        let parse_num = |name: &str, default: u64| -> anyhow::Result<u64> {
            match get(name) {
                None => Ok(default),
                Some(v) => v.parse().with_context(|| format!("{name} must be a whole number, got {v:?}")),
            }
        };
        let clerk = match get("CLERK_ISSUER") {
            None => {
                if get("CLERK_JWT_KEY").is_some() || get("CLERK_JWKS_URL").is_some() {
                    bail!("CLERK_JWT_KEY or CLERK_JWKS_URL is set but CLERK_ISSUER is not");
                }
                None
            }
            Some(issuer) => {
                let issuer = issuer.trim_end_matches('/').to_owned();
                url::Url::parse(&issuer).with_context(|| format!("CLERK_ISSUER is not a URL: {issuer:?}"))?;
                let jwks_url = get("CLERK_JWKS_URL").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
                url::Url::parse(&jwks_url).with_context(|| format!("CLERK_JWKS_URL is not a URL: {jwks_url:?}"))?;
                Some(ClerkSettings {
                    issuer,
                    jwks_url,
                    // Vercel's UI often stores PEMs with literal "\n" sequences.
                    jwt_key: get("CLERK_JWT_KEY").map(|k| Secret::new(k.replace("\\n", "\n"))),
                    authorized_parties: split_list(get("CLERK_AUTHORIZED_PARTIES")),
                    secret_key: get("CLERK_SECRET_KEY").map(Secret::new),
                })
            }
        };
        let data_dir = data_dir_from(get("VOICEFORGE_DATA_DIR"));
        let provider = match get("EMBEDDING_PROVIDER").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None if cfg!(feature = "local-embeddings") => EmbeddingProvider::Local,
            None => EmbeddingProvider::None,
            Some("local") => EmbeddingProvider::Local,
            Some("openai") => EmbeddingProvider::OpenAi,
            Some("pinecone") => EmbeddingProvider::Pinecone,
            Some("none") => EmbeddingProvider::None,
            Some(other) => bail!("EMBEDDING_PROVIDER must be local, openai, pinecone or none, got {other:?}"),
        };
        let embedding = EmbeddingSettings {
            provider,
            provider_set: get("EMBEDDING_PROVIDER").is_some(),
            model: get("EMBEDDING_MODEL"),
            dimensions: match get("EMBEDDING_DIMENSIONS") {
                None => None,
                Some(v) => Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|d| (1..=4096).contains(d))
                        .with_context(|| format!("EMBEDDING_DIMENSIONS must be 1 to 4096, got {v:?}"))?,
                ),
            },
            openai_api_key: get("OPENAI_API_KEY").map(Secret::new),
            openai_base_url: get("OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
            model_dir: get("VOICEFORGE_MODEL_DIR")
                .map_or_else(|| data_dir.join("models").join("all-MiniLM-L6-v2"), PathBuf::from),
        };
        let vector_store = match get("VECTOR_STORE").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("pgvector") => VectorStoreKind::Pgvector,
            Some("pinecone") => VectorStoreKind::Pinecone,
            Some(other) => bail!("VECTOR_STORE must be pgvector or pinecone, got {other:?}"),
        };
        let pinecone = PineconeSettings {
            api_key: get("PINECONE_API_KEY").map(Secret::new),
            index_host: get("PINECONE_INDEX_HOST").map(|h| {
                let h = h.trim_end_matches('/');
                if h.contains("://") { h.to_owned() } else { format!("https://{h}") }
            }),
            api_url: get("PINECONE_API_URL").unwrap_or_else(|| "https://api.pinecone.io".into()),
            api_version: get("PINECONE_API_VERSION").unwrap_or_else(|| "2025-10".into()),
        };
        if vector_store == VectorStoreKind::Pinecone && (pinecone.api_key.is_none() || pinecone.index_host.is_none()) {
            bail!("VECTOR_STORE=pinecone needs PINECONE_API_KEY and PINECONE_INDEX_HOST");
        }
        let statement_cache = parse_num("DATABASE_STATEMENT_CACHE", default_statement_cache(&database_url))? as usize;
        Ok(Self {
            database_url: Secret::new(database_url),
            database_url_unpooled: Secret::new(database_url_unpooled),
            database_max_connections: parse_num("DATABASE_MAX_CONNECTIONS", 5)?.clamp(1, 100) as u32,
            database_statement_cache: statement_cache,
            database_acquire_timeout: Duration::from_millis(parse_num("DATABASE_ACQUIRE_TIMEOUT_MS", 5_000)?),
            clerk,
            cors_allowed_origins: cors_origins(get("CORS_ALLOWED_ORIGINS"))?,
            max_body_bytes: parse_num("MAX_BODY_BYTES", 1024 * 1024)? as usize,
            data_dir,
            cron_secret: shared_secret(get("CRON_SECRET"), "CRON_SECRET")?,
            embedding,
            vector_store,
            vector_outbox_lease: Duration::from_secs(parse_num("VECTOR_OUTBOX_LEASE_SECONDS", 300)?.clamp(1, 3600)),
            vector_outbox_worker: parse_bool(get("VECTOR_OUTBOX_WORKER"), "VECTOR_OUTBOX_WORKER", true)?,
            pinecone,
            clerk_webhook_signing_secret: get("CLERK_WEBHOOK_SIGNING_SECRET").map(Secret::new),
            admin_token: shared_secret(get("VOICEFORGE_ADMIN_TOKEN"), "VOICEFORGE_ADMIN_TOKEN")?,
            rate_limits: crate::ratelimit::RateLimits::from_lookup(get)?,
            crawl: CrawlSettings {
                allow_private_networks: parse_bool(
                    get("CRAWL_ALLOW_PRIVATE_NETWORKS"),
                    "CRAWL_ALLOW_PRIVATE_NETWORKS",
                    false,
                )?,
                max_page_bytes: parse_num("CRAWL_MAX_PAGE_BYTES", 5 * 1024 * 1024)?.clamp(1024, 50 * 1024 * 1024)
                    as usize,
                request_timeout: Duration::from_millis(
                    parse_num("CRAWL_REQUEST_TIMEOUT_MS", 15_000)?.clamp(100, 120_000),
                ),
                concurrency: parse_num("CRAWL_CONCURRENCY", 4)?.clamp(1, 32) as usize,
                min_delay: Duration::from_millis(parse_num("CRAWL_MIN_DELAY_MS", 100)?.min(60_000)),
                invocation_budget: Duration::from_secs(parse_num("CRAWL_INVOCATION_SECONDS", 240)?.clamp(1, 3600))
                    .min(FUNCTION_MAX_DURATION - deadline_margin(FUNCTION_MAX_DURATION)),
                lease: Duration::from_secs(parse_num("CRAWL_LEASE_SECONDS", 120)?.clamp(1, 3600)),
                user_agent: get("CRAWL_USER_AGENT").unwrap_or_else(|| {
                    concat!("Mozilla/5.0 (compatible; VoiceForgeBot/", env!("CARGO_PKG_VERSION"), ")").to_owned()
                }),
                local_worker: parse_bool(get("CRAWL_WORKER"), "CRAWL_WORKER", true)?,
            },
            llm: llm_from(&get, &parse_num)?,
        })
    }
}

/// Picks the LLM provider: `LLM_PROVIDER` (`openai`, `anthropic`, `extractive`) or, when
/// unset, the first of OpenAI and Anthropic whose key is set; none means extractive.
fn llm_from(
    get: &dyn Fn(&str) -> Option<String>,
    parse_num: &dyn Fn(&str, u64) -> anyhow::Result<u64>,
) -> anyhow::Result<Option<LlmSettings>> {
    let kind = match get("LLM_PROVIDER").map(|v| v.to_ascii_lowercase()).as_deref() {
        Some("extractive") => return Ok(None),
        Some("openai") => LlmKind::OpenAi,
        Some("anthropic") => LlmKind::Anthropic,
        Some(other) => bail!("LLM_PROVIDER must be openai, anthropic or extractive, got {other:?}"),
        None if get("OPENAI_API_KEY").is_some() => LlmKind::OpenAi,
        None if get("ANTHROPIC_API_KEY").is_some() => LlmKind::Anthropic,
        None => return Ok(None),
    };
    let (prefix, base, model) = match kind {
        LlmKind::OpenAi => ("OPENAI", "https://api.openai.com/v1", "gpt-4o-mini"),
        LlmKind::Anthropic => ("ANTHROPIC", "https://api.anthropic.com", "claude-sonnet-4-5"),
    };
    let api_key = get(&format!("{prefix}_API_KEY")).with_context(|| format!("{prefix}_API_KEY is not set"))?;
    let base_url =
        get(&format!("{prefix}_BASE_URL")).unwrap_or_else(|| base.to_owned()).trim_end_matches('/').to_owned();
    url::Url::parse(&base_url).with_context(|| format!("{prefix}_BASE_URL is not a URL: {base_url:?}"))?;
    Ok(Some(LlmSettings {
        kind,
        base_url,
        api_key: Secret::new(api_key),
        model: get(&format!("{prefix}_MODEL")).unwrap_or_else(|| model.to_owned()),
        timeout: Duration::from_millis(parse_num("LLM_TIMEOUT_MS", 60_000)?),
        stream_timeout: Duration::from_millis(parse_num("LLM_STREAM_TIMEOUT_MS", 300_000)?),
        max_retries: parse_num("LLM_MAX_RETRIES", 2)?.min(10) as u32,
        retry_base: Duration::from_millis(parse_num("LLM_RETRY_BASE_MS", 500)?),
        max_output_tokens: parse_num("LLM_MAX_OUTPUT_TOKENS", 2048)?.clamp(16, 64_000) as u32,
    }))
}

/// The data folder (`VOICEFORGE_DATA_DIR`, default `.voiceforge`), for commands that need
/// nothing else from the environment.
pub fn data_dir_from_env() -> PathBuf {
    data_dir_from(std::env::var("VOICEFORGE_DATA_DIR").ok().filter(|v| !v.trim().is_empty()))
}

/// Behind a transaction-mode pooler a cached statement may live on another server connection
/// than the next transaction gets, so the cache defaults to off there.
fn default_statement_cache(database_url: &str) -> u64 {
    if is_transaction_pooler(database_url) { 0 } else { 100 }
}

/// Whether a database URL names a transaction-mode pooler, as the hosts name theirs: Neon's
/// `-pooler` endpoints (`ep-…-pooler.<region>.aws.neon.tech`), Supabase's shared pooler
/// (`*.pooler.supabase.com`) and port 6543 (transaction mode at Supabase and Supavisor), or a
/// `pgbouncer=true` parameter (the convention Prisma and others use for any PgBouncer).
pub fn is_transaction_pooler(database_url: &str) -> bool {
    let Ok(url) = url::Url::parse(database_url) else { return false };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let neon = host.split('.').next().is_some_and(|label| label.ends_with("-pooler"));
    let supabase = host.ends_with(".pooler.supabase.com");
    let port = url.port() == Some(6543);
    let flagged = url.query_pairs().any(|(k, v)| k == "pgbouncer" && v.eq_ignore_ascii_case("true"));
    neon || supabase || port || flagged
}

/// The shortest `maxDuration` vercel.json gives a function, read when the lib is built
/// (lib/build.rs): Vercel ends an invocation there, work after the response included.
pub const FUNCTION_MAX_DURATION: Duration = Duration::from_secs(parse_seconds(env!("VOICEFORGE_MAX_DURATION_SECONDS")));

/// What an invocation keeps free before its `maxDuration`: a tenth of it, 5 to 30 s, for the
/// response, the last writes and the runtime's `end` message.
pub const fn deadline_margin(max_duration: Duration) -> Duration {
    let secs = max_duration.as_secs();
    let tenth = secs / 10;
    let margin = if tenth < 5 {
        5
    } else if tenth > 30 {
        30
    } else {
        tenth
    };
    // A max duration of under 10 s keeps half of itself.
    Duration::from_secs(if margin * 2 > secs { secs / 2 } else { margin })
}

const fn parse_seconds(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let (mut value, mut i) = (0_u64, 0);
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "VOICEFORGE_MAX_DURATION_SECONDS is not a number");
        value = value * 10 + (bytes[i] - b'0') as u64;
        i += 1;
    }
    assert!(value > 0, "maxDuration must be positive");
    value
}

fn data_dir_from(value: Option<String>) -> PathBuf {
    value.map_or_else(|| PathBuf::from(".voiceforge"), PathBuf::from)
}

fn parse_bool(value: Option<String>, name: &str, default: bool) -> anyhow::Result<bool> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some("0" | "false" | "off" | "no") => Ok(false),
        Some(other) => bail!("{name} must be true or false, got {other:?}"),
    }
}

/// Shortest `CRON_SECRET` or `VOICEFORGE_ADMIN_TOKEN` accepted (Vercel asks for 16 characters
/// or more for `CRON_SECRET`); a guessable bearer secret would open cron or operator calls.
pub const MIN_SHARED_SECRET_CHARS: usize = 16;

fn shared_secret(value: Option<String>, name: &str) -> anyhow::Result<Option<Secret>> {
    match value {
        Some(v) if v.chars().count() < MIN_SHARED_SECRET_CHARS => bail!(
            "{name} is {} characters long; use at least {MIN_SHARED_SECRET_CHARS} random characters \
             (e.g. openssl rand -hex 32)",
            v.chars().count()
        ),
        v => Ok(v.map(Secret::new)),
    }
}

/// `CORS_ALLOWED_ORIGINS` as exact origins (`scheme://host[:port]`); `*` and anything that is
/// not an origin are refused, since a browser would then send members' tokens from any site.
fn cors_origins(value: Option<String>) -> anyhow::Result<Vec<String>> {
    split_list(value)
        .into_iter()
        .map(|o| {
            if o == "*" {
                bail!(
                    "CORS_ALLOWED_ORIGINS=* would let any website call the API with a signed-in member's \
                     token; list the frontend's origins instead, e.g. https://app.example.com"
                );
            }
            let origin = o.trim_end_matches('/');
            let parsed = url::Url::parse(origin).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && !origin.ends_with('/')
            });
            match parsed {
                Some(u) if u.origin().ascii_serialization() == origin.to_ascii_lowercase() => Ok(origin.to_owned()),
                _ => bail!("CORS_ALLOWED_ORIGINS: {o:?} is not an origin like https://app.example.com (scheme, host, optional port; no path)"),
            }
        })
        .collect()
}

fn split_list(value: Option<String>) -> Vec<String> {
    value.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn database_url_is_required_and_named_in_the_error() {
        let err = settings(&[]).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn clerk_jwks_url_defaults_to_the_issuers_well_known_path() {
        let s =
            settings(&[("DATABASE_URL", "postgres://x"), ("CLERK_ISSUER", "https://a.clerk.accounts.dev/")]).unwrap();
        let clerk = s.clerk.unwrap();
        assert_eq!(clerk.issuer, "https://a.clerk.accounts.dev");
        assert_eq!(clerk.jwks_url, "https://a.clerk.accounts.dev/.well-known/jwks.json");
        assert_eq!(s.database_url_unpooled.expose(), "postgres://x");
    }

    #[test]
    fn a_key_without_an_issuer_is_a_configuration_error() {
        assert!(settings(&[("DATABASE_URL", "postgres://x"), ("CLERK_JWT_KEY", "k")]).is_err());
    }

    #[test]
    fn the_statement_cache_is_off_behind_a_transaction_pooler() {
        let cache = |url: &str| settings(&[("DATABASE_URL", url)]).unwrap().database_statement_cache;
        assert_eq!(cache("postgres://u:p@ep-x-pooler.us-east-2.aws.neon.tech/db"), 0);
        assert_eq!(cache("postgres://u:p@db.example/db?pgbouncer=true"), 0);
        assert_eq!(cache("postgres://u:p@127.0.0.1:5432/db"), 100);
        assert_eq!(cache("postgres://u:p@ep-x.us-east-2.aws.neon.tech/db"), 100, "Neon's direct host");
        let explicit =
            settings(&[("DATABASE_URL", "postgres://h-pooler/db"), ("DATABASE_STATEMENT_CACHE", "50")]).unwrap();
        assert_eq!(explicit.database_statement_cache, 50);
    }

    #[test]
    fn transaction_poolers_are_recognized_as_their_hosts_name_them() {
        for pooled in [
            "postgres://u:p@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require",
            "postgresql://postgres.abcdefgh:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
            "postgresql://postgres.abcdefgh:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
            "postgresql://postgres:p@db.abcdefgh.supabase.co:6543/postgres",
            "postgres://u:p@pgbouncer.internal:5432/db?pgbouncer=true",
            "postgres://u:p@127.0.0.1:54330/db?sslmode=disable&pgbouncer=TRUE",
        ] {
            assert!(is_transaction_pooler(pooled), "{pooled}");
        }
        for direct in [
            "postgres://u:p@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb",
            "postgresql://postgres:p@db.abcdefgh.supabase.co:5432/postgres",
            "postgres://u:p@pooler-docs.example.com/db",
            "postgres://u:p@127.0.0.1:5432/db?pgbouncer=false",
            "not a url",
        ] {
            assert!(!is_transaction_pooler(direct), "{direct}");
        }
    }

    #[test]
    fn the_invocation_budget_stays_inside_the_functions_max_duration() {
        assert!(FUNCTION_MAX_DURATION >= Duration::from_secs(1));
        let cap = FUNCTION_MAX_DURATION - deadline_margin(FUNCTION_MAX_DURATION);
        let budget = |v: &str| settings(&[("DATABASE_URL", "postgres://x"), ("CRAWL_INVOCATION_SECONDS", v)]).unwrap();
        assert_eq!(budget("3600").crawl.invocation_budget, cap);
        assert_eq!(budget("3").crawl.invocation_budget, Duration::from_secs(3).min(cap));
        assert_eq!(deadline_margin(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(deadline_margin(Duration::from_secs(800)), Duration::from_secs(30));
        assert_eq!(deadline_margin(Duration::from_secs(60)), Duration::from_secs(6));
        assert_eq!(deadline_margin(Duration::from_secs(10)), Duration::from_secs(5));
        assert_eq!(deadline_margin(Duration::from_secs(4)), Duration::from_secs(2));
    }

    #[test]
    fn the_max_duration_is_the_shortest_one_vercel_json_sets() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../vercel.json")).unwrap();
        let config: serde_json::Value = serde_json::from_str(&text).unwrap();
        let shortest =
            config["functions"].as_object().unwrap().values().filter_map(|f| f["maxDuration"].as_u64()).min().unwrap();
        assert_eq!(FUNCTION_MAX_DURATION, Duration::from_secs(shortest));
    }

    #[test]
    fn lists_are_split_and_trimmed() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://x"),
            ("CORS_ALLOWED_ORIGINS", " https://a.example/ , ,https://b.example"),
        ])
        .unwrap();
        assert_eq!(s.cors_allowed_origins, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn risky_settings_are_refused_or_warned_about_with_what_to_do() {
        let db = ("DATABASE_URL", "postgres://x");
        for bad in ["*", "https://a.example/*", "a.example", "https://a.example/app", "ftp://a.example", "https://"] {
            let err = settings(&[db, ("CORS_ALLOWED_ORIGINS", bad)]).unwrap_err().to_string();
            assert!(err.contains("CORS_ALLOWED_ORIGINS"), "{bad}: {err}");
        }
        let ok = settings(&[db, ("CORS_ALLOWED_ORIGINS", "http://localhost:5173,https://app.example.com")]).unwrap();
        assert_eq!(ok.cors_allowed_origins, ["http://localhost:5173", "https://app.example.com"]);
        for name in ["CRON_SECRET", "VOICEFORGE_ADMIN_TOKEN"] {
            let err = settings(&[db, (name, "short")]).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains("at least 16"), "{err}");
            assert!(settings(&[db, (name, "0123456789abcdef")]).is_ok());
        }
        let clerk = ("CLERK_ISSUER", "https://clerk.example.com");
        let warned = settings(&[db, clerk]).unwrap().warnings();
        assert!(warned.len() == 1 && warned[0].contains("CLERK_AUTHORIZED_PARTIES"), "{warned:?}");
        let parties = ("CLERK_AUTHORIZED_PARTIES", "https://app.example.com");
        assert!(settings(&[db, clerk, parties]).unwrap().warnings().is_empty());
        assert!(settings(&[db]).unwrap().warnings().is_empty(), "dev sign-in alone is not a risk to warn about");
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://user:hunter2@db/x"),
            ("CRON_SECRET", "s3cret-s3cret-s3cret"),
            ("CLERK_WEBHOOK_SIGNING_SECRET", "whsec_c2VjcmV0d2g="),
            ("VOICEFORGE_ADMIN_TOKEN", "adm1n-t0ken-adm1n-t0ken"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["hunter2", "s3cret", "c2VjcmV0d2g", "adm1n-t0ken"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn crawling_private_networks_is_off_unless_turned_on() {
        assert!(!settings(&[("DATABASE_URL", "postgres://x")]).unwrap().crawl.allow_private_networks);
        let on = settings(&[("DATABASE_URL", "postgres://x"), ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true")]).unwrap();
        assert!(on.crawl.allow_private_networks);
        assert!(settings(&[("DATABASE_URL", "postgres://x"), ("CRAWL_ALLOW_PRIVATE_NETWORKS", "maybe")]).is_err());
    }

    #[test]
    fn the_llm_provider_follows_the_keys_and_defaults_to_extractive() {
        let base = [("DATABASE_URL", "postgres://x")];
        assert!(settings(&base).unwrap().llm.is_none());
        let s = settings(&[base[0], ("ANTHROPIC_API_KEY", "sk-ant")]).unwrap().llm.unwrap();
        assert_eq!(
            (s.kind, s.base_url.as_str(), s.model.as_str()),
            (LlmKind::Anthropic, "https://api.anthropic.com", "claude-sonnet-4-5")
        );
        let s = settings(&[
            base[0],
            ("ANTHROPIC_API_KEY", "a"),
            ("OPENAI_API_KEY", "o"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
        ])
        .unwrap()
        .llm
        .unwrap();
        assert_eq!((s.kind, s.base_url.as_str()), (LlmKind::OpenAi, "http://127.0.0.1:9/v1"));
        assert!(settings(&[base[0], ("OPENAI_API_KEY", "o"), ("LLM_PROVIDER", "extractive")]).unwrap().llm.is_none());
        assert!(
            settings(&[base[0], ("LLM_PROVIDER", "anthropic")]).unwrap_err().to_string().contains("ANTHROPIC_API_KEY")
        );
        assert!(!format!("{s:?}").contains("\"o\""));
    }

    #[test]
    fn malformed_numbers_are_rejected_with_the_variable_name() {
        let err = settings(&[("DATABASE_URL", "postgres://x"), ("MAX_BODY_BYTES", "lots")]).unwrap_err();
        assert!(err.to_string().contains("MAX_BODY_BYTES"));
    }
}
