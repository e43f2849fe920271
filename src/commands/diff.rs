//! `fluxvet diff`: the object changes between two revisions, and what Flux does about them.

use super::{use_color, write_out};
use crate::diag::Severity;
use crate::engine::{self, CheckOptions};

pub fn run(args: crate::cli::DiffArgs) -> Result<u8, String> {
    use crate::cli::DiffFormat;
    use crate::diff::{compare, render};
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let opts = CheckOptions {
        paths: args.path.iter().cloned().collect(),
        config: args.config.clone(),
        exclude: Vec::new(),
        trees: engine::Trees::All,
        ..CheckOptions::default()
    };
    let (base_rev, how) = match &args.base {
        Some(b) => (b.clone(), b.clone()),
        None => crate::git::default_diff_base(&dir).map_err(|e| e.0)?,
    };
    let base = crate::git::check_rev(&opts, &base_rev).map_err(|e| e.0)?;
    let (head, head_name) = if args.head == "worktree" {
        (
            engine::check(&opts).map_err(|e| e.0)?,
            "the working tree".to_string(),
        )
    } else {
        (
            crate::git::check_rev(&opts, &args.head).map_err(|e| e.0)?,
            args.head.clone(),
        )
    };
    let report = compare(&base.repo, &head.repo);
    let short = |r: &str| {
        if r.len() == 40 {
            r[..12].to_string()
        } else {
            r.to_string()
        }
    };
    let title = format!("{} ({how}) → {head_name}", short(&base_rev));
    let text = match args.format {
        DiffFormat::Text => render::text(
            &report,
            &format!("fluxvet diff: {title}"),
            use_color(args.color),
        ),
        DiffFormat::Json => render::json(&report, &base_rev, &args.head),
        DiffFormat::Markdown => render::markdown(&report, &title),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(match report.worst() {
        Some(Severity::Error) => 1,
        Some(Severity::Warning) if args.deny_warnings => 1,
        _ => 0,
    })
}
