//! Command-line flags, declared as data with their help in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emit::Format;

#[derive(Parser, Debug)]
#[command(
    name = "fluxvet",
    version,
    about = "Lint a Flux CD GitOps repository before Flux sees it",
    long_about = "fluxvet checks the YAML, chart versions, dependsOn chains, references and secrets of a \
Flux CD repository, on your laptop and in CI, before Flux reconciles it.\n\n\
Exit codes: 0 no errors, 1 errors found (or warnings with --deny-warnings), 2 usage, config or I/O problem.",
    after_help = "Examples:\n  fluxvet check                      check the repository in the current directory\n  \
fluxvet check --format json        the stable JSON report, for editors and scripts\n  \
fluxvet check --changed-since main only findings in files this branch changed\n  \
fluxvet graph --format mermaid     the dependsOn graph, to paste into a pull request\n  \
fluxvet diff --base main           what this branch changes in the cluster\n  \
fluxvet rules                      list every rule\n  \
fluxvet explain FV202              what a rule checks and how to fix it\n  \
fluxvet install-hook               lint every git push"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a repository (the default path is `.`) and report every finding.
    Check(CheckArgs),
    /// Draw the dependsOn graph of HelmReleases and Kustomizations, rule-breaking edges marked.
    Graph(GraphArgs),
    /// Print the chart version each HelmRelease pins in each configured environment
    /// (`environments` in .fluxvet.yaml); `!` marks a version promoted past an earlier one.
    Versions(VersionsArgs),
    /// Preview what a change does in the cluster: objects added, removed and modified between
    /// two revisions (by identity, not by file), and what Flux will do about them.
    Diff(DiffArgs),
    /// List every rule: code, name, default severity and what it checks.
    Rules {
        /// `markdown` prints the table the README carries.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Print a rule's documentation, by code (`FV202`) or name (`chart-version-unpinned`).
    Explain {
        /// The rule's code or name.
        rule: String,
    },
    /// Print the objects the kustomize build of a directory produces (in process, as kustomize
    /// v5 and Flux build it), each value optionally with the file and line that set it.
    Build(BuildArgs),
    /// Write a git pre-push hook that lints exactly the commits being pushed.
    InstallHook(InstallHookArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Grouped by the Flux Kustomization or HelmRelease that applies each object.
    Text,
    Json,
    /// For a pull-request comment.
    Markdown,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  fluxvet diff                           working tree against the merge base with upstream\n  \
fluxvet diff --base main --head HEAD   what the current branch's commits change\n  \
fluxvet diff --format markdown > comment.md"
)]
pub struct DiffArgs {
    /// The repository directory (default: `.`).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// The revision to compare from (default: the merge base with the upstream branch, else HEAD).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The revision to compare to, or `worktree` for the files on disk.
    #[arg(long, value_name = "REV", default_value = "worktree")]
    pub head: String,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// When to colour the text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Config file (default: `.fluxvet.yaml` of each revision).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  fluxvet graph --format mermaid     paste into a pull request\n  \
fluxvet graph --format dot | dot -Tsvg > deps.svg\n  \
fluxvet graph --roots-of harbor    the chains Flux must bring up before harbor"
)]
pub struct GraphArgs {
    /// The repository (default: `.`).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Output format: text shows the bring-up order; mermaid and dot draw the graph.
    #[arg(long, value_enum, default_value_t = crate::graph_render::GraphFormat::Text)]
    pub format: crate::graph_render::GraphFormat,
    /// Only the chains from the root(s) to this object (`name`, `namespace/name` or
    /// `Kind/namespace/name`).
    #[arg(long, value_name = "NAME")]
    pub roots_of: Option<String>,
    /// Config file (default: `.fluxvet.yaml` at the repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip paths matching this glob (repeatable), in addition to the config's `exclude`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BuildFormat {
    /// Documents as `kubectl kustomize` prints them.
    Yaml,
    /// One object with `objects` (each with its `origins` by JSON pointer), `errors`, `gaps`.
    Json,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  fluxvet build apps/production                 what Flux applies from that path\n  \
fluxvet build apps/production --show-origin   where each value was set\n  \
fluxvet build . --format json"
)]
pub struct BuildArgs {
    /// The directory to build (default: `.`).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// The repository root that relative references may reach (default: the enclosing git
    /// work tree, else the current directory when PATH is below it, else PATH).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = BuildFormat::Yaml)]
    pub format: BuildFormat,
    /// Add a `# file:line:col` comment to every value (YAML output).
    #[arg(long)]
    pub show_origin: bool,
    /// When to colour findings (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Args, Debug)]
pub struct InstallHookArgs {
    /// Replace an existing pre-push hook (a foreign one is kept as `pre-push.fluxvet-backup`).
    #[arg(long)]
    pub force: bool,
    /// Extra arguments for every `fluxvet check` the hook runs, after `--`
    /// (e.g. `-- --deny-warnings clusters`).
    #[arg(last = true, value_name = "CHECK_ARGS")]
    pub check_args: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Markdown,
    Json,
    /// The full documentation page (`docs/rules.md`).
    Docs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check; a single directory is the repository root.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour the text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Config file (default: `.fluxvet.yaml` at the repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip paths matching this glob (repeatable), in addition to the config's `exclude`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Check the files of this commit (e.g. what is being pushed) instead of the working tree;
    /// the config is read from that commit too.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Report only findings in files changed since REV (from where the checked commit or working
    /// tree left it); the whole tree is still read, so cross-file rules stay right.
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Leave the elapsed time out of the text summary, so two runs on the same files print
    /// byte-identical reports (other formats never carry it).
    #[arg(long)]
    pub no_timing: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VersionsFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
pub struct VersionsArgs {
    /// The repository root (default `.`).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VersionsFormat::Text)]
    pub format: VersionsFormat,
    /// When to colour the text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Config file (default: `.fluxvet.yaml` at the repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}
