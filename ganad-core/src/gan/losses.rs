//! The eight losses of Kim et al. (ECCV 2020 workshops, §3), each a pure function.
//!
//! Generator: (1) reconstruction, (2) patch, (3) latent, (4) normal adversarial, (5) ABC,
//! (6) anomaly adversarial. Discriminators: (7) normal, (8) anomaly. Discriminator outputs are
//! logits; every BCE is the with-logits form, averaged over the image head and the patch map.
//! Three terms are ours, not the paper's: (c) classification, a BCE that teaches a head on the
//! generator's encoder (or the classifier baseline) to tell labelled anomalies from normals,
//! (d) the same BCE for a head on D_N, and (r) rotation, D_N telling how a normal was turned.
//! ℓ1 is the mean absolute error. Shapes: images `[B, 1, 32, 32]`.

pub use crate::config::terms::{LossParts, LossWeights, Network, TERMS};
use crate::nets::DiscriminatorOutput;
use tch::{Kind, Reduction, Tensor};

fn l1(a: &Tensor, b: &Tensor) -> Tensor {
    (a - b).abs().mean(Kind::Float)
}

fn bce(logits: &Tensor, real: bool) -> Tensor {
    let target = if real { logits.ones_like() } else { logits.zeros_like() };
    logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean)
}

/// BCE of both heads against one target, averaged.
fn adversarial(d: &DiscriminatorOutput, real: bool) -> Tensor {
    (bce(&d.image, real) + bce(&d.patches, real)) * 0.5
}

/// (1) ℓ1(x, x̂). PyTorch: `F.l1_loss(x_hat, x)`.
pub fn reconstruction(x: &Tensor, x_hat: &Tensor) -> Tensor {
    l1(x, x_hat)
}

/// (2) Mean of the `top_k` largest window ℓ1 errors per image (windows `window`², step
/// `stride`), averaged over the batch. Differentiable: avg-pool and top-k carry the gradient
/// to the chosen windows (the co-author's version rebuilt them detached).
pub fn patch(x: &Tensor, x_hat: &Tensor, window: i64, stride: i64, top_k: i64) -> Tensor {
    let errors = (x - x_hat).abs().avg_pool2d([window, window], [stride, stride], [0, 0], false, true, None::<i64>);
    let per_image = errors.flatten(1, -1); // [B, windows]
    let k = top_k.clamp(1, per_image.size()[1]);
    per_image.topk(k, 1, true, false).0.mean(Kind::Float)
}

/// (3) ℓ1(E(x), E(x̂)) between bottleneck encodings `[B, 8w, 2, 2]`.
pub fn latent(z: &Tensor, z_hat: &Tensor) -> Tensor {
    l1(z, z_hat)
}

/// (4) BCE(D_N(x̂), real): the generator wants D_N to take its reconstructions of normals as real.
pub fn normal_adversarial(d_n_of_reconstruction: &DiscriminatorOutput) -> Tensor {
    adversarial(d_n_of_reconstruction, true)
}

/// Smallest per-image ℓ1 inside ABC's log: keeps the loss finite when a reconstruction is exact.
pub const ABC_MIN_L1: f64 = 1e-6;

/// (5) Anomaly-boundary loss −log(1 − exp(−ℓ1(x_a, x̂_a))), per image, then averaged. Written
/// as −log(−expm1(−ℓ1)) with ℓ1 ≥ [`ABC_MIN_L1`], so it stays finite as ℓ1 → 0.
pub fn abc(x_a: &Tensor, x_a_hat: &Tensor) -> Tensor {
    let per_image = (x_a - x_a_hat).abs().flatten(1, -1).mean_dim(1, false, Kind::Float).clamp_min(ABC_MIN_L1);
    (-(-per_image.neg().expm1()).log()).mean(Kind::Float)
}

/// (6) BCE(D_A(x̂_a), fake): the generator wants D_A to reject its reconstructions of anomalies.
pub fn anomaly_adversarial(d_a_of_reconstruction: &DiscriminatorOutput) -> Tensor {
    adversarial(d_a_of_reconstruction, false)
}

/// (c) BCE over one joint batch: `logits [B + Bₐ]`, the first `normals` of normals (target 0),
/// the rest labelled anomalies (target 1), averaged over all images as a plain classifier does.
/// PyTorch: `F.binary_cross_entropy_with_logits(logits, torch.cat([zeros(B), ones(Bₐ)]))`.
pub fn classification(logits: &Tensor, normals: i64) -> Tensor {
    let target = logits.ones_like();
    let _ = target.narrow(0, 0, normals).fill_(0.0);
    logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean)
}

/// (7) ½[BCE(D_N(x), real) + BCE(D_N(x̂), fake)], with x̂ detached by the caller.
pub fn normal_discriminator(real: &DiscriminatorOutput, reconstruction: &DiscriminatorOutput) -> Tensor {
    (adversarial(real, true) + adversarial(reconstruction, false)) * 0.5
}

/// (8) ½[BCE(D_A(x_a), real) + BCE(D_A(x̂_a), fake)], with x̂_a detached by the caller.
pub fn anomaly_discriminator(real: &DiscriminatorOutput, reconstruction: &DiscriminatorOutput) -> Tensor {
    (adversarial(real, true) + adversarial(reconstruction, false)) * 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).view(shape)
    }

    fn close(a: &Tensor, b: f64) {
        let a = a.double_value(&[]);
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    fn output(image: f32, patch: f32) -> DiscriminatorOutput {
        DiscriminatorOutput { image: t(&[image], &[1]), patches: t(&[patch; 4], &[1, 1, 2, 2]) }
    }

    #[test]
    fn pixel_losses_by_hand() {
        let x = t(&[0.0, 1.0, -1.0, 0.5], &[1, 1, 2, 2]);
        let y = t(&[0.5, 1.0, 0.0, 0.5], &[1, 1, 2, 2]);
        close(&reconstruction(&x, &y), 0.375); // (0.5 + 0 + 1 + 0) / 4
        close(&latent(&x, &y), 0.375);
        // Windows 1×1 stride 1: errors 0.5, 0, 1, 0; worst two average 0.75.
        close(&patch(&x, &y, 1, 1, 2), 0.75);
        // ABC: −log(1 − e^−0.375)
        close(&abc(&x, &y), -(1.0 - (-0.375f64).exp()).ln());
        // Identical images: ℓ1 clamps to 1e-6, so the loss is large but finite.
        close(&abc(&x, &x), -(1.0 - (-ABC_MIN_L1).exp()).ln());
    }

    #[test]
    fn adversarial_losses_by_hand() {
        // Logit 0 = probability ½: BCE = ln 2 for either target.
        let ln2 = std::f64::consts::LN_2;
        close(&normal_adversarial(&output(0.0, 0.0)), ln2);
        // Logit 2 as "fake": −log(1 − σ(2)) = softplus(2).
        let softplus = |z: f64| (1.0 + z.exp()).ln();
        close(&anomaly_adversarial(&output(2.0, 2.0)), softplus(2.0));
        // Image head and patch map count equally.
        close(&normal_adversarial(&output(0.0, 2.0)), 0.5 * (ln2 + softplus(-2.0)));
        close(&normal_discriminator(&output(0.0, 0.0), &output(0.0, 0.0)), ln2);
        close(&anomaly_discriminator(&output(2.0, 2.0), &output(-2.0, -2.0)), softplus(-2.0));
        // Three normals at logit 0 (ln 2 each) and one anomaly at logit 2 (softplus(−2)).
        close(&classification(&t(&[0.0, 0.0, 0.0, 2.0], &[4]), 3), (3.0 * ln2 + softplus(-2.0)) / 4.0);
    }

    #[test]
    fn patch_loss_backpropagates_to_the_worst_windows() {
        let x = Tensor::rand([2, 1, 32, 32], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
        let target = Tensor::zeros([2, 1, 32, 32], (Kind::Float, tch::Device::Cpu));
        let loss = patch(&x, &target, 8, 4, 3);
        loss.backward();
        let grad = x.grad();
        assert!(grad.abs().sum(Kind::Float).double_value(&[]) > 0.0, "patch loss gradient is zero");
        // Only the pixels of 3 worst windows per image (at most 3·64 of 1024) get gradient.
        let touched = grad.ne(0.0).sum(Kind::Int64).int64_value(&[]);
        assert!(touched > 0 && touched <= 2 * 3 * 64, "{touched}");
    }

    #[test]
    fn weights_validate_and_parse() {
        let mut w = LossWeights::default();
        w.apply_assignment("abc=0.25").unwrap();
        assert_eq!(w.abc, 0.25);
        assert!(w.apply_assignment("abcd=1").unwrap_err().to_string().contains("the weights are"));
        assert!(w.apply_assignment("abc=-1").unwrap_err().to_string().contains("≥ 0"));
        assert!(w.apply_assignment("abc=nan").is_err());
        assert!(w.apply_assignment("abc").unwrap_err().to_string().contains("name=value"));
    }

    /// Each term trains the network the paper (or ganad's lever) gives it, and each network's
    /// objective is exactly the weighted sum of its own terms.
    #[test]
    fn every_term_trains_its_own_network() {
        let owner = |name: &str| LossParts::<f64>::OWNERS[LossParts::<f64>::NAMES.iter().position(|n| *n == name).unwrap()];
        for g in ["reconstruction", "patch", "latent", "normal_adversarial", "abc", "anomaly_adversarial", "classification"] {
            assert_eq!(owner(g), Network::Generator, "{g}");
        }
        for d in ["normal_discriminator", "discriminator_classification", "rotation"] {
            assert_eq!(owner(d), Network::NormalDiscriminator, "{d}");
        }
        assert_eq!(owner("anomaly_discriminator"), Network::AnomalyDiscriminator);
        let one = |v: f32| Some(Tensor::from(v));
        let parts = LossParts::<Tensor> {
            patch: one(2.0),
            normal_discriminator: one(3.0),
            rotation: one(5.0),
            anomaly_discriminator: one(7.0),
            ..Default::default()
        };
        let w = LossWeights { rotation: 2.0, ..LossWeights::default() };
        close(&parts.objective(Network::Generator, &w).unwrap(), 1.5 * 2.0);
        close(&parts.objective(Network::NormalDiscriminator, &w).unwrap(), 3.0 + 2.0 * 5.0);
        close(&parts.objective(Network::AnomalyDiscriminator, &w).unwrap(), 0.5 * 7.0);
        assert!(parts.objective(Network::Baseline, &w).is_none());
        close(&parts.total(&w).unwrap(), 3.0 + 3.0 + 10.0 + 3.5);
        // Only the terms that need labelled anomalies make a config use them.
        assert!(!LossWeights { abc: 0.0, anomaly_adversarial: 0.0, anomaly_discriminator: 0.0, ..LossWeights::default() }.uses_labelled());
        assert!(LossWeights::default().uses_labelled());
        assert!(LossWeights::zero().values().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn absent_terms_do_not_enter_the_total() {
        let parts = LossParts::<Tensor> {
            reconstruction: Some(Tensor::from(2.0f32)),
            classification: Some(Tensor::from(1.0f32)),
            normal_discriminator: Some(Tensor::from(7.0f32)),
            abc: Some(Tensor::from(5.0f32)),
            ..Default::default()
        };
        let w = LossWeights { abc: 3.0, reconstruction: 10.0, classification: 0.5, ..LossWeights::default() };
        close(&parts.generator_total(&w).unwrap(), 35.5); // the discriminator's term is not G's
        let values = parts.values();
        assert_eq!((values.reconstruction, values.abc, values.classification, values.patch), (Some(2.0), Some(5.0), Some(1.0), None));
        assert!(LossParts::<Tensor>::default().generator_total(&w).is_none());
    }
}
