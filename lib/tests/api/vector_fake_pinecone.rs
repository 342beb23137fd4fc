//! A loopback Pinecone data plane that checks every request the way Pinecone would (path,
//! `Api-Key`, pinned `X-Pinecone-Api-Version`, JSON body shape and limits) and keeps vectors
//! per namespace in memory, so the Pinecone backend runs its real wire format here.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, post},
};
use serde_json::{Value, json};

pub const API_KEY: &str = "pc-test-key";
pub const API_VERSION: &str = "2025-10";

#[derive(Default)]
pub struct Index {
    pub dimension: usize,
    /// namespace → id → (values, metadata)
    pub namespaces: HashMap<String, HashMap<String, (Vec<f32>, Value)>>,
    /// Every request: method and path.
    pub requests: Vec<(String, String)>,
    /// Requests Pinecone would have refused, with why.
    pub violations: Vec<String>,
    /// Answer this many requests with 429 before serving.
    pub throttle: usize,
}

#[derive(Clone)]
pub struct FakePinecone {
    pub index: Arc<Mutex<Index>>,
    pub url: String,
}

impl FakePinecone {
    pub async fn start(dimension: usize) -> Self {
        let index = Arc::new(Mutex::new(Index { dimension, ..Default::default() }));
        let app = Router::new()
            .route("/vectors/upsert", post(upsert))
            .route("/query", post(query))
            .route("/vectors/delete", post(delete_ids))
            .route("/namespaces/{ns}", delete(delete_namespace))
            .route("/describe_index_stats", post(stats))
            .with_state(index.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { index, url }
    }

    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VECTOR_STORE", "pinecone".into()),
            ("PINECONE_API_KEY", API_KEY.into()),
            ("PINECONE_INDEX_HOST", self.url.clone()),
            ("PINECONE_API_VERSION", API_VERSION.into()),
        ]
    }

    pub fn violations(&self) -> Vec<String> {
        self.index.lock().unwrap().violations.clone()
    }

    pub fn namespace_len(&self, ns: &str) -> usize {
        self.index.lock().unwrap().namespaces.get(ns).map_or(0, HashMap::len)
    }
}

type Shared = State<Arc<Mutex<Index>>>;

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"code": status.as_u16(), "message": message, "details": []}))).into_response()
}

/// Header and throttle checks common to every call; Err is the answer to send.
#[expect(clippy::result_large_err, reason = "the error is the response itself, sent at once")]
fn admit(index: &mut Index, headers: &HeaderMap, method: &str, path: &str, json_body: bool) -> Result<(), Response> {
    index.requests.push((method.into(), path.into()));
    if index.throttle > 0 {
        index.throttle -= 1;
        return Err(error(StatusCode::TOO_MANY_REQUESTS, "Too many requests".into()));
    }
    let mut problems = Vec::new();
    if headers.get("api-key").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        problems.push(format!("{path}: missing or wrong Api-Key"));
    }
    if headers.get("x-pinecone-api-version").and_then(|v| v.to_str().ok()) != Some(API_VERSION) {
        problems.push(format!("{path}: X-Pinecone-Api-Version not pinned to {API_VERSION}"));
    }
    if json_body && headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        problems.push(format!("{path}: Content-Type is not application/json"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        index.violations.extend(problems.clone());
        Err(error(StatusCode::UNAUTHORIZED, problems.join("; ")))
    }
}

fn valid_namespace(ns: &str) -> bool {
    ns.strip_prefix("org_").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
}

fn refuse(index: &mut Index, why: String) -> Response {
    index.violations.push(why.clone());
    error(StatusCode::BAD_REQUEST, why)
}

async fn upsert(State(index): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut index = index.lock().unwrap();
    if let Err(r) = admit(&mut index, &headers, "POST", "/vectors/upsert", true) {
        return r;
    }
    if body.len() > 2 * 1024 * 1024 {
        return refuse(&mut index, format!("upsert body of {} bytes exceeds 2 MB", body.len()));
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return refuse(&mut index, "upsert: not JSON".into()) };
    let ns = body["namespace"].as_str().unwrap_or_default().to_owned();
    if !valid_namespace(&ns) {
        return refuse(&mut index, format!("upsert: namespace {ns:?} is not org_<uuid>"));
    }
    let Some(vectors) = body["vectors"].as_array() else { return refuse(&mut index, "upsert: no vectors".into()) };
    if vectors.is_empty() || vectors.len() > 1000 {
        return refuse(&mut index, format!("upsert: {} records (1 to 1000 allowed)", vectors.len()));
    }
    let dimension = index.dimension;
    let mut accepted = Vec::new();
    for v in vectors {
        let id = v["id"].as_str().unwrap_or_default();
        let values: Vec<f32> = v["values"]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().filter_map(|x| x.as_f64().map(|f| f as f32)).collect());
        let metadata = v["metadata"].clone();
        if id.is_empty() || id.len() > 512 {
            return refuse(&mut index, format!("upsert: bad id {id:?}"));
        }
        if values.len() != dimension {
            return refuse(&mut index, format!("upsert: vector of {} dimensions, index has {dimension}", values.len()));
        }
        if !metadata.is_object()
            || metadata.as_object().unwrap().values().any(Value::is_null)
            || metadata.to_string().len() > 40 * 1024
        {
            return refuse(
                &mut index,
                format!("upsert: metadata {metadata} is not a flat object without nulls within 40 KB"),
            );
        }
        accepted.push((id.to_owned(), values, metadata));
    }
    let count = accepted.len();
    let space = index.namespaces.entry(ns).or_default();
    for (id, values, metadata) in accepted {
        space.insert(id, (values, metadata));
    }
    Json(json!({"upsertedCount": count})).into_response()
}

async fn query(State(index): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut index = index.lock().unwrap();
    if let Err(r) = admit(&mut index, &headers, "POST", "/query", true) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return refuse(&mut index, "query: not JSON".into()) };
    let ns = body["namespace"].as_str().unwrap_or_default().to_owned();
    if !valid_namespace(&ns) {
        return refuse(&mut index, format!("query: namespace {ns:?} is not org_<uuid>"));
    }
    let top_k = body["topK"].as_u64().unwrap_or(0) as usize;
    if !(1..=10_000).contains(&top_k) {
        return refuse(&mut index, format!("query: topK {top_k}"));
    }
    let vector: Vec<f32> = body["vector"]
        .as_array()
        .map_or(Vec::new(), |a| a.iter().filter_map(|x| x.as_f64().map(|f| f as f32)).collect());
    if vector.len() != index.dimension {
        return refuse(&mut index, format!("query: vector of {} dimensions", vector.len()));
    }
    let allowed: Option<Vec<String>> = body.get("filter").map(|f| {
        f["content_id"]["$in"]
            .as_array()
            .map_or(Vec::new(), |a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
    });
    let mut matches: Vec<(String, f32)> = index
        .namespaces
        .get(&ns)
        .map(|space| {
            space
                .iter()
                .filter(|(_, (_, meta))| {
                    allowed.as_ref().is_none_or(|ids| ids.iter().any(|i| meta["content_id"].as_str() == Some(i)))
                })
                .map(|(id, (values, _))| (id.clone(), values.iter().zip(&vector).map(|(a, b)| a * b).sum()))
                .collect()
        })
        .unwrap_or_default();
    matches.sort_by(|a, b| b.1.total_cmp(&a.1));
    matches.truncate(top_k);
    let matches: Vec<Value> =
        matches.into_iter().map(|(id, score)| json!({"id": id, "score": score, "values": []})).collect();
    Json(json!({"matches": matches, "namespace": ns, "usage": {"readUnits": 1}})).into_response()
}

async fn delete_ids(State(index): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let mut index = index.lock().unwrap();
    if let Err(r) = admit(&mut index, &headers, "POST", "/vectors/delete", true) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return refuse(&mut index, "delete: not JSON".into()) };
    let ns = body["namespace"].as_str().unwrap_or_default().to_owned();
    if !valid_namespace(&ns) {
        return refuse(&mut index, format!("delete: namespace {ns:?} is not org_<uuid>"));
    }
    let ids: Vec<String> =
        body["ids"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect());
    if ids.is_empty() || ids.len() > 1000 {
        return refuse(&mut index, format!("delete: {} ids (1 to 1000 allowed)", ids.len()));
    }
    if let Some(space) = index.namespaces.get_mut(&ns) {
        for id in ids {
            space.remove(&id);
        }
    }
    Json(json!({})).into_response()
}

async fn delete_namespace(State(index): Shared, headers: HeaderMap, Path(ns): Path<String>) -> Response {
    let mut index = index.lock().unwrap();
    if let Err(r) = admit(&mut index, &headers, "DELETE", &format!("/namespaces/{ns}"), false) {
        return r;
    }
    if !valid_namespace(&ns) {
        return refuse(&mut index, format!("delete namespace: {ns:?} is not org_<uuid>"));
    }
    match index.namespaces.remove(&ns) {
        Some(_) => StatusCode::ACCEPTED.into_response(),
        None => error(StatusCode::NOT_FOUND, format!("Namespace {ns} not found")),
    }
}

async fn stats(State(index): Shared, headers: HeaderMap) -> Response {
    let mut index = index.lock().unwrap();
    if let Err(r) = admit(&mut index, &headers, "POST", "/describe_index_stats", true) {
        return r;
    }
    let namespaces: serde_json::Map<String, Value> =
        index.namespaces.iter().map(|(k, v)| (k.clone(), json!({"vectorCount": v.len()}))).collect();
    let total: usize = index.namespaces.values().map(HashMap::len).sum();
    Json(json!({"dimension": index.dimension, "indexFullness": 0.0, "totalVectorCount": total,
                "namespaces": namespaces, "metric": "cosine", "vectorType": "dense"}))
    .into_response()
}
