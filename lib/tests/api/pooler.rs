//! Production Postgres sits behind a transaction-mode pooler (Neon's `-pooler`, PgBouncer):
//! every request must work through one, prepared statements included.

use voiceforge::auth::Role;

use crate::harness::{TestDb, call, get_with_token, settings};

#[tokio::test]
async fn requests_work_through_pgbouncer_in_transaction_mode() {
    // scripts/test starts PgBouncer (scripts/db pooler) in front of its own cluster and sets
    // DATABASE_POOLER_URL; with a database of the user's own, they may point it at theirs.
    let Ok(pooler) = std::env::var("DATABASE_POOLER_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "DATABASE_POOLER_URL is unset: CI runs scripts/test, which starts PgBouncer (scripts/db pooler)"
        );
        eprintln!("DATABASE_POOLER_URL unset (own DATABASE_URL without a pooler): pooler test not run");
        return;
    };
    let db = TestDb::new().await;
    let mut url = url::Url::parse(&pooler).unwrap();
    url.set_path(&format!("/{}", db.name));
    let app = voiceforge::server::build_app(settings(url.as_str(), &[]), true).unwrap();
    assert!(voiceforge::config::is_transaction_pooler(url.as_str()), "{url}");
    assert_eq!(app.settings.database_statement_cache, 0, "pgbouncer=true turns the statement cache off");
    let router = voiceforge::server::router(app.clone(), std::path::Path::new("/nonexistent"));
    let issuer = app.dev_issuer.clone().unwrap();

    // Many requests from several members at once, so transactions interleave on the
    // pooler's server connections.
    let mut tasks = Vec::new();
    for round in 0..6 {
        for (i, path) in
            ["/api/organizations/current", "/api/organizations/users", "/api/organizations/usage", "/api/health"]
                .into_iter()
                .enumerate()
        {
            let router = router.clone();
            let token = issuer
                .mint(
                    "org_pool",
                    &format!("user_{}", (round + i) % 3),
                    Role::Member,
                    None,
                    std::time::Duration::from_secs(60),
                )
                .unwrap();
            tasks.push(tokio::spawn(async move { (path, call(&router, get_with_token(path, &token)).await) }));
        }
    }
    for task in tasks {
        let (path, res) = task.await.unwrap();
        assert_eq!(res.status, 200, "{path}: {}", String::from_utf8_lossy(&res.body));
    }
}
