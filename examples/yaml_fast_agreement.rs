//! Holds the YAML fast path to saphyr-parser on any files: reads paths from stdin, one a line,
//! and prints each file where the two readers' events differ.
//!
//! find ../some-repos -name '*.yaml' | cargo run --release --example yaml_fast_agreement

fn main() {
    let (mut read, mut declined, mut differ) = (0usize, 0usize, 0usize);
    for line in std::io::stdin().lines() {
        let Ok(path) = line else { break };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match fluxvet::yaml::fast::agrees_with_saphyr(&text) {
            Ok(true) => read += 1,
            Ok(false) => declined += 1,
            Err(e) => {
                differ += 1;
                println!("{path}: {e}");
            }
        }
    }
    eprintln!("fast path: {read} files read, {declined} declined, {differ} differ");
    std::process::exit(i32::from(differ > 0));
}
