#![no_main]
//! libFuzzer entry point; the body and its properties are in `voiceforge_fuzz::token_header`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| voiceforge_fuzz::token_header(data));
