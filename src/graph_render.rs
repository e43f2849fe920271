//! `fluxvet graph`: draws the dependsOn graph as Mermaid (to paste into a pull request), DOT, or
//! text (the bring-up order in the terminal), with the edges that break a 3xx rule marked.
//! Arrows run from a dependency to what waits for it, as in the runbook's chain
//! `istio-base -> cert-manager -> …`.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::model::graph::{DepKind, Graph, Target};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Components in canonical order and each level Flux brings up in turn.
    Text,
    /// A Mermaid flowchart for a pull request description.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// What the 3xx rules say about the graph, in drawing terms.
struct Marks {
    /// Edge index → the rule it breaks (`FV302 cycle`, `FV303 order`).
    edges: HashMap<usize, &'static str>,
    /// Entries that name nothing (FV301), by index into `Graph::refs`.
    missing: Vec<usize>,
    /// (earlier component's node, node that should wait for it) (FV304).
    gaps: Vec<(usize, usize)>,
    cycles: Vec<Vec<usize>>,
}

fn enabled(g: &Graph<'_>, meta: &crate::rules::RuleMeta) -> bool {
    g.repo.config.severity(meta.code, meta.severity).is_some()
}

fn marks(g: &Graph<'_>) -> Marks {
    use crate::rules::deps::*;
    let mut edges = HashMap::new();
    let cycles = if enabled(g, &dependency_cycle::META) {
        g.cycles()
    } else {
        Vec::new()
    };
    for c in &cycles {
        for &e in c {
            edges.insert(e, "FV302 cycle");
        }
    }
    if enabled(g, &dependency_order::META) {
        for e in g.inversions() {
            edges.entry(e).or_insert("FV303 against the order");
        }
    }
    let missing = if enabled(g, &dependency_not_found::META) {
        (0..g.refs.len())
            .filter(|&r| g.refs[r].target == Target::Missing)
            .collect()
    } else {
        Vec::new()
    };
    let gaps = if enabled(g, &dependency_chain_gap::META) {
        g.gaps()
            .into_iter()
            .filter_map(|(n, ts)| ts.first().map(|&t| (t, n)))
            .collect()
    } else {
        Vec::new()
    };
    Marks {
        edges,
        missing,
        gaps,
        cycles,
    }
}

/// Which nodes to draw, in drawing order: components in canonical order, then everything
/// else that has a dependsOn edge, by bring-up level and file order. Objects with no edge and
/// no component would only clutter the picture.
fn drawn(g: &Graph<'_>, only: Option<&[bool]>) -> Vec<usize> {
    let config = &g.repo.config;
    let levels = levels(g);
    let mut touched = vec![false; g.nodes.len()];
    for e in g.edges {
        touched[e.from] = true;
        touched[e.to] = true;
    }
    for r in g.refs {
        touched[r.from] = true;
    }
    let mut picked: Vec<usize> = (0..g.nodes.len())
        .filter(|&i| only.is_none_or(|o| o[i]))
        .filter(|&i| touched[i] || g.nodes[i].component.is_some())
        .collect();
    picked.sort_by_key(|&i| {
        let pos = g.nodes[i]
            .component
            .and_then(|c| config.position(c))
            .unwrap_or(usize::MAX);
        (pos, levels[i].unwrap_or(usize::MAX), i)
    });
    picked
}

/// The bring-up level of each node: 0 for no dependencies, else one more than its deepest
/// dependency. `None` for nodes Flux never applies (on a cycle, or waiting for something
/// missing or never applied).
pub fn levels(g: &Graph<'_>) -> Vec<Option<usize>> {
    let n = g.nodes.len();
    let mut level: Vec<Option<usize>> = vec![None; n];
    let mut blocked = g.malformed.to_vec();
    for r in g.refs {
        if r.target == Target::Missing {
            blocked[r.from] = true;
        }
    }
    // Relax until nothing changes: at most `n` rounds, since every level is below `n`.
    for _ in 0..=n {
        let mut changed = false;
        for i in 0..n {
            if level[i].is_some() || blocked[i] {
                continue;
            }
            let mut deepest = Some(0usize);
            for &e in &g.out[i] {
                match level[g.edges[e].to] {
                    Some(l) => deepest = deepest.map(|d| d.max(l + 1)),
                    None => deepest = None,
                }
            }
            if deepest.is_some() {
                level[i] = deepest;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    level
}

fn kind_short(k: DepKind) -> &'static str {
    k.as_str()
}

fn describe(g: &Graph<'_>, i: usize) -> String {
    let n = g.node(i);
    let base = format!("{} {}", kind_short(n.kind), n.qualified());
    if ambiguous(g, i) {
        format!("{base} ({})", g.repo.path(n.file()))
    } else {
        base
    }
}

/// Whether another node has the same kind, namespace and name (one copy per cluster
/// directory): then the file tells them apart.
fn ambiguous(g: &Graph<'_>, i: usize) -> bool {
    let n = g.node(i);
    g.nodes.iter().enumerate().any(|(j, m)| {
        j != i && m.kind == n.kind && m.name() == n.name() && m.namespace == n.namespace
    })
}

fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// Renders the whole graph, or with `only` the part that node set covers.
fn render_graph(g: &Graph<'_>, format: GraphFormat, only: Option<&[bool]>) -> String {
    let marks = marks(g);
    let nodes = drawn(g, only);
    let shown: BTreeSet<usize> = nodes.iter().copied().collect();
    let edges: Vec<usize> = (0..g.edges.len())
        .filter(|&e| shown.contains(&g.edges[e].from) && shown.contains(&g.edges[e].to))
        .collect();
    let missing: Vec<usize> = marks
        .missing
        .iter()
        .copied()
        .filter(|&r| shown.contains(&g.refs[r].from))
        .collect();
    let gaps: Vec<(usize, usize)> = marks
        .gaps
        .iter()
        .copied()
        .filter(|(a, b)| shown.contains(a) && shown.contains(b))
        .collect();
    match format {
        GraphFormat::Mermaid => mermaid(g, &marks, &nodes, &edges, &missing, &gaps),
        GraphFormat::Dot => dot(g, &marks, &nodes, &edges, &missing, &gaps),
        GraphFormat::Text => text(g, &marks, &nodes),
    }
}

fn mermaid(
    g: &Graph<'_>,
    marks: &Marks,
    nodes: &[usize],
    edges: &[usize],
    missing: &[usize],
    gaps: &[(usize, usize)],
) -> String {
    let mut s = String::new();
    s.push_str("flowchart LR\n");
    s.push_str("  %% fluxvet graph: arrows run from a dependency to what waits for it; red links break a rule\n");
    for &i in nodes {
        let n = g.node(i);
        let mut label = mermaid_text(n.name());
        let ns = n.namespace.unwrap_or("?");
        let _ = write!(label, "<br/>{} · {}", kind_short(n.kind), mermaid_text(ns));
        if let Some(c) = n.component.filter(|c| *c != n.name()) {
            let _ = write!(label, "<br/>component {}", mermaid_text(c));
        }
        if ambiguous(g, i) {
            let _ = write!(label, "<br/>{}", mermaid_text(g.repo.path(n.file())));
        }
        match n.kind {
            DepKind::HelmRelease => {
                let _ = writeln!(s, "  n{i}([\"{label}\"])");
            }
            DepKind::Kustomization => {
                let _ = writeln!(s, "  n{i}[\"{label}\"]");
            }
        }
    }
    for &r in missing {
        let d = &g.refs[r];
        let _ = writeln!(
            s,
            "  m{r}[\"missing: {}<br/>{} · {}\"]:::missing",
            mermaid_text(&d.name),
            kind_short(g.node(d.from).kind),
            mermaid_text(d.namespace.as_deref().unwrap_or("?"))
        );
    }
    let mut red = Vec::new();
    let mut link = 0usize;
    for &e in edges {
        let edge = g.edges[e];
        match marks.edges.get(&e) {
            Some(why) => {
                let _ = writeln!(s, "  n{} -->|{why}| n{}", edge.to, edge.from);
                red.push(link);
            }
            None => {
                let _ = writeln!(s, "  n{} --> n{}", edge.to, edge.from);
            }
        }
        link += 1;
    }
    for &r in missing {
        let _ = writeln!(s, "  m{r} -.->|FV301 not found| n{}", g.refs[r].from);
        red.push(link);
        link += 1;
    }
    for &(a, b) in gaps {
        let _ = writeln!(s, "  n{a} -.->|FV304 no dependsOn| n{b}");
        red.push(link);
        link += 1;
    }
    if !red.is_empty() {
        let list: Vec<String> = red.iter().map(|l| l.to_string()).collect();
        let _ = writeln!(
            s,
            "  linkStyle {} stroke:#d22,stroke-width:3px,color:#d22",
            list.join(",")
        );
    }
    if !missing.is_empty() {
        s.push_str("  classDef missing stroke:#d22,stroke-dasharray:5 5,color:#d22\n");
    }
    s
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot(
    g: &Graph<'_>,
    marks: &Marks,
    nodes: &[usize],
    edges: &[usize],
    missing: &[usize],
    gaps: &[(usize, usize)],
) -> String {
    let mut s = String::new();
    s.push_str("// fluxvet graph: arrows run from a dependency to what waits for it; red edges break a rule\n");
    s.push_str("digraph fluxvet {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for &i in nodes {
        let n = g.node(i);
        let shape = match n.kind {
            DepKind::HelmRelease => "shape=box, style=rounded",
            DepKind::Kustomization => "shape=box",
        };
        let file = if ambiguous(g, i) {
            format!("\\n{}", dot_text(g.repo.path(n.file())))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  n{i} [label=\"{}\\n{} {}{file}\", {shape}];",
            dot_text(n.name()),
            kind_short(n.kind),
            dot_text(n.namespace.unwrap_or("?"))
        );
    }
    for &r in missing {
        let d = &g.refs[r];
        let _ = writeln!(
            s,
            "  m{r} [label=\"missing: {}\\n{} {}\", shape=box, style=dashed, color=red, fontcolor=red];",
            dot_text(&d.name),
            kind_short(g.node(d.from).kind),
            dot_text(d.namespace.as_deref().unwrap_or("?"))
        );
    }
    for &e in edges {
        let edge = g.edges[e];
        match marks.edges.get(&e) {
            Some(why) => {
                let _ = writeln!(
                    s,
                    "  n{} -> n{} [color=red, fontcolor=red, penwidth=2, label=\"{why}\"];",
                    edge.to, edge.from
                );
            }
            None => {
                let _ = writeln!(s, "  n{} -> n{};", edge.to, edge.from);
            }
        }
    }
    for &r in missing {
        let _ = writeln!(
            s,
            "  m{r} -> n{} [color=red, fontcolor=red, style=dashed, label=\"FV301 not found\"];",
            g.refs[r].from
        );
    }
    for &(a, b) in gaps {
        let _ = writeln!(
            s,
            "  n{a} -> n{b} [color=red, fontcolor=red, style=dashed, label=\"FV304 no dependsOn\"];"
        );
    }
    s.push_str("}\n");
    s
}

fn text(g: &Graph<'_>, marks: &Marks, nodes: &[usize]) -> String {
    let config = &g.repo.config;
    let mut s = String::new();
    let _ = writeln!(s, "Canonical order: {}", config.order.join(" -> "));
    let present: Vec<String> = config
        .order
        .iter()
        .filter_map(|c| {
            let of: Vec<String> = nodes
                .iter()
                .filter(|&&i| g.node(i).component == Some(c.as_str()))
                .map(|&i| describe(g, i))
                .collect();
            (!of.is_empty()).then(|| format!("  {c}: {}", of.join(", ")))
        })
        .collect();
    if present.is_empty() {
        s.push_str("No component of the order is present.\n");
    } else {
        s.push_str("Present:\n");
        for p in present {
            let _ = writeln!(s, "{p}");
        }
    }

    let levels = levels(g);
    let waits_for = |i: usize| -> String {
        let mut names: Vec<String> = g.out[i]
            .iter()
            .map(|&e| {
                let to = g.node(g.edges[e].to).name().to_string();
                match marks.edges.get(&e) {
                    Some(why) => format!("{to} [✗ {why}]"),
                    None => to,
                }
            })
            .collect();
        for r in g.refs.iter().filter(|r| r.from == i) {
            if r.target == Target::Missing {
                names.push(format!("{} [✗ FV301 not found]", r.qualified()));
            }
        }
        if g.malformed[i] {
            names.push("[✗ FV305 malformed dependsOn: the API server rejects it]".to_string());
        }
        names.join(", ")
    };
    let max = nodes.iter().filter_map(|&i| levels[i]).max();
    s.push_str("\nBring-up order (Flux applies each level once the levels above are Ready):\n");
    if let Some(max) = max {
        for l in 0..=max {
            let at: Vec<usize> = {
                let mut v: Vec<usize> = nodes
                    .iter()
                    .copied()
                    .filter(|&i| levels[i] == Some(l))
                    .collect();
                v.sort();
                v
            };
            if at.is_empty() {
                continue;
            }
            let _ = writeln!(s, "  level {l}");
            for i in at {
                let w = waits_for(i);
                if w.is_empty() {
                    let _ = writeln!(s, "    {}", describe(g, i));
                } else {
                    let _ = writeln!(s, "    {}  <- waits for {w}", describe(g, i));
                }
            }
        }
    } else {
        s.push_str("  (nothing)\n");
    }
    let never: Vec<usize> = nodes
        .iter()
        .copied()
        .filter(|&i| levels[i].is_none())
        .collect();
    if !never.is_empty() {
        s.push_str("\nNever applied (rejected, waiting for something missing, on a cycle, or behind one):\n");
        for i in never {
            let _ = writeln!(s, "    {}  <- waits for {}", describe(g, i), waits_for(i));
        }
    }
    if !marks.cycles.is_empty() || !marks.gaps.is_empty() {
        s.push_str("\nProblems:\n");
    }
    for c in &marks.cycles {
        let mut names: Vec<&str> = c.iter().map(|&e| g.node(g.edges[e].from).name()).collect();
        if let Some(&first) = names.first() {
            names.push(first);
        }
        let _ = writeln!(s, "  ✗ FV302 cycle: {}", names.join(" -> "));
    }
    {
        for &(a, b) in &marks.gaps {
            let _ = writeln!(
                s,
                "  ✗ FV304 {} does not wait for {}",
                describe(g, b),
                describe(g, a)
            );
        }
    }
    s
}

/// `fluxvet graph`: the whole graph.
pub fn render(g: &Graph<'_>, format: GraphFormat) -> String {
    render_graph(g, format, None)
}

/// `fluxvet graph --roots-of NAME`: the chains from the roots to `query`, in bring-up order
/// (text), or the part of the graph they cover (Mermaid, DOT). `Err` explains a name that
/// matches nothing.
pub fn roots_of(g: &Graph<'_>, query: &str, format: GraphFormat) -> Result<String, String> {
    let targets = g.find(query);
    if targets.is_empty() {
        let name = query.rsplit('/').next().unwrap_or(query);
        let hint = match g.closest_name(name, None) {
            Some(c) => format!("; did you mean `{c}`?"),
            None => String::new(),
        };
        return Err(format!(
            "no HelmRelease or Kustomization named `{query}` in this repository{hint}"
        ));
    }
    if format != GraphFormat::Text {
        let mut only = vec![false; g.nodes.len()];
        for &t in &targets {
            only[t] = true;
            for (i, r) in g.reachable(t).into_iter().enumerate() {
                only[i] |= r;
            }
        }
        return Ok(render_graph(g, format, Some(&only)));
    }
    let mut s = String::new();
    for &t in &targets {
        let _ = writeln!(s, "{} comes up after (root first):", describe(g, t));
        let mut chains = Vec::new();
        let mut path = vec![t];
        walk(g, &mut path, &mut chains);
        let total = chains.len();
        for c in chains.iter().take(MAX_CHAINS) {
            let _ = writeln!(s, "  {c}");
        }
        if total > MAX_CHAINS {
            let _ = writeln!(s, "  … and {} more chains", total - MAX_CHAINS);
        }
    }
    Ok(s)
}

const MAX_CHAINS: usize = 50;
/// Stops a pathological graph from enumerating paths forever; far above what `MAX_CHAINS` shows.
const WALK_LIMIT: usize = 10_000;

/// Every path from the last node of `path` down to a root (or a missing dependency, or back
/// onto the path: a cycle), written root first.
fn walk(g: &Graph<'_>, path: &mut Vec<usize>, chains: &mut Vec<String>) {
    if chains.len() >= WALK_LIMIT {
        return;
    }
    let Some(&here) = path.last() else {
        return;
    };
    let render = |path: &[usize], head: Option<String>| -> String {
        let mut parts: Vec<String> = head.into_iter().collect();
        parts.extend(path.iter().rev().map(|&i| g.node(i).name().to_string()));
        parts.join(" -> ")
    };
    let mut ended = true;
    for r in g.refs.iter().filter(|r| r.from == here) {
        if r.target == Target::Missing {
            chains.push(render(
                path,
                Some(format!("✗ missing `{}` (FV301)", r.qualified())),
            ));
            ended = false;
        }
    }
    for &e in &g.out[here] {
        let to = g.edges[e].to;
        ended = false;
        if path.contains(&to) {
            chains.push(render(
                path,
                Some(format!("✗ cycle through `{}` (FV302)", g.node(to).name())),
            ));
            continue;
        }
        path.push(to);
        walk(g, path, chains);
        path.pop();
    }
    if ended {
        chains.push(render(path, None));
    }
}
