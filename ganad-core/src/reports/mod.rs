//! What people read: tables, charts, the protocol comparison, the published numbers, notebook
//! support and the benchmark.

pub mod bench;
pub mod comparison;
pub mod notebook;
pub mod plots;
pub mod reference;
pub mod studies;
pub mod summaries;
pub mod tables;
