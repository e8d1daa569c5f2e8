//! Training-time augmentation: random horizontal flips and small shifts, per image. With 54
//! labelled anomalies, every variant of them the networks see is one more anomaly to learn from.
//! The co-author's code flips Fashion-MNIST images horizontally (p 0.8).
//!
//! The draws come from a ChaCha8 generator seeded by (seed, step), so a step's augmentation is a
//! fixed function of the run's seed and the step: a resumed run repeats it exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AugmentConfig {
    /// Probability of a horizontal flip per image (garments are left-right symmetric).
    pub flip: f64,
    /// Largest shift in pixels, per image and axis, uniform in [−shift, shift] (0 = none).
    pub shift: i64,
    /// The labelled anomalies' largest shift, where it differs from the normals' `shift`
    /// (`None` = the same): more variants of the few anomalies without loosening what a
    /// normal looks like.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly_shift: Option<i64>,
}

impl AugmentConfig {
    /// The augmentation of the labelled anomalies.
    pub fn for_anomalies(&self) -> AugmentConfig {
        AugmentConfig { shift: self.anomaly_shift.unwrap_or(self.shift), anomaly_shift: None, ..self.clone() }
    }
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig { flip: 0.0, shift: 0, anomaly_shift: None }
    }
}

/// The generator for `step` of a run with `seed`; `stream` separates normals from anomalies.
pub fn step_rng(seed: u64, step: usize, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream);
    rng
}

/// `images [B, 1, H, W]` flipped and shifted per image (background −1 fills the border).
pub fn augment(images: &Tensor, cfg: &AugmentConfig, rng: &mut ChaCha8Rng) -> Tensor {
    if cfg.flip <= 0.0 && cfg.shift <= 0 {
        return images.shallow_clone();
    }
    let b = images.size()[0];
    let flips: Vec<bool> = (0..b).map(|_| rng.gen_bool(cfg.flip.clamp(0.0, 1.0))).collect();
    let mut out = images.shallow_clone();
    if flips.iter().any(|&f| f) {
        let mask = Tensor::from_slice(&flips).to_device(images.device()).view([b, 1, 1, 1]);
        out = images.flip([3]).where_self(&mask, images);
    }
    if cfg.shift > 0 {
        let s = cfg.shift;
        let (h, w) = (images.size()[2], images.size()[3]);
        let padded = (&out + 1.0).constant_pad_nd([s, s, s, s]) - 1.0; // the border is background, −1
        let rows: Vec<Tensor> = (0..b)
            .map(|i| {
                let (dy, dx) = (rng.gen_range(0..=2 * s), rng.gen_range(0..=2 * s));
                padded.get(i).narrow(1, dy, h).narrow(2, dx, w)
            })
            .collect();
        out = Tensor::stack(&rows, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn flips_and_shifts_are_seeded_per_step_and_keep_the_background() {
        let x = Tensor::arange(2 * 16, (Kind::Float, Device::Cpu)).view([2, 1, 4, 4]) / 32.0;
        let flip = AugmentConfig { flip: 1.0, shift: 0, anomaly_shift: None };
        assert_eq!(augment(&x, &flip, &mut step_rng(0, 0, 0)), x.flip([3]));
        let none = AugmentConfig { flip: 0.0, shift: 0, anomaly_shift: None };
        assert_eq!(augment(&x, &none, &mut step_rng(0, 0, 0)), x);

        let shift = AugmentConfig { flip: 0.5, shift: 1, anomaly_shift: None };
        let a = augment(&x, &shift, &mut step_rng(3, 7, 0));
        assert_eq!(a, augment(&x, &shift, &mut step_rng(3, 7, 0)), "same seed and step, same draw");
        let differs = (0..20).any(|step| augment(&x, &shift, &mut step_rng(3, step, 0)) != a);
        assert!(differs);
        assert_eq!(a.size(), x.size());
        // Every value is an input value or the background −1.
        let values: Vec<f32> = Vec::try_from(a.flatten(0, -1)).unwrap();
        let inputs: Vec<f32> = Vec::try_from(x.flatten(0, -1)).unwrap();
        assert!(values.iter().all(|v| *v == -1.0 || inputs.contains(v)));
    }
}
