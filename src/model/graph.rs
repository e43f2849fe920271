//! The dependsOn graph of a repository's HelmReleases and Kustomizations, resolved as Flux
//! resolves it: same kind only, the namespace defaulting to the referring object's. The 3xx
//! rules and `fluxvet graph` both read it, so the command draws exactly what the rules judge.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::diag::FileId;
use crate::flux_api::FluxKind;
use crate::model::derived::Derived;
use crate::model::index::{Object, Repository, parent_dir};
use crate::source::Span;
use crate::yaml::NodeRef;

/// The two Flux kinds that carry `spec.dependsOn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    HelmRelease,
    Kustomization,
}

impl DepKind {
    pub fn of(object: &Object) -> Option<DepKind> {
        match object.flux {
            Some(FluxKind::HelmRelease) => Some(DepKind::HelmRelease),
            Some(FluxKind::Kustomization) => Some(DepKind::Kustomization),
            _ => None,
        }
    }
    pub fn flux(self) -> FluxKind {
        match self {
            DepKind::HelmRelease => FluxKind::HelmRelease,
            DepKind::Kustomization => FluxKind::Kustomization,
        }
    }
    pub fn as_str(self) -> &'static str {
        self.flux().name()
    }
    pub fn other(self) -> DepKind {
        match self {
            DepKind::HelmRelease => DepKind::Kustomization,
            DepKind::Kustomization => DepKind::HelmRelease,
        }
    }
}

pub struct Node<'r> {
    pub object: &'r Object,
    pub kind: DepKind,
    /// The effective namespace, when the files tell it.
    pub namespace: Option<&'r str>,
    /// The component of the canonical order this object stands for.
    pub component: Option<&'r str>,
}

impl Node<'_> {
    pub fn name(&self) -> &str {
        &self.object.name
    }
    pub fn file(&self) -> FileId {
        self.object.file
    }
    /// `namespace/name`, or the bare name when the namespace is unknown.
    pub fn qualified(&self) -> String {
        match self.namespace {
            Some(ns) => format!("{ns}/{}", self.object.name),
            None => self.object.name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The nodes the entry names (several only when the repository defines the same object in
    /// several places equally close to the referrer, e.g. two clusters).
    Resolved(Vec<usize>),
    /// No object of the same kind has this name in that namespace.
    Missing,
    /// The name or namespace is filled in by post-build substitution (`${VAR}`).
    Substituted,
    /// A typed reference to another kind (`kind:` in the entry, a provisional Flux RFC): not
    /// judged here.
    Typed,
}

/// One well-formed `spec.dependsOn` entry.
pub struct DepRef {
    pub from: usize,
    pub name: String,
    /// The namespace Flux will look in (the entry's, else the referrer's); `None` when unknown.
    pub namespace: Option<String>,
    pub explicit_namespace: bool,
    /// The entry as a whole (the `- name: …` mapping).
    pub entry_span: Span,
    pub name_span: Span,
    pub target: Target,
}

impl DepRef {
    pub fn qualified(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The dependent.
    pub from: usize,
    /// What it waits for.
    pub to: usize,
    /// Index into [`Graph::refs`].
    pub dep: usize,
}

/// A view of the repository's graph. The resolved part ([`GraphData`]) is built once per
/// repository and shared: the four 3xx rules each used to resolve every dependsOn themselves.
pub struct Graph<'r> {
    pub repo: &'r Repository,
    pub nodes: Vec<Node<'r>>,
    pub refs: &'r [DepRef],
    /// Resolved edges, one per (entry, target), in file order; duplicates of the same pair are
    /// dropped.
    pub edges: &'r [Edge],
    /// Outgoing edges (indices into `edges`) per node.
    pub out: &'r [Vec<usize>],
    /// Nodes with a dependsOn entry that resolves to nothing known (missing, substituted,
    /// typed or malformed): their chain cannot be judged for gaps.
    pub unsure: &'r [bool],
    /// Nodes whose dependsOn the API server rejects (FV305): never applied.
    pub malformed: &'r [bool],
}

/// The resolved graph, owned so that [`Repository`] can keep it ([`Repository::dep_graph`]).
pub struct GraphData {
    /// Per node: index into [`Repository::objects`], kind and effective namespace.
    nodes: Vec<(usize, DepKind, Option<String>)>,
    refs: Vec<DepRef>,
    edges: Vec<Edge>,
    out: Vec<Vec<usize>>,
    unsure: Vec<bool>,
    malformed: Vec<bool>,
}

fn substituted(s: &str) -> bool {
    s.contains("${")
}

/// The `spec.dependsOn` value of a HelmRelease or Kustomization, when present and not null.
pub fn depends_on<'a>(root: NodeRef<'a>) -> Option<NodeRef<'a>> {
    root.path(&["spec", "dependsOn"]).filter(|v| !v.is_null())
}

impl<'r> Graph<'r> {
    /// The graph of what the repository's clusters apply (every HelmRelease and Kustomization
    /// without clusters), built once per repository.
    pub fn build(repo: &'r Repository) -> Graph<'r> {
        Graph::view(repo, repo.dep_graph())
    }

    /// A view of `data`, e.g. one cluster's graph from [`GraphData::of_cluster`].
    pub fn view(repo: &'r Repository, data: &'r GraphData) -> Graph<'r> {
        let nodes = data
            .nodes
            .iter()
            .map(|(o, kind, namespace)| {
                let object = &repo.objects[*o];
                Node {
                    object,
                    kind: *kind,
                    namespace: namespace.as_deref(),
                    component: repo.config.component_of(&object.name),
                }
            })
            .collect();
        Graph {
            repo,
            nodes,
            refs: &data.refs,
            edges: &data.edges,
            out: &data.out,
            unsure: &data.unsure,
            malformed: &data.malformed,
        }
    }
}

impl Derived for GraphData {}

impl Repository {
    /// The resolved dependsOn graph of what the clusters apply, built on first use;
    /// [`Graph::build`] views it.
    pub fn dep_graph(&self) -> &GraphData {
        self.derived.get_or_init(|| GraphData::build(self))
    }
}

/// Whether `o` is the sync Kustomization of `cluster`: the bootstrap applies it, so it is in
/// the cluster (and a dependsOn on it resolves) even when the cluster's build leaves its file out.
fn is_sync(repo: &Repository, cluster: &crate::model::clusters::Cluster, o: &Object) -> bool {
    cluster
        .sync_kustomization
        .is_some_and(|i| std::ptr::eq(&repo.objects[i], o))
}

impl GraphData {
    /// What some cluster applies: an object in a file no cluster's build includes is in no
    /// cluster, and a dependsOn naming it waits forever.
    fn build(repo: &Repository) -> GraphData {
        let tree = repo.reconcile_tree();
        GraphData::build_where(repo, &|o| {
            tree.reaches(repo, o.file) || repo.clusters().iter().any(|c| is_sync(repo, c, o))
        })
    }

    /// What the cluster at `index` of `Repository::clusters` applies.
    pub fn of_cluster(repo: &Repository, index: usize) -> GraphData {
        let tree = repo.reconcile_tree();
        GraphData::build_where(repo, &|o| {
            tree.clusters_of(o.file).contains(&(index as u16))
                || is_sync(repo, &repo.clusters()[index], o)
        })
    }

    fn build_where(repo: &Repository, keep: &dyn Fn(&Object) -> bool) -> GraphData {
        // Sized up front and filled in place: grown and copied, these lists were a good part
        // of this function's time (fresh memory, page faults).
        let candidates: Vec<(usize, &Object)> = repo
            .of_kinds(&[FluxKind::HelmRelease, FluxKind::Kustomization])
            .filter(|(_, o)| keep(o))
            .collect();
        let mut slots: Vec<usize> = Vec::with_capacity(candidates.len());
        let mut nodes: Vec<Node<'_>> = Vec::with_capacity(candidates.len());
        for (i, o) in candidates {
            let Some(kind) = DepKind::of(o) else {
                continue;
            };
            slots.push(i);
            nodes.push(Node {
                object: o,
                kind,
                namespace: repo.effective_namespace(o),
                component: repo.config.component_of(&o.name),
            });
        }
        // Objects come in file order already; keep it stable for deterministic output.
        let key = |n: &Node<'_>| (n.object.file, n.object.doc);
        if !nodes.is_sorted_by_key(key) {
            let mut order: Vec<usize> = (0..nodes.len()).collect();
            order.sort_by_key(|&i| key(&nodes[i]));
            slots = order.iter().map(|&i| slots[i]).collect();
            let mut taken: Vec<Option<Node<'_>>> = nodes.into_iter().map(Some).collect();
            nodes = order.iter().filter_map(|&i| taken[i].take()).collect();
        }
        let mut by_name: HashMap<(DepKind, &str), Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            by_name
                .entry((n.kind, n.object.name.as_str()))
                .or_default()
                .push(i);
        }

        // Most nodes have a dependsOn entry or two; growing from empty was fresh memory.
        let mut refs = Vec::with_capacity(nodes.len());
        let mut unsure = vec![false; nodes.len()];
        let mut malformed = vec![false; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            let Some(list) = depends_on(repo.node(n.object)) else {
                continue;
            };
            if !list.is_sequence() && !list.as_str().is_some_and(substituted) {
                malformed[i] = true;
            }
            for item in list.items() {
                let Some(dep) = read_entry(item) else {
                    malformed[i] |= !item.as_str().is_some_and(substituted);
                    unsure[i] = true;
                    continue;
                };
                let (name, name_span, ns, kind) = dep;
                let explicit_namespace = ns.is_some();
                let namespace = ns.or_else(|| n.namespace.map(str::to_string));
                let target = if kind.as_deref().is_some_and(|k| k != n.kind.as_str()) {
                    Target::Typed
                } else if substituted(&name) || namespace.as_deref().is_some_and(substituted) {
                    Target::Substituted
                } else {
                    let found: Vec<usize> = by_name
                        .get(&(n.kind, name.as_str()))
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|&t| namespaces_match(namespace.as_deref(), nodes[t].namespace))
                        .filter(|&t| share_a_cluster(repo, n.object.file, nodes[t].file()))
                        .collect();
                    if found.is_empty() {
                        Target::Missing
                    } else {
                        Target::Resolved(closest(repo, n.object.file, &nodes, found))
                    }
                };
                unsure[i] |= !matches!(target, Target::Resolved(_));
                refs.push(DepRef {
                    from: i,
                    name,
                    namespace,
                    explicit_namespace,
                    entry_span: item.span(),
                    name_span,
                    target,
                });
            }
        }

        let mut edges: Vec<Edge> = Vec::new();
        let mut out = vec![Vec::new(); nodes.len()];
        for (d, r) in refs.iter().enumerate() {
            if let Target::Resolved(ts) = &r.target {
                for &t in ts {
                    // Only `r.from`'s own edges can repeat the pair; scanning every edge
                    // would be quadratic.
                    if out[r.from].iter().any(|&e: &usize| edges[e].to == t) {
                        continue;
                    }
                    out[r.from].push(edges.len());
                    edges.push(Edge {
                        from: r.from,
                        to: t,
                        dep: d,
                    });
                }
            }
        }
        GraphData {
            nodes: slots
                .into_iter()
                .zip(&nodes)
                .map(|(o, n)| (o, n.kind, n.namespace.map(str::to_string)))
                .collect(),
            refs,
            edges,
            out,
            unsure: unsure
                .iter()
                .zip(&malformed)
                .map(|(u, m)| *u || *m)
                .collect(),
            malformed,
        }
    }
}

impl<'r> Graph<'r> {
    pub fn node(&self, i: usize) -> &Node<'r> {
        &self.nodes[i]
    }

    /// The clusters applying `r`'s referrer in which nothing it names is applied: a file two
    /// clusters apply whose dependency only one of them has. Empty when each has one, or when
    /// fewer than two clusters are known to apply the referrer.
    pub fn clusters_lacking(&self, r: &DepRef) -> Vec<u16> {
        let repo = self.repo;
        let tree = repo.reconcile_tree();
        let from = self.node(r.from);
        let mine = tree.clusters_known(from.file());
        if mine.len() < 2 {
            return Vec::new();
        }
        let targets: Vec<&Node<'_>> = self
            .nodes
            .iter()
            .filter(|n| {
                n.kind == from.kind
                    && n.name() == r.name
                    && namespaces_match(r.namespace.as_deref(), n.namespace)
            })
            .collect();
        mine.into_iter()
            .filter(|&c| {
                !targets.iter().any(|n| {
                    let theirs = tree.clusters_known(n.file());
                    theirs.is_empty()
                        || theirs.contains(&c)
                        || repo
                            .clusters()
                            .get(c as usize)
                            .is_some_and(|cluster| is_sync(repo, cluster, n.object))
                })
            })
            .collect()
    }

    /// Nodes reachable from `start` through one or more edges.
    pub fn reachable(&self, start: usize) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        let mut queue: VecDeque<usize> = VecDeque::new();
        queue.push_back(start);
        while let Some(n) = queue.pop_front() {
            for &e in &self.out[n] {
                let t = self.edges[e].to;
                if !seen[t] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
        seen
    }

    /// Every elementary cycle worth reporting, each as its edges in order, starting at the
    /// edge that leaves the cycle's smallest node. Self-dependencies first; then, per strongly
    /// connected component, the shortest cycle through each edge not yet covered.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut found: Vec<Vec<usize>> = Vec::new();
        let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
        for (i, e) in self.edges.iter().enumerate() {
            if e.from == e.to {
                found.push(vec![i]);
            }
        }
        let scc = self.strongly_connected();
        let mut covered = vec![false; self.edges.len()];
        for (i, e) in self.edges.iter().enumerate() {
            if e.from == e.to || covered[i] || scc[e.from] != scc[e.to] {
                continue;
            }
            let Some(back) = self.shortest_path(e.to, e.from, scc[e.from], &scc) else {
                continue;
            };
            let mut cycle = vec![i];
            cycle.extend(back);
            let Some(start) = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, c)| self.edges[**c].from)
                .map(|(p, _)| p)
            else {
                continue;
            };
            cycle.rotate_left(start);
            for &c in &cycle {
                covered[c] = true;
            }
            if seen.insert(cycle.clone()) {
                found.push(cycle);
            }
        }
        found
    }

    /// Edges of the shortest path from `from` to `to` inside one strongly connected component.
    fn shortest_path(
        &self,
        from: usize,
        to: usize,
        comp: usize,
        scc: &[usize],
    ) -> Option<Vec<usize>> {
        if from == to {
            return Some(Vec::new());
        }
        let mut via: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut queue = VecDeque::from([from]);
        let mut visited = vec![false; self.nodes.len()];
        visited[from] = true;
        while let Some(n) = queue.pop_front() {
            for &e in &self.out[n] {
                let t = self.edges[e].to;
                if visited[t] || scc[t] != comp {
                    continue;
                }
                visited[t] = true;
                via[t] = Some(e);
                if t == to {
                    let mut path = Vec::new();
                    let mut cur = to;
                    while cur != from {
                        let e = via[cur]?;
                        path.push(e);
                        cur = self.edges[e].from;
                    }
                    path.reverse();
                    return Some(path);
                }
                queue.push_back(t);
            }
        }
        None
    }

    /// Tarjan's algorithm, iterative so a deep chain cannot overflow the stack. Returns the
    /// component id of every node.
    fn strongly_connected(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut comp = vec![usize::MAX; n];
        let mut next_index = 0;
        let mut next_comp = 0;
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work: Vec<(usize, usize)> = vec![(root, 0)];
            index[root] = next_index;
            low[root] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut pos)) = work.last_mut() {
                if *pos < self.out[v].len() {
                    let w = self.edges[self.out[v][*pos]].to;
                    *pos += 1;
                    if index[w] == usize::MAX {
                        index[w] = next_index;
                        low[w] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
        comp
    }

    /// Edges that point against the canonical order: the dependent's component comes before
    /// the dependency's.
    pub fn inversions(&self) -> Vec<usize> {
        let config = &self.repo.config;
        self.edges
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                let (Some(a), Some(b)) = (self.nodes[e.from].component, self.nodes[e.to].component)
                else {
                    return false;
                };
                matches!((config.position(a), config.position(b)), (Some(pa), Some(pb)) if pb > pa)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Components that do not wait, directly or transitively, for the nearest earlier component
    /// present as the same kind: `(node, the nodes of that earlier component)`.
    ///
    /// Each kind is judged on its own graph, since Flux never lets one kind wait for the other.
    /// A HelmRelease that its own chain leaves unordered still counts as ordered when the Flux
    /// Kustomization that applies it waits for the one that applies the earlier component (the
    /// usual "one Kustomization per app" layout, where the HelmReleases carry no dependsOn).
    pub fn gaps(&self) -> Vec<(usize, Vec<usize>)> {
        let config = &self.repo.config;
        let mut out = Vec::new();
        // Only a repository that adopted an order (`order:` in its config) is held to it: on
        // others, "wait for the nearest earlier component" told core components to wait for
        // optional add-ons.
        if !config.order_adopted {
            return out;
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(pos) = n.component.and_then(|c| config.position(c)) else {
                continue;
            };
            // Copies of one object (a kustomize patch of a base, or one copy per cluster) are
            // judged together, once: a patch without dependsOn keeps the base's.
            let twins: Vec<usize> = (0..self.nodes.len())
                .filter(|&j| self.same_object(i, j))
                .collect();
            if twins.first() != Some(&i) {
                continue;
            }
            // FV301/FV305 already report such a node, and fixing the entry may close the gap.
            if twins.iter().any(|&t| self.unsure[t]) {
                continue;
            }
            let earlier = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, m)| m.kind == n.kind)
                .filter_map(|(j, m)| Some((config.position(m.component?)?, j)))
                .filter(|&(p, _)| p < pos)
                .max_by_key(|&(p, _)| p)
                .map(|(p, _)| p);
            let Some(prev) = earlier else {
                continue;
            };
            let targets: Vec<usize> = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, m)| {
                    m.kind == n.kind && m.component.and_then(|c| config.position(c)) == Some(prev)
                })
                .map(|(j, _)| j)
                .collect();
            let ordered = twins.iter().any(|&t| {
                let reach = self.reachable(t);
                targets.iter().any(|&p| reach[p])
                    || (n.kind == DepKind::HelmRelease && self.ordered_by_wrappers(t, &targets))
            });
            let wrapped = n.kind == DepKind::HelmRelease && self.left_to_wrapper(&twins);
            if !ordered && !wrapped {
                out.push((i, targets));
            }
        }
        out
    }

    /// Whether two nodes are the same Kubernetes object (kind, namespace and name).
    fn same_object(&self, a: usize, b: usize) -> bool {
        let (x, y) = (&self.nodes[a], &self.nodes[b]);
        x.kind == y.kind && x.name() == y.name() && x.namespace == y.namespace
    }

    /// Whether HelmReleases without dependsOn of their own are ordered by a Flux Kustomization
    /// that applies them and stands for the same component: its gap, if any, is reported on
    /// the Kustomization, where the fix goes, and not a second time on the HelmRelease.
    fn left_to_wrapper(&self, twins: &[usize]) -> bool {
        twins.iter().all(|&t| self.out[t].is_empty())
            && twins.iter().any(|&t| {
                let component = self.nodes[t].component;
                self.wrappers(self.nodes[t].file()).into_iter().any(|o| {
                    self.nodes.iter().any(|m| {
                        m.kind == DepKind::Kustomization
                            && std::ptr::eq(m.object, o)
                            && m.component == component
                    })
                })
            })
    }

    /// The Flux Kustomizations that apply `file`: from the reconcile tree, which follows
    /// kustomize `resources` (an overlay's `../base/app`), else those whose path holds it.
    fn wrappers(&self, file: FileId) -> Vec<&'r Object> {
        let repo = self.repo;
        let applied: Vec<&'r Object> = repo
            .reconcile_tree()
            .appliers(file)
            .iter()
            .filter_map(|(i, _)| repo.objects.get(*i))
            .collect();
        if applied.is_empty() {
            repo.kustomizations_containing(file)
        } else {
            applied
        }
    }

    /// Whether a Flux Kustomization applying node `n` waits for one applying any of `targets`.
    fn ordered_by_wrappers(&self, n: usize, targets: &[usize]) -> bool {
        let ks_node = |o: &Object| {
            self.nodes
                .iter()
                .position(|m| m.kind == DepKind::Kustomization && std::ptr::eq(m.object, o))
        };
        let mine: Vec<usize> = self
            .wrappers(self.nodes[n].file())
            .into_iter()
            .filter_map(ks_node)
            .collect();
        let theirs: BTreeSet<usize> = targets
            .iter()
            .flat_map(|&t| self.wrappers(self.nodes[t].file()))
            .filter_map(ks_node)
            .collect();
        mine.iter().any(|&a| {
            let reach = self.reachable(a);
            theirs.iter().any(|&b| a != b && reach[b])
        })
    }

    /// Nodes by name (`name`, `namespace/name` or `Kind/namespace/name`).
    pub fn find(&self, query: &str) -> Vec<usize> {
        let parts: Vec<&str> = query.split('/').collect();
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| match parts.as_slice() {
                [name] => n.name() == *name,
                [ns, name] => n.name() == *name && n.namespace.is_none_or(|x| x == *ns),
                [kind, ns, name] => {
                    n.kind.as_str().eq_ignore_ascii_case(kind)
                        && n.name() == *name
                        && n.namespace.is_none_or(|x| x == *ns)
                }
                _ => false,
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The closest existing name to `name` among nodes of `kind` (any kind when `None`), for
    /// "did you mean" help: edit distance at most a third of the name, and at most 3.
    pub fn closest_name(&self, name: &str, kind: Option<DepKind>) -> Option<&str> {
        let limit = (name.chars().count() / 3).clamp(1, 3);
        self.nodes
            .iter()
            .filter(|n| kind.is_none_or(|k| n.kind == k) && n.name() != name)
            .map(|n| (edit_distance(name, n.name()), n.name()))
            .filter(|&(d, _)| d <= limit)
            .min()
            .map(|(_, s)| s)
    }
}

/// Reads one entry: `(name, name span, namespace, kind)`; `None` when malformed (FV305's job)
/// or empty.
fn read_entry(item: NodeRef<'_>) -> Option<(String, Span, Option<String>, Option<String>)> {
    if !item.is_mapping() {
        return None;
    }
    let name_node = item.get("name")?;
    let name = name_node.as_str().filter(|s| !s.is_empty())?;
    let namespace = item
        .get("namespace")
        .and_then(|n| n.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let kind = item
        .get("kind")
        .and_then(|n| n.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Some((name.to_string(), name_node.span(), namespace, kind))
}

/// Flux looks in exactly one namespace; when either side's is unknown statically, only the
/// name can be compared.
fn namespaces_match(wanted: Option<&str>, actual: Option<&str>) -> bool {
    match (wanted, actual) {
        (Some(w), Some(a)) => w == a,
        _ => true,
    }
}

/// Whether some cluster applies both files: dependsOn names an object of the referrer's own
/// cluster (its API server), never one only another cluster applies. A file whose clusters are
/// unknown (no cluster reaches it, a sync file its build leaves out, a tree applied by hand)
/// matches every cluster.
fn share_a_cluster(repo: &Repository, a: FileId, b: FileId) -> bool {
    let tree = repo.reconcile_tree();
    let (of_a, of_b) = (tree.clusters_known(a), tree.clusters_known(b));
    of_a.is_empty() || of_b.is_empty() || of_a.iter().any(|c| of_b.contains(c))
}

/// Among several definitions of the same object, those nearest the referrer in the directory
/// tree: a repository with one directory per cluster defines `flux-system/apps` once per
/// cluster, and each cluster's objects refer to their own.
fn closest(repo: &Repository, from: FileId, nodes: &[Node<'_>], found: Vec<usize>) -> Vec<usize> {
    if found.len() < 2 {
        return found;
    }
    let here = parent_dir(repo.path(from));
    let shared = |t: usize| common_segments(here, parent_dir(repo.path(nodes[t].file())));
    let best = found.iter().map(|&t| shared(t)).max().unwrap_or(0);
    found.into_iter().filter(|&t| shared(t) == best).collect()
}

fn common_segments(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y && !x.is_empty())
        .count()
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::check_memory;

    fn ks(name: &str, deps: &[&str]) -> String {
        let mut s = format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n"
        );
        if !deps.is_empty() {
            s.push_str("  dependsOn:\n");
            for d in deps {
                s.push_str(&format!("    - name: {d}\n"));
            }
        }
        s
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kyverno", "kyvern"), 1);
        assert_eq!(edit_distance("cert-manager", "cert-manger"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn each_cluster_resolves_to_its_own_copy() {
        let files = [
            ("clusters/a/infra.yaml", ks("infra", &[])),
            ("clusters/a/apps.yaml", ks("apps", &["infra"])),
            ("clusters/b/infra.yaml", ks("infra", &[])),
            ("clusters/b/apps.yaml", ks("apps", &["infra"])),
        ];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = check_memory(&files, Config::default());
        let g = Graph::build(&out.repo);
        assert_eq!(g.edges.len(), 2);
        for e in g.edges {
            assert_eq!(
                parent_dir(out.repo.path(g.nodes[e.from].file())),
                parent_dir(out.repo.path(g.nodes[e.to].file()))
            );
        }
    }

    #[test]
    fn one_cycle_per_loop_starting_at_the_smallest_node() {
        let files = [
            ("a.yaml", ks("a", &["b"])),
            ("b.yaml", ks("b", &["c"])),
            ("c.yaml", ks("c", &["a", "c"])),
        ];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let out = check_memory(&files, Config::default());
        let g = Graph::build(&out.repo);
        let cycles = g.cycles();
        assert_eq!(cycles.len(), 2, "self-loop and the 3-cycle");
        let three = &cycles[1];
        assert_eq!(three.len(), 3);
        assert_eq!(g.nodes[g.edges[three[0]].from].name(), "a");
    }
}
