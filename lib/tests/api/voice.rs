//! Brand voice: the profile follows the library, the guide is admin-only, the check itemizes.

use serde_json::json;
use voiceforge::{
    auth::{Identity, Role},
    content::{self, NewContent, Source},
    tenancy::Tenant,
};

use crate::{harness::TestApp, templates::send};

/// Adds a page to `org`'s library through the content module.
pub async fn add_page(t: &TestApp, org: &str, url: &str, title: &str, markdown: &str) -> uuid::Uuid {
    let identity = Identity {
        user_id: "user_seed".into(),
        session_id: "sess".into(),
        org_id: org.into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    };
    let mut tenant = Tenant::begin(&t.app.db, &identity).await.unwrap();
    let page = NewContent {
        source: Source::Crawl,
        crawl_id: None,
        url: Some(url.into()),
        title: title.into(),
        description: None,
        language: Some("en".into()),
        markdown: markdown.into(),
    };
    let stored = content::store(&mut tenant, page).await.unwrap();
    tenant.commit().await.unwrap();
    match stored {
        content::Stored::Created(item) | content::Stored::Updated(item) => item.id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_voice_profile_is_measured_from_the_library_and_follows_its_changes() {
    let t = TestApp::spawn().await;
    let token = t.token("org_voice", "user_v", Role::Member);
    let empty = send(&t, "GET", "/api/voice", &token, None).await.json();
    assert!(empty["profile"].is_null(), "{empty}");
    assert!(empty["guide"]["updated_at"].is_null());

    // The known text of the unit test (figures checked by hand in generate::voice).
    add_page(
        &t,
        "org_voice",
        "https://v.test/a",
        "A",
        "# Acme tools\n\nWe build simple tools for you. You're going to love them! Do you want a demo?\n",
    )
    .await;
    add_page(
        &t,
        "org_voice",
        "https://v.test/b",
        "B",
        "Our team answers every ticket within a day. We don't outsource support.",
    )
    .await;
    let p = send(&t, "GET", "/api/voice", &token, None).await.json()["profile"].clone();
    assert_eq!(
        (p["items"].as_u64(), p["library_items"].as_i64(), p["sentences"].as_u64()),
        (Some(2), Some(2), Some(5))
    );
    assert_eq!(p["readability"]["flesch_reading_ease"], 89.4);
    assert_eq!(p["readability"]["flesch_kincaid_grade"], 2.2);
    assert_eq!(p["sentence_length"]["mean"], 5.6);
    assert_eq!(p["person"]["voice"], "first_person_plural");
    assert_eq!(p["person"]["address"], "direct");
    let computed_at = p["computed_at"].clone();
    let cached = send(&t, "GET", "/api/voice", &token, None).await.json()["profile"].clone();
    assert_eq!(cached["computed_at"], computed_at, "an unchanged library is served from the cache");

    add_page(&t, "org_voice", "https://v.test/c", "C", "Questions? Ask us anything. We answer fast!").await;
    let p = send(&t, "GET", "/api/voice", &token, None).await.json()["profile"].clone();
    assert_eq!((p["items"].as_u64(), p["sentences"].as_u64()), (Some(3), Some(8)));

    // Another organization's library is not part of this one's voice.
    let other = send(&t, "GET", "/api/voice", &t.token("org_quiet", "user_q", Role::Member), None).await.json();
    assert!(other["profile"].is_null());
}

#[tokio::test]
async fn only_admins_set_the_style_guide_and_the_check_itemizes_findings() {
    let t = TestApp::spawn().await;
    let (member, admin) = (t.token("org_g", "user_m", Role::Member), t.token("org_g", "user_a", Role::Admin));
    let guide = json!({
        "tone": ["warm", "plain-spoken"],
        "preferred_terms": [{"term": "customers", "replacement": "members"}],
        "banned_words": ["synergy"],
        "do_examples": ["We fix it today."],
        "dont_examples": ["Leverage our synergies!"]
    });
    send(&t, "PUT", "/api/voice/guide", &member, Some(guide.clone())).await.assert_problem(403, "admin_required");
    let stored = send(&t, "PUT", "/api/voice/guide", &admin, Some(guide.clone())).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json()["updated_by"], "user_a");
    assert_eq!(stored.json()["banned_words"], json!(["synergy"]));
    assert_eq!(t.count_all("audit_events WHERE action = 'style_guide.updated'").await, 1);
    let mut bad = guide.clone();
    bad["banned_words"] = json!(["x".repeat(61)]);
    let res = send(&t, "PUT", "/api/voice/guide", &admin, Some(bad)).await;
    res.assert_problem(400, "invalid_guide");
    assert!(res.json()["detail"].as_str().unwrap().starts_with("banned_words[0]"));
    send(&t, "PUT", "/api/voice/guide", &admin, Some(json!({"tone": [], "mood": "x"})))
        .await
        .assert_problem(400, "invalid_body");
    assert_eq!(
        send(&t, "GET", "/api/voice/guide", &member, None).await.json()["tone"],
        json!(["warm", "plain-spoken"])
    );

    let check =
        send(&t, "POST", "/api/voice/check", &member, Some(json!({"text": "Our customers love the synergy."}))).await;
    assert_eq!(check.status, 200);
    let c = check.json();
    assert_eq!(c["score"], 80);
    assert_eq!(c["findings"][0]["kind"], "preferred_term");
    assert_eq!((c["findings"][0]["start"].as_u64(), c["findings"][0]["end"].as_u64()), (Some(4), Some(13)));
    assert_eq!(c["findings"][1]["kind"], "banned_word");
    assert_eq!(c["findings"][1]["text"], "synergy");
    let huge = "a".repeat(100_001);
    send(&t, "POST", "/api/voice/check", &member, Some(json!({"text": huge})))
        .await
        .assert_problem(400, "text_too_long");

    // The guide belongs to its org: another org's check finds nothing.
    let other = send(
        &t,
        "POST",
        "/api/voice/check",
        &t.token("org_h", "user_h", Role::Member),
        Some(json!({"text": "synergy"})),
    )
    .await;
    assert_eq!(other.json()["score"], 100);
}
