//! The parse floor for the benchmark: discover the same files as `fluxvet check` and tokenize
//! each on the same rayon threads with the readers fluxvet uses (the fast path, saphyr-parser
//! where it declines), building nothing.
//!
//! cargo run --release --example parse_floor -- PATH...

use std::path::PathBuf;

use rayon::prelude::*;
use saphyr_parser::Parser;

// The same allocator as the fluxvet binary, so the ratio measures fluxvet's work, not malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let root = fluxvet::engine::scan_root(&paths);
    let found = match fluxvet::discover::discover(&root, &paths, &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("parse_floor: {e}");
            std::process::exit(2);
        }
    };
    let events: usize = found
        .files
        .par_iter()
        .map(|(abs, _)| {
            let Ok(text) = std::fs::read_to_string(abs) else {
                return 0;
            };
            let mut events = 0;
            if fluxvet::yaml::fast::read(&text, |_, _, _| events += 1) {
                return events;
            }
            Parser::new_from_str(&text)
                .take_while(Result::is_ok)
                .count()
        })
        .sum();
    println!("{} files, {events} events", found.files.len());
}
