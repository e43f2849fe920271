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
fluxvet check --changed-since main the findings this branch introduces\n  \
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
    /// Write a git pre-push hook that lints exactly the commits being pushed. Running it again is
    /// safe: the same hook is left alone, an older fluxvet hook is updated, another hook is kept
    /// unless --force.
    InstallHook(InstallHookArgs),
    /// Run the language server on stdin/stdout, for editors: findings as you type, rule docs on
    /// hover, safe fixes as code actions.
    #[command(
        long_about = "Run the language server (LSP) on stdin/stdout, for editors.\n\n\
Every open YAML file gets fluxvet's findings as you type, computed from the unsaved text with \
the rest of the repository (the nearest directory above the file holding .git or .fluxvet.yaml, \
else the editor's workspace folder); editing one file updates the findings of the other open \
files it affects. Hover on a finding shows the rule's documentation (as `fluxvet explain`); the \
safe fixes of `check --fix` are code actions. Changes to .fluxvet.yaml are picked up; a config \
error is shown on the config file and the last valid config stays in force. The server never \
writes a file.\n\n\
Editors start it themselves: point your editor's LSP client at `fluxvet lsp` for YAML files. \
Set-ups for Neovim, Helix and VS Code: docs/integrations.md.",
        after_help = "Examples (what an editor runs; see docs/integrations.md for each editor):\n  \
Neovim 0.8+, for a YAML buffer:\n    \
vim.lsp.start({ name = \"fluxvet\", cmd = { \"fluxvet\", \"lsp\" }, root_dir = vim.fn.getcwd() })\n  \
Helix, languages.toml:\n    \
[language-server.fluxvet]\n    \
command = \"fluxvet\"\n    \
args = [\"lsp\"]"
    )]
    Lsp(LspArgs),
    /// Write a baseline: every current finding, which `fluxvet check --baseline FILE` then does
    /// not report, to adopt fluxvet on a repository without fixing everything first.
    Baseline(BaselineArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  fluxvet baseline -o .fluxvet-baseline.yaml\n  \
fluxvet check --baseline .fluxvet-baseline.yaml"
)]
pub struct BaselineArgs {
    /// The repository (default: `.`).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Why these findings are accepted, written in every entry.
    #[arg(long, value_name = "TEXT", default_value = crate::baseline::DEFAULT_REASON)]
    pub reason: String,
    /// Write the baseline to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Config file (default: `.fluxvet.yaml` at the repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip paths matching this glob (repeatable), in addition to the config's `exclude`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
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
    /// Only what this cluster applies (its name as the text summary of `check` shows it,
    /// e.g. `production`). Without it, the graph holds what any cluster applies.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
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
    /// What Flux applies in this cluster (a name `fluxvet check` lists): every Flux
    /// Kustomization it reaches, built and then transformed as kustomize-controller does
    /// (patches, targetNamespace, namePrefix/nameSuffix, commonMetadata, post-build
    /// substitution). PATH is then the repository root.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Only what this Flux Kustomization applies (`namespace/name` or `name`), as
    /// `flux build kustomization` prints it. PATH is then the repository root.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub kustomization: Option<String>,
    /// When to colour findings (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Args, Debug)]
pub struct LspArgs {
    /// Talk over stdin/stdout (the only transport, and the default; accepted because some
    /// clients, such as VS Code's, always pass it).
    #[arg(long)]
    pub stdio: bool,
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
#[command(
    after_help = "Paths: every path fluxvet prints (all formats) and every path or glob you give it \
(PATH, --exclude, --stdin-filename) is relative to the directory you run it in, so a path copied from the \
output can be opened in an editor or pasted into --exclude. Globs in .fluxvet.yaml are relative to the \
repository root.\n\n\
Examples:\n  fluxvet check                               the repository in the current directory\n  \
fluxvet check apps/podinfo/release.yaml     one file, judged against the rest of its repository\n  \
fluxvet check - --stdin-filename apps/x.yaml < buffer.yaml   an editor's unsaved buffer\n  \
fluxvet check --select FV2 --ignore FV206   only the pinned-version rules, less one\n  \
fluxvet check -q --format short             findings only, one per line\n  \
fluxvet check --exit-zero --format sarif    report without failing the job"
)]
pub struct CheckArgs {
    /// Files or directories to check (default: `.`). A single directory is the repository root.
    /// Files are checked as part of their repository (the nearest directory above them holding
    /// `.git` or `.fluxvet.yaml`), so references to other files resolve, and only their
    /// findings are reported. `-` reads one document from stdin (needs `--stdin-filename`).
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
    /// Skip paths matching this glob (repeatable), in addition to the config's `exclude`. Written
    /// relative to the directory fluxvet runs in, like every path it prints: a path copied from
    /// the output works (`--exclude apps/legacy/**`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Apply the safe fixes (quote a numeric chart version or a string read as a boolean, move a
    /// removed Flux apiVersion to the served one), then check again and report what remains.
    /// Only the bytes of each finding change. The only way fluxvet writes to a repository.
    #[arg(long, conflicts_with_all = ["rev", "stdin_filename"])]
    pub fix: bool,
    /// With --fix: print the fixes as a unified diff and write nothing (exit 1 when there is one).
    #[arg(long, requires = "fix")]
    pub diff: bool,
    /// Check the files of this commit (e.g. what is being pushed) instead of the working tree;
    /// the config is read from that commit too.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Check the files staged in the git index (what `git commit` would commit) instead of the
    /// working tree: unstaged edits and untracked files are not read. For pre-commit hooks.
    #[arg(long, conflicts_with = "rev")]
    pub staged: bool,
    /// Report only the findings the change introduces: the checked tree and the one it left REV
    /// (their merge base) are both checked, and findings the old tree already had are counted,
    /// not reported, wherever the new ones are (a rename breaks the files that name it).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Do not report the findings this baseline file records (written by `fluxvet baseline`);
    /// its entries that match nothing are reported (FV002).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Worker threads (default: one per core; at most 4 per core, more only adds contention:
    /// a larger N is lowered, with a note).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Leave the elapsed time out of the text summary, so two runs on the same files print
    /// byte-identical reports (other formats never carry it).
    #[arg(long)]
    pub no_timing: bool,
    /// The path of the document read from stdin (`-`): it is checked as that file of its
    /// repository, replacing what is on disk (e.g. an editor's unsaved buffer).
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Report only these rules: codes (`FV202`), names (`chart-version-unpinned`) or code
    /// prefixes (`FV2` = every 2xx rule); comma-separated or repeated. Overrides the config.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not report these rules (codes, names or code prefixes); comma-separated or repeated.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Findings only: no summary line, no notices on stderr (errors that stop the run are
    /// still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Exit 0 even when there are findings (exit 2 for usage, config and I/O problems stays).
    #[arg(long)]
    pub exit_zero: bool,
    /// Exit 2 when no manifest is found (by default that is a note on stderr and exit 0), so a
    /// mistyped path in CI does not pass silently.
    #[arg(long)]
    pub require_files: bool,
    /// Files larger than this are reported as too large and not checked: bytes or e.g.
    /// `64MiB` (default 32MiB, or `max_file_size` in .fluxvet.yaml).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    crate::config::parse_size(s)
}

/// Threads per core beyond which `-j` is lowered: a run is CPU-bound, and thousands of threads
/// only add contention (`-j 1000` took 31 s on ten files).
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The thread count for `-j requested` on a machine with `cores` cores, and the note to print
/// when it was lowered.
pub fn thread_count(requested: u32, cores: usize) -> (usize, Option<String>) {
    let cap = cores.max(1) * MAX_THREADS_PER_CORE;
    let requested = requested as usize;
    if requested <= cap {
        return (requested.max(1), None);
    }
    (
        cap,
        Some(format!(
            "-j {requested} is more than {MAX_THREADS_PER_CORE} threads per core ({cores} cores); using {cap}"
        )),
    )
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
