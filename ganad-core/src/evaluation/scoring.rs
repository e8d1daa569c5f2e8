//! Anomaly scores: one number per image, higher = more anomalous. Evaluation is written once
//! against the [`Scorer`] trait, which the GAN (`gan::score`), the baselines and the random
//! scorer implement.

use crate::data::ImageSet;
use crate::nets::Classifier;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use tch::{Kind, Tensor};

pub trait Scorer {
    /// A name for tables ("mean_l1", "fused", "random").
    fn name(&self) -> &'static str;
    /// `images [B, 1, 32, 32] → scores [B]`. Called under no_grad.
    fn score_batch(&self, images: &Tensor) -> Tensor;
    /// The score and, for a fused score, each component's evidence `[B]` by name (one pass).
    fn score_parts(&self, images: &Tensor) -> (Tensor, Vec<(&'static str, Tensor)>) {
        (self.score_batch(images), Vec::new())
    }
}

/// The classifier baseline's score: its anomaly logit, eval-mode BatchNorm.
pub struct ClassifierScorer<'a> {
    pub net: &'a Classifier,
}

impl Scorer for ClassifierScorer<'_> {
    fn name(&self) -> &'static str {
        "logit"
    }

    fn score_batch(&self, images: &Tensor) -> Tensor {
        self.net.forward(images, false)
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

fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_device(tch::Device::Cpu).to_kind(Kind::Float)).expect("scores are a 1-d float tensor")
}

/// Scores every image of `set`, in order, in batches of `batch_size`.
pub fn score_set(scorer: &dyn Scorer, set: &ImageSet, batch_size: usize) -> Vec<f32> {
    score_set_with_parts(scorer, set, batch_size).0
}

/// [`score_set`], with each component's evidence of a fused score beside it.
pub fn score_set_with_parts(scorer: &dyn Scorer, set: &ImageSet, batch_size: usize) -> (Vec<f32>, Vec<(&'static str, Vec<f32>)>) {
    let _guard = tch::no_grad_guard();
    let mut out = Vec::with_capacity(set.len());
    let mut parts: Vec<(&'static str, Vec<f32>)> = Vec::new();
    for batch in set.chunks(batch_size) {
        let (scores, batch_parts) = scorer.score_parts(&batch);
        out.extend(to_vec(&scores));
        for (i, (name, evidence)) in batch_parts.iter().enumerate() {
            if parts.len() <= i {
                parts.push((name, Vec::with_capacity(set.len())));
            }
            parts[i].1.extend(to_vec(evidence));
        }
    }
    (out, parts)
}
