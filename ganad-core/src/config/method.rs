//! Which detector a run trains: the GAN or one of the baselines. The run record, the trainer
//! and the networks all name it, so it lives below them.

use serde::{Deserialize, Serialize};

/// Which detector a run trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Kim et al.'s GAN (U-Net generator, two discriminators, 8 losses), in the config's recipe.
    Gan,
    /// Baseline: a plain CNN trained on the same normals and labelled anomalies (BCE), scored by its logit.
    Classifier,
    /// Baseline: the generator's shape without skips, ℓ1 on normals only.
    #[value(name = "ae")]
    Autoencoder,
    /// Baseline: seeded uniform random scores.
    Random,
    /// Baseline: Deep SAD (Ruff et al., ICLR 2020), their Fashion-MNIST network and schedule.
    DeepSad,
}

impl Method {
    pub const ALL: [Method; 5] = [Method::Gan, Method::Classifier, Method::Autoencoder, Method::Random, Method::DeepSad];

    pub fn name(self) -> &'static str {
        match self {
            Method::Gan => "gan",
            Method::Classifier => "classifier",
            Method::Autoencoder => "ae",
            Method::Random => "random",
            Method::DeepSad => "deep-sad",
        }
    }

    /// Whether the method trains networks (and so has checkpoints and epochs).
    pub fn trains(self) -> bool {
        self != Method::Random
    }
}
