//! 8xx: what `fluxvet diff` says a change will do in the cluster.

pub mod bring_up_reordered;
pub mod chart_downgrade;
pub mod chart_version_bump;
pub mod immutable_change;
pub mod orphaned;
pub mod ownership_move;
pub mod prune_deletes;
pub mod release_reinstall;
