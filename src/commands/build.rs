//! `fluxvet build`: what Flux would apply, as YAML or JSON, optionally with each value's origin.

use super::{use_color, write_out};
use crate::emit;
use crate::engine::{self, CheckOptions};

/// The directory a build may reach: the given root, the enclosing git work tree, the current
/// directory when the path is below it, else the path itself.
fn build_root(
    path: &std::path::Path,
    root: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, String> {
    if let Some(r) = root {
        return r
            .canonicalize()
            .map_err(|e| format!("{}: {e}", r.display()));
    }
    let abs = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(git) = abs.ancestors().find(|a| a.join(".git").exists()) {
        return Ok(git.to_path_buf());
    }
    match std::env::current_dir().and_then(|c| c.canonicalize()) {
        Ok(cwd) if abs.starts_with(&cwd) => Ok(cwd),
        _ => Ok(abs),
    }
}

pub fn run(args: crate::cli::BuildArgs) -> Result<u8, String> {
    use crate::cli::BuildFormat;
    use crate::model::{self, Origin, output};
    let path = args
        .path
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    if !path.is_dir() {
        return Err(format!(
            "{}: no such directory; give `fluxvet build` a directory",
            path.display()
        ));
    }
    // With a cluster or Kustomization to select, PATH is the repository itself.
    let selecting = args.cluster.is_some() || args.kustomization.is_some();
    let root = if selecting && args.root.is_none() {
        path.canonicalize()
            .map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        build_root(&path, args.root.as_deref())?
    };
    let abs = path.canonicalize().map_err(|e| e.to_string())?;
    let rel = abs
        .strip_prefix(&root)
        .map_err(|_| {
            format!(
                "{} is not below the root {}",
                path.display(),
                root.display()
            )
        })?
        .to_string_lossy()
        .replace('\\', "/");
    let mut outcome = engine::check(&CheckOptions {
        paths: vec![root.clone()],
        config: None,
        exclude: Vec::new(),
        trees: engine::Trees::All,
        model_only: true,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    crate::timing::timing(|| "build: repository read".into());
    let started = std::time::Instant::now();
    let b = if args.cluster.is_some() || args.kustomization.is_some() {
        crate::model::applied::flux_build(
            &outcome.repo,
            args.cluster.as_deref(),
            args.kustomization.as_deref(),
        )?
    } else {
        model::build(&outcome.repo, &rel)
    };
    if std::env::var_os("FLUXVET_TIMINGS").is_some() {
        eprintln!(
            "timing: build of {rel:?} {:.2} ms, {} objects",
            started.elapsed().as_secs_f64() * 1e3,
            b.objects.len()
        );
    }
    let repo = &outcome.repo;
    let locate = |o: Origin| -> Option<String> {
        let f = repo.files.get(o.file as usize)?;
        let lc = f.line_col(o.span.start as usize);
        Some(format!("{}:{}:{}", f.path, lc.line, lc.column))
    };
    let place = |file: usize, at: u32| -> serde_json::Value {
        match repo.files.get(file) {
            Some(f) => {
                let lc = f.line_col(at as usize);
                serde_json::json!({"file": &*f.path, "line": lc.line, "column": lc.column})
            }
            None => serde_json::json!({}),
        }
    };
    crate::timing::timing(|| "build: built".into());
    let failed = b.failed();
    let (diagnostics, unplaced) =
        crate::rules::refs::build_findings::diagnostics(&b, repo.files.len());
    match args.format {
        BuildFormat::Json => write_out(
            &mut std::io::stdout().lock(),
            output::json(&b, &locate, &place).as_bytes(),
        )?,
        BuildFormat::Yaml if failed => {}
        BuildFormat::Yaml => {
            let mut stdout = std::io::stdout().lock();
            let written = output::write_yaml(
                &mut stdout,
                &b.objects,
                args.show_origin.then_some(&locate as _),
            );
            match written.and_then(|()| std::io::Write::flush(&mut stdout)) {
                Ok(()) => {}
                // A closed pipe (`fluxvet build | head`) is not an error worth reporting.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(format!("cannot write output: {e}")),
            }
        }
    }
    crate::timing::timing(|| "build: written".into());
    for m in &unplaced {
        eprintln!("fluxvet: error: {m}");
    }
    if args.format == BuildFormat::Yaml && !diagnostics.is_empty() {
        outcome.diagnostics = diagnostics;
        outcome.elapsed = None;
        let mut buf = Vec::new();
        emit::emit(
            emit::Format::Text,
            &outcome,
            use_color(args.color),
            &mut buf,
        )
        .map_err(|e| e.to_string())?;
        if failed {
            write_out(&mut std::io::stdout().lock(), &buf)?;
        } else {
            write_out(&mut std::io::stderr().lock(), &buf)?;
        }
    }
    // The process ends here: freeing the parsed repository and the build, node by node, took
    // half a millisecond of a run that the exit does for nothing.
    std::mem::forget(outcome);
    std::mem::forget(b);
    crate::timing::timing(|| "build: done".into());
    Ok(if failed { 1 } else { 0 })
}
