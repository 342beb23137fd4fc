//! Vercel function for `GET /api/audit`: hands the lib's handler to the runtime.
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    voiceforge::http::vercel::run(const { voiceforge::routes::Endpoint::Audit.function() }).await
}
