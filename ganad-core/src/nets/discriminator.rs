//! The PatchGAN-style discriminator, used twice: D_N judges normal images, D_A anomalies.
//! It has two heads over a shared trunk: one real/fake logit for the whole image and a
//! map of per-patch logits (Kim et al. use both in their adversarial losses). D_N may have a
//! third, ours: an anomaly logit, trained on the labelled anomalies against the normals (the
//! trunk and a linear head are the classifier baseline's network, inside the GAN); and a fourth:
//! which of four rotations a normal image was turned by, a task that makes the trunk learn the
//! normal class's shape from the normals alone (Golan & El-Yaniv, NeurIPS 2018).

use super::layers::{batch_norm, conv, down, leaky_relu, Conv, Init, Precision};
use tch::{nn, Kind, Tensor};

/// Logits (not probabilities: BCE-with-logits is the numerically safe form).
#[derive(Debug)]
pub struct DiscriminatorOutput {
    /// `[B]`: is the whole image real?
    pub image: Tensor,
    /// `[B, 1, 4, 4]`: is each receptive-field patch real?
    pub patches: Tensor,
}

#[derive(Debug)]
pub struct Discriminator {
    down1: Conv,
    down2: Conv,
    down2_bn: nn::BatchNorm,
    down3: Conv,
    down3_bn: nn::BatchNorm,
    same4: Conv,
    same4_bn: nn::BatchNorm,
    patch_head: Conv,
    image_head: Conv,
    anomaly_head: Option<Conv>,
    rotation_head: Option<Conv>,
}

/// The heads a discriminator has beside its real/fake pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtraHeads {
    /// The anomaly logit (D_N with `model.discriminator_anomaly_head`).
    pub anomaly: bool,
    /// The rotation logits (D_N with `model.rotation_head`).
    pub rotation: bool,
}

/// How many rotations the rotation head tells apart: 0°, 90°, 180° and 270°.
pub const ROTATIONS: i64 = 4;

impl Discriminator {
    pub fn new(p: &nn::Path, w: i64, precision: Precision, heads: ExtraHeads) -> Self {
        let down = |p: nn::Path, c_in, c_out| down(p, c_in, c_out, Init::Dcgan, precision);
        let conv = |p: nn::Path, c_in, c_out, k, s, pad| conv(p, c_in, c_out, k, s, pad, precision);
        let batch_norm = |p: nn::Path, c| batch_norm(p, c, Init::Dcgan);
        Discriminator {
            down1: down(p / "down1", 1, w),
            down2: down(p / "down2", w, 2 * w),
            down2_bn: batch_norm(p / "down2_bn", 2 * w),
            down3: down(p / "down3", 2 * w, 4 * w),
            down3_bn: batch_norm(p / "down3_bn", 4 * w),
            same4: conv(p / "same4", 4 * w, 8 * w, 3, 1, 1),
            same4_bn: batch_norm(p / "same4_bn", 8 * w),
            patch_head: conv(p / "patch_head", 8 * w, 1, 3, 1, 1),
            image_head: conv(p / "image_head", 8 * w, 1, 4, 1, 0),
            anomaly_head: heads.anomaly.then(|| conv(p / "anomaly_head", 8 * w, 1, 4, 1, 0)),
            rotation_head: heads.rotation.then(|| conv(p / "rotation_head", 8 * w, ROTATIONS, 4, 1, 0)),
        }
    }

    /// `x [B, 1, 32, 32]` → the shared features `[B, 8w, 4, 4]`.
    fn trunk(&self, x: &Tensor, train: bool) -> Tensor {
        let h = leaky_relu(&x.apply(&self.down1)); // [B, w, 16, 16]
        let h = leaky_relu(&h.apply(&self.down2).apply_t(&self.down2_bn, train)); // [B, 2w, 8, 8]
        let h = leaky_relu(&h.apply(&self.down3).apply_t(&self.down3_bn, train)); // [B, 4w, 4, 4]
        leaky_relu(&h.apply(&self.same4).apply_t(&self.same4_bn, train))
    }

    pub fn has_anomaly_head(&self) -> bool {
        self.anomaly_head.is_some()
    }

    /// The anomaly logit `[B]` (higher = more anomalous), where this discriminator has the head.
    pub fn anomaly_logit(&self, x: &Tensor, train: bool) -> Option<Tensor> {
        self.anomaly_head.as_ref().map(|head| self.trunk(x, train).apply(head).flatten(1, -1).squeeze_dim(1).to_kind(Kind::Float))
    }

    pub fn has_rotation_head(&self) -> bool {
        self.rotation_head.is_some()
    }

    /// The trunk's last map, flattened (`[B, 8w·4·4]`, fp32): what D_N has learnt to see in an
    /// image, for the nearest-normal distance in D_N's eyes.
    pub fn features(&self, x: &Tensor, train: bool) -> Tensor {
        self.trunk(x, train).flatten(1, -1).to_kind(Kind::Float)
    }

    /// Per image, the cross-entropy of the rotation head on its four rotations (`[B]`, mean
    /// over the four): low where the trunk recognises the image's shape, where it has the head.
    pub fn rotation_loss(&self, x: &Tensor, train: bool) -> Option<Tensor> {
        let head = self.rotation_head.as_ref()?;
        let b = x.size()[0];
        let turned = Tensor::cat(&(0..ROTATIONS).map(|k| x.rot90(k, [2, 3])).collect::<Vec<_>>(), 0);
        let logits = self.trunk(&turned, train).apply(head).flatten(1, -1).to_kind(Kind::Float); // [4B, 4], rotation-major
        let truth = Tensor::arange(ROTATIONS, (Kind::Int64, x.device())).repeat_interleave_self_int(b, 0, None);
        let nll = -logits.log_softmax(1, Kind::Float).gather(1, &truth.unsqueeze(1), false).squeeze_dim(1);
        Some(nll.view([ROTATIONS, b]).mean_dim(0, false, Kind::Float))
    }

    /// `x`: `[B, 1, 32, 32]`.
    pub fn forward(&self, x: &Tensor, train: bool) -> DiscriminatorOutput {
        let h = self.trunk(x, train);
        let patches = h.apply(&self.patch_head).to_kind(Kind::Float);
        let image = h.apply(&self.image_head).flatten(1, -1).squeeze_dim(1).to_kind(Kind::Float);
        DiscriminatorOutput { image, patches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn every_head_has_its_shape() {
        let vs = nn::VarStore::new(Device::Cpu);
        let d = Discriminator::new(&vs.root(), 8, Precision::Fp32, ExtraHeads::default());
        let x = Tensor::rand([5, 1, 32, 32], (Kind::Float, Device::Cpu));
        let out = d.forward(&x, true);
        assert_eq!(out.image.size(), vec![5]);
        assert_eq!(out.patches.size(), vec![5, 1, 4, 4]);
        assert!(d.anomaly_logit(&x, false).is_none() && d.rotation_loss(&x, false).is_none());
        let with_heads = Discriminator::new(&(vs.root() / "with_heads"), 8, Precision::Fp32, ExtraHeads { anomaly: true, rotation: true });
        assert_eq!(with_heads.anomaly_logit(&x, false).unwrap().size(), vec![5]);
        assert_eq!(with_heads.rotation_loss(&x, false).unwrap().size(), vec![5]);
        assert_eq!(d.features(&x, false).size(), vec![5, 8 * 8 * 4 * 4]);
    }

    #[test]
    fn the_rotation_loss_is_each_images_mean_cross_entropy_over_its_four_turns() {
        let vs = nn::VarStore::new(Device::Cpu);
        let d = Discriminator::new(&vs.root(), 4, Precision::Fp32, ExtraHeads { anomaly: false, rotation: true });
        let x = Tensor::rand([3, 1, 32, 32], (Kind::Float, Device::Cpu));
        let per_image = d.rotation_loss(&x, false).unwrap();
        // By hand for image 1: the logits of its k-th turn, the true class k.
        let head = d.rotation_head.as_ref().unwrap();
        let by_hand: f64 = (0..ROTATIONS)
            .map(|k| {
                let logits = d.trunk(&x.narrow(0, 1, 1).rot90(k, [2, 3]), false).apply(head).flatten(1, -1);
                -logits.log_softmax(1, Kind::Float).double_value(&[0, k])
            })
            .sum::<f64>()
            / ROTATIONS as f64;
        assert!((per_image.double_value(&[1]) - by_hand).abs() < 1e-5, "{} vs {by_hand}", per_image.double_value(&[1]));
        // The head learns: a few steps on these images lower their loss.
        let mut opt = nn::OptimizerConfig::build(nn::Adam::default(), &vs, 1e-2).unwrap();
        let loss = || d.rotation_loss(&x, true).unwrap().mean(Kind::Float);
        let before = loss().double_value(&[]);
        for _ in 0..20 {
            opt.backward_step(&loss());
        }
        assert!(loss().double_value(&[]) < before);
    }
}
