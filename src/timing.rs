//! `FLUXVET_TIMINGS=1`: phase timings and resident memory on stderr, for profiling. A module of
//! its own, below everything, so that the schema catalog and `--changed-since` time their phases
//! without importing the engine.

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Notes when the process started (the first thing `main` does), so that every timing line
/// says when it was printed as well as what it measured.
pub fn mark_start() {
    let _ = STARTED.set(Instant::now());
}

/// Whether `FLUXVET_TIMINGS` is set.
pub(crate) fn on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FLUXVET_TIMINGS").is_some())
}

/// Prints `timing: <what>` on stderr when `FLUXVET_TIMINGS` is set (with `[+N ms]`, the time
/// since [`mark_start`], when it was called); `what` runs only then.
pub(crate) fn timing(what: impl FnOnce() -> String) {
    if on() {
        match STARTED.get() {
            Some(t) => eprintln!(
                "timing: [+{:.1} ms] {}",
                t.elapsed().as_secs_f64() * 1e3,
                what()
            ),
            None => eprintln!("timing: {}", what()),
        }
    }
}
