//! The YAML layer on arbitrary bytes: parse, then read every node back through the API the
//! rules use. A panic, or a run over libFuzzer's `-timeout`, is a bug.
#![no_main]

use fluxvet::source::SourceFile;
use fluxvet::yaml::parse_stream;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("f.yaml", text.to_string());
    let stream = parse_stream(&file.text);
    for doc in &stream.documents {
        assert!(doc.span.end as usize <= file.text.len());
        for id in 0..doc.nodes.len() as u32 {
            let n = doc.node(id);
            let span = n.span();
            assert!(span.end as usize <= file.text.len());
            let lc = file.line_col(span.start as usize);
            assert_eq!(file.offset_of(lc), span.start as usize);
            let _ = (n.entries(), n.items(), n.get("spec"), n.is_string());
        }
    }
});
