//! Deep SAD (Ruff et al., "Deep Semi-Supervised Anomaly Detection", ICLR 2020) as a baseline,
//! as their public code builds it for Fashion-MNIST: the bias-free LeNet of [`crate::nets::lenet`],
//! pretrained as an autoencoder on every training image, then trained so that the unlabelled
//! images map close to a centre c (the mean embedding of an initial forward pass) and the
//! labelled anomalies far from it:
//!
//! L = 1/n Σ_unlabelled ‖φ(x) − c‖² + η/n Σ_labelled (‖φ(x̃) − c‖² + ε)⁻¹   (their eq. 4, ε 1e-6)
//!
//! The anomaly score is ‖φ(x) − c‖². With no labelled anomaly it is Deep SVDD (Ruff et al.,
//! ICML 2018) with an autoencoder start. Unlike ganad's other methods, every batch is drawn
//! from all training images at once (128, the last incomplete batch dropped), as their
//! `DataLoader` does, so the labelled anomalies keep their share of each batch.

pub use crate::config::deep_sad::DeepSadConfig;
use crate::evaluation::scoring::Scorer;
use crate::nets::lenet::{to_unit_28, LeNetDecoder, LeNetEncoder};
use tch::{nn, Device, Kind, Tensor};

/// The checkpoint name of Deep SAD's one store (encoder, decoder and centre).
pub const DEEP_SAD: &str = "deep_sad";

/// ε in the labelled term: the loss stays finite when a labelled anomaly sits on c.
pub const EPS: f64 = 1e-6;

/// The networks of a Deep SAD run, in one VarStore: φ (`encoder.*`), the pretraining decoder
/// (`decoder.*`) and the centre c (`center`, not trained), so one checkpoint file holds all.
pub struct DeepSad {
    pub vs: nn::VarStore,
    pub encoder: LeNetEncoder,
    pub decoder: LeNetDecoder,
    /// `[rep_dim]`; zero until [`DeepSad::set_center`].
    pub center: Tensor,
    /// Which objective [`DeepSad::losses`] computes: the autoencoder's or Deep SAD's.
    pub pretraining: bool,
    pub eta: f64,
}

/// The two objectives, each present only in its phase.
pub struct DeepSadLosses {
    pub pretraining: Option<Tensor>,
    pub deep_sad: Option<Tensor>,
}

impl DeepSad {
    pub fn new(cfg: &DeepSadConfig, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let encoder = LeNetEncoder::new(&(&root / "encoder"), cfg.rep_dim);
        let decoder = LeNetDecoder::new(&(&root / "decoder"), cfg.rep_dim);
        let center = root.zeros_no_train("center", &[cfg.rep_dim]);
        DeepSad { vs, encoder, decoder, center, pretraining: true, eta: cfg.eta }
    }

    /// ‖φ(x) − c‖² per image, `x` ganad's `[B, 1, 32, 32]`.
    pub fn distances(&self, x: &Tensor, train: bool) -> Tensor {
        (self.encoder.forward(&to_unit_28(x), train) - &self.center).square().sum_dim_intlist(1, false, Kind::Float)
    }

    /// The phase's objective on one batch: `unlabelled [B, 1, 32, 32]` (normals, and any
    /// pollution) and `labelled` anomalies `[Bₐ, …]`, normalised together as one batch.
    pub fn losses(&self, unlabelled: &Tensor, labelled: Option<&Tensor>) -> DeepSadLosses {
        let x = match labelled {
            Some(a) => Tensor::cat(&[unlabelled, a], 0),
            None => unlabelled.shallow_clone(),
        };
        if self.pretraining {
            let x28 = to_unit_28(&x);
            let reconstruction = self.decoder.forward(&self.encoder.forward(&x28, true), true);
            return DeepSadLosses { pretraining: Some(pretraining_loss(&x28, &reconstruction)), deep_sad: None };
        }
        let dist = self.distances(&x, true);
        let b = unlabelled.size()[0];
        DeepSadLosses { pretraining: None, deep_sad: Some(deep_sad_loss(&dist, b, self.eta)) }
    }

    /// c ← the mean embedding of `images` (eval mode), each coordinate at least 0.1 away from 0:
    /// "a zero unit can be trivially matched with zero weights" (their `init_center_c`).
    pub fn set_center(&mut self, images: &[&crate::data::ImageSet], batch_size: usize) {
        let _guard = tch::no_grad_guard();
        let mut sum = Tensor::zeros([self.encoder.rep_dim], (Kind::Float, self.center.device()));
        let mut n = 0;
        for set in images {
            for x in set.chunks(batch_size) {
                n += x.size()[0];
                sum += self.encoder.forward(&to_unit_28(&x), false).sum_dim_intlist(0, false, Kind::Float);
            }
        }
        let c = sum / (n.max(1) as f64);
        let small = c.abs().lt(0.1);
        let c = c.where_self(&small.logical_not(), &(c.sign() * 0.1));
        self.center.copy_(&c);
    }
}

/// Autoencoder pretraining: the mean squared error over every pixel of the batch
/// (`nn.MSELoss()` of images in [0, 1]). Shapes: `[B, 1, 28, 28]` both.
pub fn pretraining_loss(x: &Tensor, reconstruction: &Tensor) -> Tensor {
    (reconstruction - x).square().mean(Kind::Float)
}

/// Deep SAD's objective on one batch of squared distances `dist [B + Bₐ]`: the first
/// `unlabelled` are unlabelled images (their distance), the rest labelled anomalies (η over
/// their distance + ε), averaged over the whole batch.
/// PyTorch: `torch.where(semi == 0, dist, eta * (dist + eps) ** semi).mean()` with semi = −1.
pub fn deep_sad_loss(dist: &Tensor, unlabelled: i64, eta: f64) -> Tensor {
    let n = dist.size()[0];
    let near = dist.narrow(0, 0, unlabelled).sum(Kind::Float);
    let far = (dist.narrow(0, unlabelled, n - unlabelled) + EPS).reciprocal().sum(Kind::Float) * eta;
    (near + far) / n as f64
}

/// Deep SAD's score: the squared distance to c (eval-mode BatchNorm).
pub struct DeepSadScorer<'a> {
    pub model: &'a DeepSad,
}

impl Scorer for DeepSadScorer<'_> {
    fn name(&self) -> &'static str {
        "distance"
    }

    fn score_batch(&self, images: &Tensor) -> Tensor {
        self.model.distances(images, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_objective_by_hand() {
        // Two unlabelled at distances 1 and 3, one labelled anomaly at 0.5: (1 + 3 + 2/(0.5 + ε)) / 3.
        let dist = Tensor::from_slice(&[1.0f32, 3.0, 0.5]);
        let l = deep_sad_loss(&dist, 2, 2.0).double_value(&[]);
        assert!((l - (4.0 + 2.0 / (0.5 + EPS)) / 3.0).abs() < 1e-5, "{l}");
        // With no labelled image it is Deep SVDD's mean distance.
        assert!((deep_sad_loss(&dist, 3, 1.0).double_value(&[]) - 1.5).abs() < 1e-6);
        let x = Tensor::from_slice(&[0.0f32, 1.0]).view([1, 1, 1, 2]);
        let y = Tensor::from_slice(&[0.5f32, 0.0]).view([1, 1, 1, 2]);
        assert!((pretraining_loss(&x, &y).double_value(&[]) - 0.625).abs() < 1e-7);
    }

    #[test]
    fn the_schedule_follows_their_scheduler() {
        let c = DeepSadConfig::default();
        assert_eq!(c.learning_rate_at(0), 1e-4);
        assert_eq!(c.learning_rate_at(48), 1e-4, "epoch 49");
        assert!((c.learning_rate_at(49) - 1e-5).abs() < 1e-12, "epoch 50: their MultiStepLR steps first");
        assert_eq!(c.learning_rate_at(150), 1e-4, "the Deep SAD phase starts at the full rate");
        assert!((c.learning_rate_at(199) - 1e-5).abs() < 1e-12);
        assert_eq!((c.weight_decay_at(149), c.weight_decay_at(150)), (0.5e-3, 0.5e-6));
    }

    #[test]
    fn the_center_is_the_mean_embedding_kept_off_zero() {
        let mut model = DeepSad::new(&DeepSadConfig { rep_dim: 8, ..Default::default() }, Device::Cpu);
        tch::manual_seed(3);
        let set = crate::data::ImageSet {
            images: Tensor::rand([10, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0,
            classes: vec![0; 10],
            labels: vec![false; 10],
            indices: (0..10).collect(),
        };
        model.set_center(&[&set], 4);
        let c = Vec::<f32>::try_from(&model.center).unwrap();
        assert!(c.iter().all(|v| v.abs() >= 0.1 - 1e-7), "{c:?}");
        let mean = tch::no_grad(|| model.encoder.forward(&to_unit_28(&set.images), false).mean_dim(0, false, Kind::Float));
        let mean = Vec::<f32>::try_from(&mean).unwrap();
        for (c, m) in c.iter().zip(&mean) {
            assert!(
                if m.abs() >= 0.1 { (c - m).abs() < 1e-5 } else { (c.abs() - 0.1).abs() < 1e-7 && c.signum() == m.signum() },
                "{c} vs {m}"
            );
        }
        // The score of an image is its squared distance to c.
        let d = tch::no_grad(|| DeepSadScorer { model: &model }.score_batch(&set.images));
        assert_eq!(d.size(), vec![10]);
        assert!(d.min().double_value(&[]) >= 0.0);
    }
}
