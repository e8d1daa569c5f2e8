//! The U-Net generator G of Kim et al. (ECCV 2020 workshops, Fig. 2): four strided 4×4
//! convolutions down (no pooling), four transposed convolutions up, with skip concatenations.
//! Its encoder half also serves the latent loss, E(x) vs E(G(x)), and, in ganad's recipe, a
//! linear anomaly head on the bottleneck (the classification term; not in the paper).

use super::layers::{batch_norm, bn, down, leaky_relu, up, Conv, Init, Norm, Precision};
use crate::config::ModelConfig;
use tch::{nn, nn::ModuleT, Kind, Tensor};

/// The encoder's activations, kept for the skips; `bottleneck` is E(x). In the generator's
/// compute precision: [`Encoding::features`] gives E(x) as fp32.
#[derive(Debug)]
pub struct Encoding {
    pub e1: Tensor,         // [B, w, 16, 16]
    pub e2: Tensor,         // [B, 2w, 8, 8]
    pub e3: Tensor,         // [B, 4w, 4, 4]
    pub bottleneck: Tensor, // [B, 8w, 2, 2]
}

impl Encoding {
    /// E(x) flattened and in fp32: `[B, 8w·2·2]`.
    pub fn features(&self) -> Tensor {
        self.bottleneck.flatten(1, -1).to_kind(Kind::Float)
    }
}

#[derive(Debug)]
pub struct Generator {
    down1: Conv,
    down2: Conv,
    down2_bn: nn::BatchNorm,
    down3: Conv,
    down3_bn: nn::BatchNorm,
    down4: Conv,
    down4_bn: nn::BatchNorm,
    up1: Conv,
    up1_bn: nn::BatchNorm,
    up2: Conv,
    up2_bn: nn::BatchNorm,
    up3: Conv,
    up3_bn: nn::BatchNorm,
    up4: Conv,
    /// With skips off this is a plain convolutional autoencoder (the baseline's shape).
    pub skips: bool,
    /// Anomaly logit from the flattened bottleneck (and e3, with `head_reads_e3`), when the
    /// classification term trains it.
    head: Option<nn::Linear>,
    head_reads_e3: bool,
    /// `model.head_lr_scale`: the head's logit is this times its linear layer's output.
    head_scale: f64,
    precision: Precision,
}

impl Generator {
    /// With the anomaly head where `cfg.anomaly_head` says so.
    pub fn new(p: &nn::Path, cfg: &ModelConfig, precision: Precision) -> Self {
        let mut g = Self::with_skips(p, cfg.base_width, cfg.skips, precision);
        let w = cfg.base_width;
        let inputs = 8 * w * 2 * 2 + if cfg.head_reads_e3 { 4 * w * 4 * 4 } else { 0 };
        let config = if cfg.head_lr_scale == 1.0 {
            nn::LinearConfig::default()
        } else {
            // The default U(±1/√fan_in), divided by the scale the logit multiplies back.
            let bound = 1.0 / (inputs as f64).sqrt() / cfg.head_lr_scale;
            let init = nn::Init::Uniform { lo: -bound, up: bound };
            nn::LinearConfig { ws_init: init, bs_init: Some(init), bias: true }
        };
        g.head = cfg.anomaly_head.then(|| nn::linear(p / "head", inputs, 1, config));
        g.head_reads_e3 = cfg.head_reads_e3;
        g.head_scale = cfg.head_lr_scale;
        g
    }

    pub fn with_skips(p: &nn::Path, w: i64, skips: bool, precision: Precision) -> Self {
        let down = |p: nn::Path, c_in, c_out| down(p, c_in, c_out, Init::Dcgan, precision);
        let up = |p: nn::Path, c_in, c_out| up(p, c_in, c_out, precision);
        let batch_norm = |p: nn::Path, c| batch_norm(p, c, Init::Dcgan);
        // A skip concatenates the matching encoder map, doubling the decoder's input channels.
        let cat = if skips { 2 } else { 1 };
        Generator {
            down1: down(p / "down1", 1, w),
            down2: down(p / "down2", w, 2 * w),
            down2_bn: batch_norm(p / "down2_bn", 2 * w),
            down3: down(p / "down3", 2 * w, 4 * w),
            down3_bn: batch_norm(p / "down3_bn", 4 * w),
            down4: down(p / "down4", 4 * w, 8 * w),
            down4_bn: batch_norm(p / "down4_bn", 8 * w),
            up1: up(p / "up1", 8 * w, 4 * w),
            up1_bn: batch_norm(p / "up1_bn", 4 * w),
            up2: up(p / "up2", 4 * w * cat, 2 * w),
            up2_bn: batch_norm(p / "up2_bn", 2 * w),
            up3: up(p / "up3", 2 * w * cat, w),
            up3_bn: batch_norm(p / "up3_bn", w),
            up4: up(p / "up4", w * cat, 1),
            skips,
            head: None,
            head_reads_e3: false,
            head_scale: 1.0,
            precision,
        }
    }

    /// E(x). `x`: `[B, 1, 32, 32]` in [−1, 1]; `norm`: `true` (train), `false` (eval) or a [`Norm`].
    pub fn encode(&self, x: &Tensor, norm: impl Into<Norm>) -> Encoding {
        let norm = norm.into();
        let e1 = leaky_relu(&x.apply(&self.down1)); // no BatchNorm on the first layer
        let e2 = leaky_relu(&bn(&self.down2_bn, &e1.apply(&self.down2), norm));
        let e3 = leaky_relu(&bn(&self.down3_bn, &e2.apply(&self.down3), norm));
        let bottleneck = leaky_relu(&bn(&self.down4_bn, &e3.apply(&self.down4), norm));
        Encoding { e1, e2, e3, bottleneck }
    }

    /// The reconstruction from an encoding: `[B, 1, 32, 32]` in (−1, 1), fp32.
    pub fn decode(&self, enc: &Encoding, norm: impl Into<Norm>) -> Tensor {
        let norm = norm.into();
        let skip = |y: Tensor, e: &Tensor| if self.skips { Tensor::cat(&[y, e.shallow_clone()], 1) } else { y };
        let d1 = bn(&self.up1_bn, &enc.bottleneck.apply(&self.up1), norm).relu(); // [B, 4w, 4, 4]
        let d2 = bn(&self.up2_bn, &skip(d1, &enc.e3).apply(&self.up2), norm).relu(); // [B, 2w, 8, 8]
        let d3 = bn(&self.up3_bn, &skip(d2, &enc.e2).apply(&self.up3), norm).relu(); // [B, w, 16, 16]
        skip(d3, &enc.e1).apply(&self.up4).tanh().to_kind(Kind::Float)
    }
}

impl Generator {
    pub fn has_head(&self) -> bool {
        self.head.is_some()
    }

    /// The anomaly head's logits `[B]` from an encoding; `None` without a head.
    pub fn anomaly_logit(&self, enc: &Encoding) -> Option<Tensor> {
        let features = || {
            if self.head_reads_e3 {
                Tensor::cat(&[enc.features(), enc.e3.flatten(1, -1).to_kind(Kind::Float)], 1)
            } else {
                enc.features()
            }
        };
        self.head.as_ref().map(|h| features().apply(h).squeeze_dim(1) * self.head_scale)
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }
}

impl ModuleT for Generator {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.decode(&self.encode(x, train), train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn shapes_with_and_without_skips() {
        for skips in [true, false] {
            let vs = nn::VarStore::new(Device::Cpu);
            let g = Generator::with_skips(&vs.root(), 8, skips, Precision::Fp32);
            let x = Tensor::rand([3, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
            let enc = g.encode(&x, true);
            assert_eq!(enc.e1.size(), vec![3, 8, 16, 16]);
            assert_eq!(enc.e2.size(), vec![3, 16, 8, 8]);
            assert_eq!(enc.e3.size(), vec![3, 32, 4, 4]);
            assert_eq!(enc.bottleneck.size(), vec![3, 64, 2, 2]);
            let y = g.decode(&enc, true);
            assert_eq!(y.size(), vec![3, 1, 32, 32]);
            assert!(y.abs().max().double_value(&[]) <= 1.0, "tanh output out of range");
        }
        // The head reads e3 only when asked to.
        for reads_e3 in [false, true] {
            let vs = nn::VarStore::new(Device::Cpu);
            let cfg = ModelConfig { base_width: 8, head_reads_e3: reads_e3, anomaly_head: true, ..ModelConfig::default() };
            let g = Generator::new(&vs.root(), &cfg, Precision::Fp32);
            let enc = g.encode(&(Tensor::rand([3, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0), false);
            let moved = Encoding {
                e3: &enc.e3 + 1.0,
                e1: enc.e1.shallow_clone(),
                e2: enc.e2.shallow_clone(),
                bottleneck: enc.bottleneck.shallow_clone(),
            };
            let change = (g.anomaly_logit(&moved).unwrap() - g.anomaly_logit(&enc).unwrap()).abs().max().double_value(&[]);
            assert_eq!(change > 1e-4, reads_e3, "{change}");
            assert_eq!(vs.variables()["head.weight"].size()[1], 8 * 8 * 4 + if reads_e3 { 4 * 8 * 16 } else { 0 });
        }
        // A head scale s starts the same logits (weights / s, logit × s) and multiplies its
        // parameters' effect: the same step on them moves the logit s times as far (10 vs 2: 5×).
        let x = Tensor::rand([3, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let logits = |scale: f64| {
            let vs = nn::VarStore::new(Device::Cpu);
            let cfg = ModelConfig { base_width: 8, head_lr_scale: scale, anomaly_head: true, ..ModelConfig::default() };
            tch::manual_seed(7);
            let g = Generator::new(&vs.root(), &cfg, Precision::Fp32);
            let enc = g.encode(&x, false);
            let before = g.anomaly_logit(&enc).unwrap();
            tch::no_grad(|| {
                let _ = vs.variables()["head.bias"].shallow_clone().g_add_scalar_(0.01);
            });
            (before, g.anomaly_logit(&enc).unwrap())
        };
        let ((a0, a1), (b0, b1)) = (logits(2.0), logits(10.0));
        assert!((&a0 - &b0).abs().max().double_value(&[]) < 1e-5, "same start");
        assert!(((&b1 - &b0) - (&a1 - &a0) * 5.0).abs().max().double_value(&[]) < 1e-5, "five times the move");
        // Checkpoint keys read like the architecture.
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = Generator::with_skips(&vs.root(), 8, true, Precision::Fp32);
        let keys = vs.variables();
        assert!(keys.contains_key("down1.weight") && keys.contains_key("up4.weight") && keys.contains_key("down2_bn.running_mean"));
    }
}
