//! The library's storage rules: dedup by hash, update by URL, the item limit under races.

use voiceforge::{
    auth::Role,
    content::{self, NewContent, Source, Stored},
    tenancy::{System, Tenant},
};

use crate::harness::TestApp;

fn page(url: Option<&str>, text: &str) -> NewContent {
    NewContent {
        source: Source::Crawl,
        crawl_id: None,
        url: url.map(str::to_owned),
        title: "A page".into(),
        description: None,
        language: Some("en".into()),
        markdown: text.into(),
    }
}

async fn tenant(t: &TestApp, org: &str) -> Tenant {
    let identity = voiceforge::auth::Identity {
        user_id: "user_c".into(),
        session_id: "sess".into(),
        org_id: org.into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    };
    Tenant::begin(&t.app.db, &identity).await.unwrap()
}

#[tokio::test]
async fn same_content_is_a_duplicate_and_a_changed_url_is_updated_in_place() {
    let t = TestApp::spawn().await;
    let mut tx = tenant(&t, "org_c").await;
    let first = content::store(&mut tx, page(Some("https://a.test/1"), "Hello  world")).await.unwrap();
    let Stored::Created(item) = first else { panic!("{first:?}") };
    assert_eq!(item.word_count, 2);
    assert!(matches!(content::store(&mut tx, page(Some("https://a.test/2"), "Hello world")).await.unwrap(),
        Stored::Duplicate { existing_id } if existing_id == item.id));
    assert!(matches!(
        content::store(&mut tx, page(Some("https://a.test/1"), "Hello world")).await.unwrap(),
        Stored::Unchanged(_)
    ));
    let Stored::Updated(updated) =
        content::store(&mut tx, page(Some("https://a.test/1"), "Hello brave world")).await.unwrap()
    else {
        panic!("expected an update")
    };
    assert_eq!((updated.id, updated.word_count), (item.id, 3));
    tx.commit().await.unwrap();
    assert_eq!(t.count_all("contents").await, 1);

    // Another organization may hold the very same page.
    let mut other = tenant(&t, "org_d").await;
    assert!(matches!(
        content::store(&mut other, page(Some("https://a.test/1"), "Hello brave world")).await.unwrap(),
        Stored::Created(_)
    ));
}

#[tokio::test]
async fn concurrent_adds_never_exceed_the_content_limit_and_deletes_free_slots() {
    let t = TestApp::spawn().await;
    tenant(&t, "org_lim").await.commit().await.unwrap();
    let mut sys = System::begin(&t.app.db, "test: limit").await.unwrap();
    sqlx::query("UPDATE organizations SET max_content_items = 5 WHERE clerk_org_id = 'org_lim'")
        .execute(sys.conn())
        .await
        .unwrap();
    sys.commit().await.unwrap();

    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let app = t.app.clone();
            tokio::spawn(async move {
                let identity = voiceforge::auth::Identity {
                    user_id: "user_c".into(),
                    session_id: "s".into(),
                    org_id: "org_lim".into(),
                    org_slug: None,
                    org_name: None,
                    role: Role::Member,
                    issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
                };
                let mut tx = Tenant::begin(&app.db, &identity).await.unwrap();
                let result = content::store(&mut tx, page(None, &format!("text number {i}"))).await;
                match result {
                    Ok(Stored::Created(_)) => {
                        tx.commit().await.unwrap();
                        "created"
                    }
                    Err(content::ContentError::LimitReached { limit: 5 }) => "limit",
                    other => panic!("{other:?}"),
                }
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        created += usize::from(task.await.unwrap() == "created");
    }
    assert_eq!(created, 5);
    assert_eq!(t.count_all("contents").await, 5);
    let usage = t.get("/api/organizations/usage", &t.token("org_lim", "user_c", Role::Admin)).await.json();
    assert_eq!(usage["metrics"][1]["used"], 5);
    assert_eq!(usage["warnings"][0]["level"], "limit_reached");

    let mut tx = tenant(&t, "org_lim").await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM contents LIMIT 1").fetch_one(tx.conn()).await.unwrap();
    assert!(content::delete(&mut tx, id).await.unwrap());
    assert!(matches!(content::store(&mut tx, page(None, "a new one")).await.unwrap(), Stored::Created(_)));
}
