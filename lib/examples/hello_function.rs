//! Baseline for `bench/functions`: the smallest Vercel Rust function (answers every request
//! with 200 and no work), to compare VoiceForge's function start-up against.

use vercel_runtime::{Request, ResponseBody, service_fn};

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    vercel_runtime::run(service_fn(|_req: Request| async {
        Ok::<_, vercel_runtime::Error>(vercel_runtime::Response::new(ResponseBody::from("ok")))
    }))
    .await
}
