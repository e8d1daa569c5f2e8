//! ganad: GAN-based anomaly detection on Fashion-MNIST, after Kim, Jeong, Choi & Seo,
//! "GAN-based Anomaly Detection in Imbalance Problems" (ECCV 2020 workshops), on libtorch (tch).
//!
//! One Fashion-MNIST class is normal, the other nine are anomalies, and a few labelled
//! anomalies may join training. A U-Net generator reconstructs images; a normal and an anomaly
//! discriminator judge them; the reconstruction error is the anomaly score.

// The layers, bottom to top: each module uses only those below it (scripts/check_imports.py).
pub mod baselines;
pub mod config;
pub mod data;
pub mod evaluation;
pub mod experiments;
pub mod gan;
pub mod nets;
pub mod reports;
pub mod system;
pub mod training;

pub mod error;

// The public paths notebooks and users write (`ganad_core::sweep`, …), whatever folder holds them.
pub use baselines::deep_sad;
pub use config::{lever, method, recipe};
pub use evaluation::{evaluate, metrics};
pub use experiments::{ablation, experiment, protocol, rescore, run, summary, sweep};
pub use gan::{losses, score};
pub use reports::{bench, comparison, notebook, plots, reference, studies, summaries, tables};
pub use system::{atomic, device, interrupt, lock, tempdir};
pub use training::{adam, checkpoint, model, train};

pub use config::{Config, Profile, Recipe};
pub use error::{Error, Result};
/// Re-exported so notebooks need one `:dep` line.
pub use {polars, serde_json, tch};
