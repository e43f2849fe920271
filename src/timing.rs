//! `FLUXVET_TIMINGS=1`: phase timings and resident memory on stderr, for profiling. A module of
//! its own, below everything, so that the schema catalog and `--changed-since` time their phases
//! without importing the engine.

/// Prints `timing: <what>` on stderr when `FLUXVET_TIMINGS` is set; `what` runs only then.
pub(crate) fn timing(what: impl FnOnce() -> String) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("FLUXVET_TIMINGS").is_some()) {
        eprintln!("timing: {}", what());
    }
}
