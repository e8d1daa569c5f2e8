//! The library's error type: every message says what is wrong, where, and how to fix it.

use std::path::PathBuf;

/// Errors from ganad-core. Messages are lowercase and carry the path, field or shape at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("dataset file {path}: {what}\n  fix: {fix}")]
    Dataset { path: PathBuf, what: String, fix: String },

    #[error("dataset not found: {searched}\n  fix: {fix}")]
    DatasetMissing { searched: String, fix: String },

    #[error("download of {url} failed: {what}")]
    Download { url: String, what: String },

    #[error("invalid config: {field}: {what}")]
    Config { field: String, what: String },

    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{path}: invalid json: {source}")]
    Json { path: PathBuf, source: serde_json::Error },

    #[error("non-finite {what} at epoch {epoch}, step {step}; {kept}")]
    NonFinite { what: String, epoch: usize, step: usize, kept: String },

    #[error("checkpoint {path}: {what}\n  fix: {fix}")]
    Checkpoint { path: PathBuf, what: String, fix: String },

    #[error(
        "{dir} is being trained into by process {pid} (its lock {dir}/.ganad-lock)\n  \
         fix: wait for it to finish or stop it; a lock whose process has died is taken over"
    )]
    Locked { dir: PathBuf, pid: i32 },

    #[error(
        "stopped by {signal} at epoch {epoch}, step {step}; {kept}\n  \
         fix: run the same command again to continue (add --resume to `ganad train`)"
    )]
    Interrupted { signal: &'static str, epoch: usize, step: usize, kept: String },

    #[error("metric: {0}")]
    Metric(String),

    #[error("shape: {0}")]
    Shape(String),

    #[error("table: {0}")]
    Table(String),

    #[error("plot: {0}")]
    Plot(String),

    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn config(field: &str, what: impl Into<String>) -> Self {
        Error::Config { field: field.to_string(), what: what.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
