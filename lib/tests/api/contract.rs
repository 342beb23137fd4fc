//! docs/openapi.yaml is the API's contract: every route is in it with exactly the methods
//! the router answers, and real responses carry what its schemas require.

use std::collections::BTreeSet;

use axum::{body::Body, http::Request};
use serde_json::Value;
use voiceforge::{auth::Role, routes::Endpoint};

use crate::harness::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    serde_norway::from_str(&text).expect("docs/openapi.yaml parses")
}

#[test]
fn every_route_is_in_the_contract_and_nothing_else_is() {
    let spec = spec();
    let documented: BTreeSet<&str> = spec["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let routed: BTreeSet<&str> = Endpoint::ALL.iter().map(|e| e.path()).collect();
    assert_eq!(documented, routed, "docs/openapi.yaml paths vs the route table");
}

#[tokio::test]
async fn each_path_answers_exactly_the_documented_methods() {
    let t = TestApp::spawn().await;
    let spec = spec();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let uri = path.replace("{id}", "x_probe");
        for method in METHODS {
            let req = Request::builder().method(method.to_uppercase().as_str()).uri(&uri).body(Body::empty()).unwrap();
            let status = t.request(req).await.status;
            if item.get(method).is_some() {
                assert_ne!(status, 405, "{method} {path} is documented but not routed");
                assert!(status != 404 || path.contains('{'), "{method} {path} is documented but answered 404");
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not documented");
            }
        }
    }
}

/// Checks `value` against the parts of an OpenAPI schema the contract relies on: types,
/// required properties, nullability, enums, arrays and `$ref`s.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(spec, &spec["components"]["schemas"][name], value, at);
    }
    if value.is_null() {
        assert!(schema["nullable"] == true, "{at} is null but not nullable");
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        assert!(allowed.contains(value), "{at} = {value} is not one of {allowed:?}");
    }
    match schema["type"].as_str() {
        Some("object") => {
            let object = value.as_object().unwrap_or_else(|| panic!("{at} is not an object: {value}"));
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap();
                assert!(object.contains_key(key), "{at} lacks required `{key}`: {value}");
            }
            for (key, sub) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(v) = object.get(key) {
                    check(spec, sub, v, &format!("{at}.{key}"));
                }
            }
        }
        Some("array") => {
            for (i, v) in value.as_array().unwrap_or_else(|| panic!("{at} is not an array")).iter().enumerate() {
                check(spec, &schema["items"], v, &format!("{at}[{i}]"));
            }
        }
        Some("string") => assert!(value.is_string(), "{at} is not a string: {value}"),
        Some("integer") => assert!(value.is_i64() || value.is_u64(), "{at} is not an integer: {value}"),
        Some("number") => assert!(value.is_number(), "{at} is not a number: {value}"),
        Some("boolean") => assert!(value.is_boolean(), "{at} is not a boolean: {value}"),
        _ => {}
    }
}

#[tokio::test]
async fn get_responses_match_their_documented_schemas() {
    let t = TestApp::spawn().await;
    let token = t.token("org_contract", "user_contract", Role::Admin);
    let spec = spec();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let uri = path.replace("{id}", "user_contract");
        let res = t.get(&uri, &token).await;
        let documented = &get["responses"][res.status.to_string()];
        assert!(documented.is_object(), "GET {uri} answered undocumented {}", res.status);
        let content = if documented.get("$ref").is_some() {
            let name = documented["$ref"].as_str().unwrap().trim_start_matches("#/components/responses/");
            &spec["components"]["responses"][name]["content"]
        } else {
            &documented["content"]
        };
        let (media, body) = content.as_object().unwrap().iter().next().unwrap();
        assert_eq!(res.headers["content-type"], media.as_str(), "GET {uri}");
        check(&spec, &body["schema"], &res.json(), &format!("GET {uri}"));
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
#[should_panic(expected = "lacks required `role`")]
fn the_schema_check_catches_a_missing_required_field() {
    let spec = spec();
    let body = serde_json::json!({"organization": {"id": "o", "name": "n", "slug": null, "created_at": "t",
        "limits": {"max_users": 1, "max_content_items": 1, "max_crawls_per_month": 1}}, "user": {"id": "u"}});
    check(&spec, &serde_json::json!({"$ref": "#/components/schemas/CurrentOrganization"}), &body, "body");
}
