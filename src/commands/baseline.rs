//! `fluxvet baseline`: write every current finding to a baseline file.

use super::write_out;
use crate::engine::{self, CheckOptions};

pub fn run(args: crate::cli::BaselineArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: args.exclude,
        trees: engine::Trees::RulesNeed,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let (text, unwaivable) = crate::baseline::write(&outcome, &args.reason);
    let recorded = outcome.diagnostics.len() - unwaivable;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "fluxvet: wrote {} ({recorded} finding{})",
                path.display(),
                if recorded == 1 { "" } else { "s" }
            );
        }
        None => write_out(&mut std::io::stdout().lock(), text.as_bytes())?,
    }
    if unwaivable > 0 {
        eprintln!(
            "fluxvet: warning: {unwaivable} finding(s) of rules the config lists as `unwaivable` \
             are not recorded: fix them"
        );
    }
    for p in &outcome.io_problems {
        eprintln!("fluxvet: error: {p}");
    }
    Ok(if outcome.io_problems.is_empty() { 0 } else { 2 })
}
