//! From scores to numbers: exact metrics over plain slices, and evaluation written once for
//! every scorer.

pub mod evaluate;
pub mod metrics;
pub mod scoring;
