//! The classifier baseline: the simplest use of the labelled anomalies. The discriminator's three
//! strided convolutions and a linear head, trained with BCE on normals against the labelled
//! anomalies and scored by its logit (docs/method.md, "The baselines"). A detector that trains three
//! networks has to beat this one on the same labels.

use super::layers::{batch_norm, down, leaky_relu, Conv, Init, Precision};
use tch::{nn, Kind, Tensor};

#[derive(Debug)]
pub struct Classifier {
    down1: Conv,
    down2: Conv,
    down2_bn: nn::BatchNorm,
    down3: Conv,
    down3_bn: nn::BatchNorm,
    head: nn::Linear,
}

impl Classifier {
    /// `w`: channels of the first layer (w → 2w → 4w). PyTorch's default initialisation, as
    /// the plain CNN a PyTorch user would write (docs/method.md).
    pub fn new(p: &nn::Path, w: i64, precision: Precision) -> Self {
        let down = |p: nn::Path, c_in, c_out| down(p, c_in, c_out, Init::PyTorch, precision);
        let features = 4 * w * 4 * 4;
        let bound = 1.0 / (features as f64).sqrt();
        let uniform = nn::Init::Uniform { lo: -bound, up: bound };
        Classifier {
            down1: down(p / "down1", 1, w),
            down2: down(p / "down2", w, 2 * w),
            down2_bn: batch_norm(p / "down2_bn", 2 * w, Init::PyTorch),
            down3: down(p / "down3", 2 * w, 4 * w),
            down3_bn: batch_norm(p / "down3_bn", 4 * w, Init::PyTorch),
            head: nn::linear(p / "head", features, 1, nn::LinearConfig { ws_init: uniform, bs_init: Some(uniform), bias: true }),
        }
    }

    /// Anomaly logits `[B]` for images `[B, 1, 32, 32]`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let h = leaky_relu(&x.apply(&self.down1)); // [B, w, 16, 16]
        let h = leaky_relu(&h.apply(&self.down2).apply_t(&self.down2_bn, train)); // [B, 2w, 8, 8]
        let h = leaky_relu(&h.apply(&self.down3).apply_t(&self.down3_bn, train)); // [B, 4w, 4, 4]
        h.flatten(1, -1).to_kind(Kind::Float).apply(&self.head).squeeze_dim(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn one_logit_per_image() {
        let vs = nn::VarStore::new(Device::Cpu);
        let c = Classifier::new(&vs.root(), 8, Precision::Fp32);
        assert_eq!(c.forward(&Tensor::rand([5, 1, 32, 32], (Kind::Float, Device::Cpu)), true).size(), vec![5]);
        assert!(vs.variables().contains_key("head.weight"));
    }
}
