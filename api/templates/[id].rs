//! Vercel function for `GET, PATCH, DELETE /api/templates/{id}`: hands the lib's handler to the runtime.
#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    voiceforge::http::vercel::run(const { voiceforge::routes::Endpoint::Template.function() }).await
}
