//! The local dev issuer: `voiceforge serve` signs Clerk-shaped session tokens with its own RSA
//! key so the app runs without a Clerk account. Compiled only with feature `cli`, so the Vercel
//! function binaries cannot contain it.

use std::{
    fs,
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use jsonwebtoken::{
    Algorithm, EncodingKey, Header,
    jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash},
};
use rand::{Rng, TryRngCore, distr::Alphanumeric};
use rsa::{
    PrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding},
};
use serde::Serialize;

use super::{IssuerConfig, KeySource, Role};

/// The `iss` of dev tokens. Not a URL, so it can never collide with a Clerk instance.
pub const DEV_ISSUER: &str = "voiceforge-dev";

/// File name of the dev issuer's private key inside the data folder.
pub const KEY_FILE_NAME: &str = "dev-issuer-key.pem";

const KEY_BITS: usize = 2048;

/// The local issuer: an RSA key kept under the data folder, its JWKS, and a token minter.
pub struct DevIssuer {
    encoding_key: EncodingKey,
    jwk: Jwk,
    kid: String,
    key_path: PathBuf,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer").field("kid", &self.kid).field("key_path", &self.key_path).finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// Loads `<data_dir>/dev-issuer-key.pem`, creating a new 2048-bit key (mode 0600) on first
    /// run. Concurrent first runs agree on one key: the first file to land wins.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<DevIssuer> {
        fs::create_dir_all(data_dir).with_context(|| format!("creating the data folder {}", data_dir.display()))?;
        let key_path = data_dir.join(KEY_FILE_NAME);
        let pem = match fs::read_to_string(&key_path) {
            Ok(pem) => pem,
            Err(err) if err.kind() == ErrorKind::NotFound => create_key_file(&key_path)?,
            Err(err) => {
                return Err(err).with_context(|| format!("reading the dev issuer key {}", key_path.display()));
            }
        };
        DevIssuer::from_pem(&pem, key_path)
    }

    fn from_pem(pem: &str, key_path: PathBuf) -> anyhow::Result<DevIssuer> {
        let private_key = PrivateKey::from_pkcs8_pem(pem).map_err(|e| anyhow::anyhow!("{e}")).with_context(|| {
            format!("{} is not a PKCS#8 RSA private key; delete it to make a new one", key_path.display())
        })?;
        let pkcs1_der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&private_key)
            .map_err(|e| anyhow::anyhow!("encoding the dev issuer key: {e}"))?;
        let encoding_key = EncodingKey::from_rsa_der(pkcs1_der.as_bytes());
        let mut jwk =
            Jwk::from_encoding_key(&encoding_key, Algorithm::RS256).context("deriving the dev issuer's JWK")?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).context("hashing the dev issuer's public key")?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(DevIssuer { encoding_key, jwk, kid, key_path })
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key, so it is stable per key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Where the private key lives.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The public key as a JWKS (RS256, `use: sig`, `kid`), the same shape Clerk publishes.
    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: vec![self.jwk.clone()] }
    }

    /// This issuer for [`super::TokenVerifier`]: its own JWKS in memory, no `azp` check.
    pub fn issuer_config(&self) -> IssuerConfig {
        IssuerConfig {
            issuer: DEV_ISSUER.to_owned(),
            keys: KeySource::Static(self.jwks()),
            authorized_parties: Vec::new(),
        }
    }

    /// Mints a Clerk-shaped v1 session token for `user_id` acting in `org_id` with `role`,
    /// valid for `ttl` (the frontend and `voiceforge dev-token` use it).
    pub fn mint(
        &self,
        org_id: &str,
        user_id: &str,
        role: Role,
        org_name: Option<&str>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        if !valid_clerk_id("org", org_id) {
            bail!("the organization id must look like org_acme (letters, digits, _ or -)");
        }
        if !valid_clerk_id("user", user_id) {
            bail!("the user id must look like user_alice (letters, digits, _ or -)");
        }
        let iat = SystemTime::now().duration_since(UNIX_EPOCH).context("the system clock is before 1970")?.as_secs();
        let claims = DevClaims {
            exp: iat.saturating_add(ttl.as_secs()),
            iat,
            nbf: iat.saturating_sub(10),
            iss: DEV_ISSUER,
            sid: format!("sess_{}", random_id()),
            sub: user_id,
            org_id,
            org_role: role.clerk_role(),
            org_slug: org_id.strip_prefix("org_").unwrap_or(org_id),
            org_permissions: [],
            org_name,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding_key).context("signing the dev session token")
    }
}

/// The claims of a dev token, in Clerk's v1 layout (`azp` absent: no browser origin here).
#[derive(Serialize)]
struct DevClaims<'a> {
    exp: u64,
    iat: u64,
    nbf: u64,
    iss: &'a str,
    sid: String,
    sub: &'a str,
    org_id: &'a str,
    org_role: &'a str,
    org_slug: &'a str,
    org_permissions: [&'a str; 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    org_name: Option<&'a str>,
}

/// True for Clerk-style ids `<prefix>_<1..=64 of A-Z a-z 0-9 _ ->`, e.g. `valid_clerk_id("org",
/// "org_acme")`; the CLI and dev sign-in use it to reject garbage before minting.
pub fn valid_clerk_id(prefix: &str, s: &str) -> bool {
    let prefix = prefix.trim_end_matches('_');
    let Some(rest) = s.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) else {
        return false;
    };
    !prefix.is_empty()
        && (1..=64).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Clerk-like random id body (27 alphanumerics).
fn random_id() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(27).map(char::from).collect()
}

/// Generates a key and publishes it at `key_path` without ever overwriting a key another
/// process published first: write a private temp file, then hard-link it into place.
fn create_key_file(key_path: &Path) -> anyhow::Result<String> {
    let private_key =
        PrivateKey::new(&mut OsRandom, KEY_BITS).map_err(|e| anyhow::anyhow!("generating the dev issuer key: {e}"))?;
    let pem =
        private_key.to_pkcs8_pem(LineEnding::LF).map_err(|e| anyhow::anyhow!("encoding the dev issuer key: {e}"))?;

    let dir = key_path.parent().unwrap_or(Path::new("."));
    let temp_path = dir.join(format!(".{KEY_FILE_NAME}.{}.{}.tmp", std::process::id(), random_id()));
    write_private_file(&temp_path, pem.as_bytes())
        .with_context(|| format!("writing the dev issuer key to {}", temp_path.display()))?;
    let published = fs::hard_link(&temp_path, key_path);
    let _ignored = fs::remove_file(&temp_path);
    match published {
        Ok(()) => Ok(pem.to_string()),
        // Another first run won the race: use its key so both agree.
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {
            fs::read_to_string(key_path).with_context(|| format!("reading the dev issuer key {}", key_path.display()))
        }
        Err(_) => {
            // No hard links here (some network or FUSE file systems): create-exclusive instead.
            match write_private_file(key_path, pem.as_bytes()) {
                Ok(()) => Ok(pem.to_string()),
                Err(err) if err.kind() == ErrorKind::AlreadyExists => fs::read_to_string(key_path)
                    .with_context(|| format!("reading the dev issuer key {}", key_path.display())),
                Err(err) => Err(err).with_context(|| format!("writing the dev issuer key {}", key_path.display())),
            }
        }
    }
}

/// Creates `path` (failing if it exists), readable by the owner only, and syncs it.
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The OS random source (via `rand` 0.9) in the `rand_core` 0.10 shape `rsa` asks for.
struct OsRandom;

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
struct OsRandomFailed;

impl rsa::rand_core::TryRng for OsRandom {
    type Error = OsRandomFailed;

    fn try_next_u32(&mut self) -> Result<u32, OsRandomFailed> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, OsRandomFailed> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), OsRandomFailed> {
        rand::rngs::OsRng.try_fill_bytes(dst).map_err(|_| OsRandomFailed)
    }
}

impl rsa::rand_core::TryCryptoRng for OsRandom {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthError, TokenVerifier};

    /// A fresh folder under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let path =
                std::env::temp_dir().join(format!("voiceforge-auth-{name}-{}-{}", std::process::id(), random_id()));
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ignored = fs::remove_dir_all(&self.0);
        }
    }

    /// Key generation is slow in debug builds: the tests share one issuer where they can.
    fn shared_issuer() -> &'static DevIssuer {
        static ISSUER: once_cell::sync::Lazy<(DevIssuer, TempDir)> = once_cell::sync::Lazy::new(|| {
            let dir = TempDir::new("shared");
            let issuer = DevIssuer::load_or_create(&dir.0.join("data")).expect("dev issuer");
            (issuer, dir)
        });
        &ISSUER.0
    }

    fn verifier(issuer: &DevIssuer) -> TokenVerifier {
        crate::auth::tests::install_crypto_provider();
        TokenVerifier::new(vec![issuer.issuer_config()], reqwest::Client::builder().no_proxy().build().expect("client"))
    }

    #[tokio::test]
    async fn minted_token_verifies_through_the_clerk_code_path() {
        let issuer = shared_issuer();
        let token = issuer
            .mint("org_acme", "user_alice", Role::Admin, Some("Acme Inc."), Duration::from_secs(60))
            .expect("mint");
        let identity = verifier(issuer).verify(&token).await.expect("verifies");
        assert_eq!(identity.org_id, "org_acme");
        assert_eq!(identity.org_slug.as_deref(), Some("acme"));
        assert_eq!(identity.org_name.as_deref(), Some("Acme Inc."));
        assert_eq!(identity.user_id, "user_alice");
        assert_eq!(identity.role, Role::Admin);
        assert_eq!(identity.issuer, DEV_ISSUER);
        assert!(identity.session_id.starts_with("sess_") && identity.session_id.len() == 32);
    }

    #[tokio::test]
    async fn minted_token_is_clerk_shaped() {
        let issuer = shared_issuer();
        let token = issuer.mint("org_acme", "user_bob", Role::Member, None, Duration::from_secs(60)).expect("mint");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(
            (header.alg, header.typ.as_deref(), header.kid.as_deref()),
            (Algorithm::RS256, Some("JWT"), Some(issuer.kid()))
        );
        let claims: serde_json::Value = jsonwebtoken::dangerous::insecure_decode_claims(&token).expect("claims");
        assert_eq!(claims["org_role"], "org:member");
        assert_eq!(claims["org_permissions"], serde_json::json!([]));
        assert_eq!(claims["iss"], DEV_ISSUER);
        assert!(claims.get("azp").is_none() && claims.get("org_name").is_none());
        let iat = claims["iat"].as_u64().expect("iat");
        assert_eq!(claims["nbf"].as_u64(), Some(iat - 10));
        assert_eq!(claims["exp"].as_u64(), Some(iat + 60));
        assert_eq!(verifier(issuer).verify(&token).await.map(|i| i.role), Ok(Role::Member));
    }

    #[tokio::test]
    async fn token_from_another_dev_key_is_rejected() {
        // A different dev key shares the issuer name but not the kid.
        let other =
            DevIssuer::from_pem(include_str!("testdata/test-key-b.pem"), PathBuf::from("testdata/test-key-b.pem"))
                .expect("fixture key");
        let token = other.mint("org_acme", "user_mallory", Role::Admin, None, Duration::from_secs(60)).expect("mint");
        assert_eq!(verifier(shared_issuer()).verify(&token).await, Err(AuthError::UnknownKey));
    }

    #[test]
    fn key_file_persists_with_owner_only_permissions_and_is_reused() {
        let issuer = shared_issuer();
        let again = DevIssuer::load_or_create(issuer.key_path().parent().expect("data dir")).expect("reload");
        assert_eq!(again.kid(), issuer.kid());
        assert_eq!(again.jwks(), issuer.jwks());
        let pem = fs::read_to_string(issuer.key_path()).expect("key file");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(issuer.key_path()).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(issuer.key_path().parent().expect("data dir"))
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temp files left behind");
    }

    #[test]
    fn concurrent_first_runs_agree_on_one_key() {
        let dir = TempDir::new("race");
        let data_dir = dir.0.join("data");
        let start = std::sync::Barrier::new(3);
        let kids: Vec<String> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..3)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        DevIssuer::load_or_create(&data_dir).map(|issuer| issuer.kid().to_owned())
                    })
                })
                .collect();
            runs.into_iter().map(|run| run.join().expect("thread").expect("load_or_create")).collect()
        });
        assert!(kids.iter().all(|kid| *kid == kids[0]), "{kids:?}");
        let on_disk = DevIssuer::load_or_create(&data_dir).expect("reload");
        assert_eq!(on_disk.kid(), kids[0]);
    }

    #[test]
    fn an_existing_key_file_is_never_replaced() {
        let dir = TempDir::new("existing");
        fs::create_dir_all(&dir.0).expect("dir");
        fs::write(dir.0.join(KEY_FILE_NAME), include_str!("testdata/test-key-a.pem")).expect("write fixture");
        let first = DevIssuer::load_or_create(&dir.0).expect("load fixture");
        let second = DevIssuer::load_or_create(&dir.0).expect("load again");
        assert_eq!(first.kid(), second.kid());
        assert_eq!(
            fs::read_to_string(dir.0.join(KEY_FILE_NAME)).ok().as_deref(),
            Some(include_str!("testdata/test-key-a.pem"))
        );
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_silent_new_key() {
        let dir = TempDir::new("corrupt");
        fs::create_dir_all(&dir.0).expect("dir");
        fs::write(dir.0.join(KEY_FILE_NAME), "not a key").expect("write");
        let err = DevIssuer::load_or_create(&dir.0).expect_err("corrupt key must fail");
        assert!(format!("{err:#}").contains("delete it"), "{err:#}");
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_of_the_public_key() {
        let issuer = DevIssuer::from_pem(include_str!("testdata/test-key-a.pem"), PathBuf::from("a")).expect("fixture");
        let again = DevIssuer::from_pem(include_str!("testdata/test-key-a.pem"), PathBuf::from("b")).expect("fixture");
        assert_eq!(issuer.kid(), again.kid());
        assert_eq!(issuer.kid().len(), 43, "base64url of 32 bytes");
        let other = DevIssuer::from_pem(include_str!("testdata/test-key-b.pem"), PathBuf::from("c")).expect("fixture");
        assert_ne!(issuer.kid(), other.kid());
        let jwks = serde_json::to_value(issuer.jwks()).expect("jwks json");
        assert_eq!(jwks["keys"][0]["alg"], "RS256");
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        assert_eq!(jwks["keys"][0]["kid"], issuer.kid());
    }

    #[test]
    fn clerk_ids_are_validated() {
        for ok in ["org_acme", "org_2abcDEF", "org_a-b_c", &format!("org_{}", "x".repeat(64))] {
            assert!(valid_clerk_id("org", ok), "{ok}");
        }
        assert!(valid_clerk_id("user", "user_alice"));
        assert!(valid_clerk_id("org_", "org_acme"), "a trailing _ in the prefix is tolerated");
        let too_long = format!("org_{}", "x".repeat(65));
        for bad in
            ["org_", "org", "acme", "user_alice", "org_ac me", "org_acme!", "org_é", "xorg_acme", too_long.as_str()]
        {
            assert!(!valid_clerk_id("org", bad), "{bad}");
        }
        assert!(!valid_clerk_id("", "_acme"));
    }

    #[test]
    fn mint_rejects_garbage_ids() {
        let issuer = DevIssuer::from_pem(include_str!("testdata/test-key-a.pem"), PathBuf::from("a")).expect("fixture");
        assert!(issuer.mint("acme", "user_alice", Role::Member, None, Duration::from_secs(60)).is_err());
        assert!(issuer.mint("org_acme", "user alice", Role::Member, None, Duration::from_secs(60)).is_err());
    }
}
