//! 3xx: dependsOn chains, judged on the graph in [`crate::model::graph`].

pub mod dependency_chain_gap;
pub mod dependency_cycle;
pub mod dependency_malformed;
pub mod dependency_not_found;
pub mod dependency_order;

#[cfg(test)]
pub(crate) mod fixtures {
    /// A Flux object of `kind` (`hr` or `ks`) with the given dependsOn entries written as YAML
    /// flow mappings or scalars, e.g. `{name: a}`.
    pub fn obj(kind: &str, name: &str, ns: Option<&str>, deps: &[&str]) -> String {
        let (api, k) = match kind {
            "hr" => ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
            _ => ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        };
        let mut s = format!("apiVersion: {api}\nkind: {k}\nmetadata:\n  name: {name}\n");
        if let Some(ns) = ns {
            s.push_str(&format!("  namespace: {ns}\n"));
        }
        s.push_str("spec:\n  interval: 1h\n");
        if !deps.is_empty() {
            s.push_str("  dependsOn:\n");
            for d in deps {
                s.push_str(&format!("    - {d}\n"));
            }
        }
        s
    }
}
