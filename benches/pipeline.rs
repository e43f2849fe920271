//! Micro-benchmarks of the stages: the YAML layer and the whole pipeline on the corpus.
//! `cargo bench --bench pipeline` (medians are what divan prints first).

use std::path::PathBuf;

fn corpus_files() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let fallback = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let root = if root.is_dir() { root } else { fallback };
    let found =
        fluxvet::discover::discover(&root, std::slice::from_ref(&root), &[]).expect("discover");
    found
        .files
        .into_iter()
        .filter_map(|(abs, rel)| Some((rel, std::fs::read_to_string(abs).ok()?)))
        .collect()
}

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 20)]
fn saphyr_events_only(bencher: divan::Bencher) {
    let files = corpus_files();
    bencher.bench(|| {
        files
            .iter()
            .map(|(_, t)| {
                saphyr_parser::Parser::new_from_str(t)
                    .take_while(Result::is_ok)
                    .count()
            })
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 20)]
fn fast_path_events(bencher: divan::Bencher) {
    let files = corpus_files();
    bencher.bench(|| {
        files
            .iter()
            .map(|(_, t)| fluxvet::yaml::fast::events(t).map_or(0, |e| e.len()))
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 20)]
fn spanned_tree(bencher: divan::Bencher) {
    // Shared texts, as the engine hands them over: the trees read scalars from them in place.
    let files: Vec<std::sync::Arc<str>> = corpus_files()
        .into_iter()
        .map(|(_, t)| std::sync::Arc::from(t))
        .collect();
    bencher.bench(|| {
        files
            .iter()
            .map(|t| fluxvet::yaml::parse_source(t).documents.len())
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 20)]
fn whole_pipeline_in_memory(bencher: divan::Bencher) {
    let files = corpus_files();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    bencher.bench(|| {
        fluxvet::engine::check_memory(&refs, fluxvet::config::Config::default())
            .diagnostics
            .len()
    });
}

/// Every rule's per-document pass over already parsed documents (no parsing in the loop).
#[divan::bench(sample_count = 20)]
fn document_rules(bencher: divan::Bencher) {
    use fluxvet::rules::{DocContext, RULES};
    let files = corpus_files();
    let parsed: Vec<_> = files
        .iter()
        .map(|(p, t)| {
            let source = fluxvet::source::SourceFile::new(p.as_str(), t.clone());
            let stream = fluxvet::yaml::parse_source(&source.text);
            (source, stream.documents)
        })
        .collect();
    bencher.bench(|| {
        let mut out = Vec::new();
        for (id, (source, docs)) in parsed.iter().enumerate() {
            for (slot, doc) in docs.iter().enumerate() {
                let object = fluxvet::model::index::Object::from_document(id, slot, doc);
                let cx = DocContext {
                    file_id: id,
                    file: source,
                    doc,
                    object: object.as_ref(),
                    flux: fluxvet::rules::schema::flux_doc_of(object.as_ref(), doc),
                };
                for rule in RULES {
                    rule.check_document(&cx, &mut out);
                }
            }
        }
        out.len()
    });
}

/// Every rule's repository pass over an indexed corpus. The reconcile tree is built on the
/// first iteration and reused, as it is shared by the rules within one run.
#[divan::bench(sample_count = 20)]
fn repository_rules(bencher: divan::Bencher) {
    use fluxvet::rules::RULES;
    let files = corpus_files();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let outcome = fluxvet::engine::check_memory(&refs, fluxvet::config::Config::default());
    bencher.bench(|| {
        let mut out = Vec::new();
        for rule in RULES {
            rule.check_repository(&outcome.repo, &mut out);
        }
        out.len()
    });
}
