//! A remote JWKS, fetched lazily and cached per issuer, refetched on an unknown `kid` at most
//! once per interval so a flood of forged `kid`s cannot become a flood of fetches.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    DecodingKey,
    jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse},
};
use reqwest::header::ACCEPT;

use super::{AuthError, JwksSource};

/// Largest JWKS response read; Clerk's holds one or two RSA keys (about 1 KiB).
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The cache's clock settings; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    /// How long fetched keys count as fresh (Clerk's SDK: 5 minutes).
    pub ttl: Duration,
    /// Minimum time between fetches after a successful one (unknown-`kid` refetches).
    pub min_refetch: Duration,
    /// Minimum time between fetches after a failed one, so a down endpoint is not hammered.
    pub failure_backoff: Duration,
    /// Whole-request timeout of one fetch.
    pub fetch_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            ttl: Duration::from_secs(300),
            min_refetch: Duration::from_secs(30),
            failure_backoff: Duration::from_secs(5),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

type KeyMap = HashMap<String, Arc<DecodingKey>>;

/// One issuer's remote key set. Keys are looked up by `kid` within this issuer only.
pub(super) struct RemoteKeys {
    source: JwksSource,
    http: reqwest::Client,
    timing: Timing,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Held for the whole fetch: concurrent misses wait for one in-flight fetch.
    fetches: tokio::sync::Mutex<FetchLog>,
}

#[derive(Default)]
struct Snapshot {
    keys: KeyMap,
    /// When `keys` were fetched; `None` until a fetch succeeds.
    fetched_at: Option<Instant>,
}

#[derive(Default)]
struct FetchLog {
    last_attempt: Option<Instant>,
    last_failed: bool,
}

impl Snapshot {
    fn fresh_key(&self, kid: &str, ttl: Duration) -> Option<Arc<DecodingKey>> {
        let fresh = self.fetched_at.is_some_and(|at| at.elapsed() < ttl);
        if fresh { self.keys.get(kid).cloned() } else { None }
    }
}

impl RemoteKeys {
    pub(super) fn new(source: JwksSource, http: reqwest::Client, timing: Timing) -> RemoteKeys {
        RemoteKeys {
            source,
            http,
            timing,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            fetches: tokio::sync::Mutex::new(FetchLog::default()),
        }
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The key for `kid`: from the cache when fresh, else after a (rate-limited) fetch. A
    /// stale key is still used while a refresh is in flight or when the refresh fails.
    pub(super) async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, AuthError> {
        let snapshot = self.snapshot();
        if let Some(key) = snapshot.fresh_key(kid, self.timing.ttl) {
            return Ok(key);
        }
        let mut log = match self.fetches.try_lock() {
            Ok(log) => log,
            Err(_in_flight) => match snapshot.keys.get(kid) {
                Some(stale) => return Ok(stale.clone()),
                None => self.fetches.lock().await,
            },
        };

        // Another task may have fetched while this one waited for the lock.
        let snapshot = self.snapshot();
        if let Some(key) = snapshot.fresh_key(kid, self.timing.ttl) {
            return Ok(key);
        }
        let wait = if log.last_failed { self.timing.failure_backoff } else { self.timing.min_refetch };
        if log.last_attempt.is_some_and(|at| at.elapsed() < wait) {
            return match snapshot.keys.get(kid) {
                Some(stale) => Ok(stale.clone()),
                None if snapshot.fetched_at.is_none() => Err(AuthError::KeysUnavailable),
                None => Err(AuthError::UnknownKey),
            };
        }

        log.last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                log.last_failed = false;
                let fresh = Arc::new(Snapshot { keys, fetched_at: Some(Instant::now()) });
                *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
                fresh.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
            }
            Err(reason) => {
                log.last_failed = true;
                tracing::warn!(url = %self.source.url, %reason, "fetching the issuer's JWKS failed");
                snapshot.keys.get(kid).cloned().ok_or(AuthError::KeysUnavailable)
            }
        }
    }

    /// One GET of the JWKS, size-capped and time-limited. The error is a log-safe reason.
    async fn fetch(&self) -> Result<KeyMap, String> {
        let mut request = self
            .http
            .get(self.source.url.clone())
            .header(ACCEPT, "application/json")
            .timeout(self.timing.fetch_timeout);
        if let Some(secret) = &self.source.bearer_secret {
            request = request.bearer_auth(secret);
        }
        let mut response = request.send().await.map_err(|e| format!("request failed: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {status}"));
        }
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err(format!("response larger than {MAX_JWKS_BYTES} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading the body: {}", e.without_url()))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("response larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

/// Parses a JWKS body key by key, so one key of an unsupported type cannot hide the others.
fn parse_jwks(body: &[u8]) -> Result<KeyMap, String> {
    #[derive(serde::Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet = serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let jwks: Vec<Jwk> = set.keys.into_iter().filter_map(|k| serde_json::from_value(k).ok()).collect();
    Ok(usable_keys(jwks.iter()))
}

/// The RSA signature keys of a set, by `kid`; keys for other uses or algorithms are skipped.
pub(super) fn usable_keys<'a>(jwks: impl Iterator<Item = &'a Jwk>) -> KeyMap {
    jwks.filter_map(|jwk| {
        let common = &jwk.common;
        let kid = common.key_id.as_ref().filter(|k| !k.is_empty())?;
        let for_signatures = matches!(common.public_key_use, None | Some(PublicKeyUse::Signature));
        let for_rs256 = matches!(common.key_algorithm, None | Some(KeyAlgorithm::RS256));
        let verifies = common.key_operations.as_ref().is_none_or(|ops| ops.contains(&KeyOperations::Verify));
        let rsa = matches!(jwk.algorithm, AlgorithmParameters::RSA(_));
        if !(for_signatures && for_rs256 && verifies && rsa) {
            return None;
        }
        let key = DecodingKey::from_jwk(jwk).ok()?;
        Some((kid.clone(), Arc::new(key)))
    })
    .collect()
}
