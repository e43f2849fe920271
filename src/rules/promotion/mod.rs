//! 7xx: promotion order across environments. The matrix itself lives in [`crate::promotion`],
//! shared with `fluxvet versions`.

pub mod promotion_skipped;
