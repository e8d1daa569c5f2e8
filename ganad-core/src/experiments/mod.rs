//! Runs end to end, their records, protocols, rescoring, sweeps, studies and summaries.

pub mod ablation;
pub mod experiment;
pub mod protocol;
pub mod rescore;
pub mod run;
pub mod summary;
pub mod sweep;
