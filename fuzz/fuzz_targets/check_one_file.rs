//! The whole check pipeline (parse, every rule, index, suppressions, both output formats) on
//! one in-memory file. A panic, or a run over libFuzzer's `-timeout`, is a bug.
#![no_main]

use fluxvet::config::Config;
use fluxvet::emit::{self, Format};
use fluxvet::engine::check_memory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let outcome = check_memory(&[("clusters/app.yaml", text)], Config::default());
    for format in [Format::Text, Format::Json] {
        let mut out = Vec::new();
        emit::emit(format, &outcome, false, &mut out).expect("write to a Vec");
    }
});
