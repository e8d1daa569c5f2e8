//! The U-Net generator G of Kim et al. (ECCV 2020 workshops, Fig. 2): four strided 4×4
//! convolutions down (no pooling), four transposed convolutions up, with skip concatenations.
//! Its encoder half also serves the latent loss, E(x) vs E(G(x)).

use super::init::{batch_norm, down, leaky_relu, up};
use crate::config::ModelConfig;
use tch::{nn, nn::ModuleT, Tensor};

/// The encoder's activations, kept for the skips; `bottleneck` is E(x).
#[derive(Debug)]
pub struct Encoding {
    pub e1: Tensor, // [B, w, 16, 16]
    pub e2: Tensor, // [B, 2w, 8, 8]
    pub e3: Tensor, // [B, 4w, 4, 4]
    pub bottleneck: Tensor, // [B, 8w, 2, 2]
}

#[derive(Debug)]
pub struct Generator {
    down1: nn::Conv2D,
    down2: nn::Conv2D,
    down2_bn: nn::BatchNorm,
    down3: nn::Conv2D,
    down3_bn: nn::BatchNorm,
    down4: nn::Conv2D,
    down4_bn: nn::BatchNorm,
    up1: nn::ConvTranspose2D,
    up1_bn: nn::BatchNorm,
    up2: nn::ConvTranspose2D,
    up2_bn: nn::BatchNorm,
    up3: nn::ConvTranspose2D,
    up3_bn: nn::BatchNorm,
    up4: nn::ConvTranspose2D,
    /// With skips off this is a plain convolutional autoencoder (the baseline's shape).
    pub skips: bool,
}

impl Generator {
    pub fn new(p: &nn::Path, cfg: &ModelConfig) -> Self {
        Self::with_skips(p, cfg.base_width, cfg.skips)
    }

    pub fn with_skips(p: &nn::Path, w: i64, skips: bool) -> Self {
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
        }
    }

    /// E(x). `x`: `[B, 1, 32, 32]` in [−1, 1].
    pub fn encode(&self, x: &Tensor, train: bool) -> Encoding {
        let e1 = leaky_relu(&x.apply(&self.down1)); // no BatchNorm on the first layer
        let e2 = leaky_relu(&e1.apply(&self.down2).apply_t(&self.down2_bn, train));
        let e3 = leaky_relu(&e2.apply(&self.down3).apply_t(&self.down3_bn, train));
        let bottleneck = leaky_relu(&e3.apply(&self.down4).apply_t(&self.down4_bn, train));
        Encoding { e1, e2, e3, bottleneck }
    }

    /// The reconstruction from an encoding: `[B, 1, 32, 32]` in (−1, 1).
    pub fn decode(&self, enc: &Encoding, train: bool) -> Tensor {
        let skip = |y: Tensor, e: &Tensor| if self.skips { Tensor::cat(&[y, e.shallow_clone()], 1) } else { y };
        let d1 = enc.bottleneck.apply(&self.up1).apply_t(&self.up1_bn, train).relu(); // [B, 4w, 4, 4]
        let d2 = skip(d1, &enc.e3).apply(&self.up2).apply_t(&self.up2_bn, train).relu(); // [B, 2w, 8, 8]
        let d3 = skip(d2, &enc.e2).apply(&self.up3).apply_t(&self.up3_bn, train).relu(); // [B, w, 16, 16]
        skip(d3, &enc.e1).apply(&self.up4).tanh()
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
            let g = Generator::with_skips(&vs.root(), 8, skips);
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
        // Checkpoint keys read like the architecture.
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = Generator::with_skips(&vs.root(), 8, true);
        let keys = vs.variables();
        assert!(keys.contains_key("down1.weight") && keys.contains_key("up4.weight") && keys.contains_key("down2_bn.running_mean"));
    }
}
