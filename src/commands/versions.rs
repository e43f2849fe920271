//! `fluxvet versions`: the chart version each HelmRelease pins per environment.

use super::{use_color, write_out};
use crate::cli::{VersionsArgs, VersionsFormat};
use crate::engine::{self, CheckOptions};

pub fn run(args: VersionsArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: Vec::new(),
        trees: engine::Trees::All,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let m = if outcome.repo.config.environments.is_empty() {
        // Without a promotion order, the clusters are the environments (as they are found).
        crate::promotion::matrix_of_clusters(&outcome.repo).ok_or_else(|| {
            "versions needs the environments: add e.g. `environments: [dev, staging, production]` \
             to .fluxvet.yaml (or the file --config names), or bootstrap the clusters \
             (clusters/<name>/flux-system/gotk-sync.yaml) so they can be found"
                .to_string()
        })?
    } else {
        crate::promotion::matrix(&outcome.repo)
    };
    let text = match args.format {
        VersionsFormat::Text => crate::promotion::render_text(&m, use_color(args.color)),
        VersionsFormat::Json => crate::promotion::render_json(&outcome.repo, &m),
        VersionsFormat::Markdown => crate::promotion::render_markdown(&m),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(0)
}
