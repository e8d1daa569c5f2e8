//! Anomaly scores: one number per image, higher = more anomalous. Evaluation is written once
//! against the [`Scorer`] trait, which the GAN, the autoencoder and the random baseline share.

use crate::data::ImageSet;
use crate::nets::Generator;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use tch::{nn::ModuleT, Kind, Tensor};

pub trait Scorer {
    /// A name for tables ("mean_l1", "random").
    fn name(&self) -> &'static str;
    /// `images [B, 1, 32, 32] → scores [B]`. Called under no_grad.
    fn score_batch(&self, images: &Tensor) -> Tensor;
}

/// The paper's (and co-author's) test score: mean ℓ1(x, G(x)) per image, eval-mode BatchNorm.
pub struct ReconstructionScorer<'a> {
    pub generator: &'a Generator,
}

impl Scorer for ReconstructionScorer<'_> {
    fn name(&self) -> &'static str {
        "mean_l1"
    }

    fn score_batch(&self, images: &Tensor) -> Tensor {
        let reconstruction = self.generator.forward_t(images, false);
        (images - reconstruction).abs().flatten(1, -1).mean_dim(1, false, Kind::Float)
    }
}

/// Uniform random scores from a seeded generator: the floor every detector must beat.
pub struct RandomScorer {
    rng: RefCell<ChaCha8Rng>,
}

impl RandomScorer {
    pub fn new(seed: u64) -> Self {
        RandomScorer { rng: RefCell::new(ChaCha8Rng::seed_from_u64(seed)) }
    }
}

impl Scorer for RandomScorer {
    fn name(&self) -> &'static str {
        "random"
    }

    fn score_batch(&self, images: &Tensor) -> Tensor {
        let mut rng = self.rng.borrow_mut();
        let scores: Vec<f32> = (0..images.size()[0]).map(|_| rng.gen()).collect();
        Tensor::from_slice(&scores)
    }
}

/// Scores every image of `set`, in order, in batches of `batch_size`.
pub fn score_set(scorer: &dyn Scorer, set: &ImageSet, batch_size: usize) -> Vec<f32> {
    let _guard = tch::no_grad_guard();
    let mut out = Vec::with_capacity(set.len());
    for batch in set.chunks(batch_size) {
        let scores = scorer.score_batch(&batch).to_device(tch::Device::Cpu).to_kind(Kind::Float);
        out.extend(Vec::<f32>::try_from(&scores).expect("scores are a 1-d float tensor"));
    }
    out
}
