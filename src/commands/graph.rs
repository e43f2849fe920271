//! `fluxvet graph`: the dependsOn graph, of the repository or one cluster.

use super::write_out;
use crate::cli::GraphArgs;
use crate::engine::{self, CheckOptions};

pub fn run(args: GraphArgs) -> Result<u8, String> {
    let outcome = engine::check(&CheckOptions {
        paths: args.path.into_iter().collect(),
        config: args.config,
        exclude: args.exclude,
        trees: engine::Trees::All,
        ..CheckOptions::default()
    })
    .map_err(|e| e.0)?;
    let repo = &outcome.repo;
    let data;
    let g = match &args.cluster {
        None => crate::model::graph::Graph::build(repo),
        Some(name) => {
            let Some(index) = repo.clusters().iter().position(|c| &c.name == name) else {
                let known: Vec<&str> = repo.clusters().iter().map(|c| c.name.as_str()).collect();
                return Err(if known.is_empty() {
                    format!(
                        "--cluster {name}: this repository has no clusters (no flux-system/gotk-sync.yaml, FluxInstance or `clusters:` in the config)"
                    )
                } else {
                    format!(
                        "--cluster {name}: no such cluster; the repository has {}",
                        known.join(", ")
                    )
                });
            };
            data = crate::model::graph::GraphData::of_cluster(repo, index);
            crate::model::graph::Graph::view(repo, &data)
        }
    };
    let text = match &args.roots_of {
        Some(name) => crate::graph_render::roots_of(&g, name, args.format)?,
        None => crate::graph_render::render(&g, args.format),
    };
    write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(0)
}
