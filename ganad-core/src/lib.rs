//! ganad: GAN-based anomaly detection on Fashion-MNIST, after Kim, Jeong, Choi & Seo,
//! "GAN-based Anomaly Detection in Imbalance Problems" (ECCV 2020 workshops), on libtorch (tch).
//!
//! One Fashion-MNIST class is normal, the other nine are anomalies, and a few labelled
//! anomalies may join training. A U-Net generator reconstructs images; a normal and an anomaly
//! discriminator judge them; the reconstruction error is the anomaly score.

pub mod ablation;
pub mod adam;
pub mod atomic;
pub mod bench;
pub mod checkpoint;
pub mod comparison;
pub mod config;
pub mod data;
pub mod deep_sad;
pub mod device;
pub mod error;
pub mod evaluate;
pub mod experiment;
pub mod gan;
pub mod interrupt;
pub mod lever;
pub mod lock;
pub mod losses;
pub mod method;
pub mod metrics;
pub mod model;
pub mod nets;
pub mod notebook;
pub mod plots;
pub mod protocol;
pub mod recipe;
pub mod reference;
pub mod run;
pub mod score;
pub mod summary;
pub mod sweep;
pub mod tables;
pub mod tempdir;
pub mod train;

pub use config::{Config, Profile, Recipe};
pub use error::{Error, Result};
/// Re-exported so notebooks need one `:dep` line.
pub use {polars, serde_json, tch};
