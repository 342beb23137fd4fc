//! Vercel function for `POST /api/generate`: hands the lib's handler to the runtime.
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    voiceforge::http::vercel::run(const { voiceforge::routes::Endpoint::Generate.function() }).await
}
