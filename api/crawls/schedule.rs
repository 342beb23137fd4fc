//! Vercel function for `GET, PUT /api/crawls/schedule`: hands the lib's handler to the runtime.
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    voiceforge::http::vercel::run(const { voiceforge::routes::Endpoint::CrawlsSchedule.function() }).await
}
