//! Runs end to end, their records, protocols, sweeps, studies and summaries.

pub mod ablation;
pub mod experiment;
pub mod protocol;
pub mod run;
pub mod summary;
pub mod sweep;
