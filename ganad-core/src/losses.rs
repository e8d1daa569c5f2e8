//! The eight losses of Kim et al. (ECCV 2020 workshops, §3), each a pure function.
//!
//! Generator: (1) reconstruction, (2) patch, (3) latent, (4) normal adversarial, (5) ABC,
//! (6) anomaly adversarial. Discriminators: (7) normal, (8) anomaly. Discriminator outputs are
//! logits; every BCE is the with-logits form, averaged over the image head and the patch map.
//! Three terms are ours, not the paper's: (c) classification, a BCE that teaches a head on the
//! generator's encoder (or the classifier baseline) to tell labelled anomalies from normals,
//! (d) the same BCE for a head on D_N, and (r) rotation, D_N telling how a normal was turned.
//! ℓ1 is the mean absolute error. Shapes: images `[B, 1, 32, 32]`.

use crate::error::{Error, Result};
use crate::nets::DiscriminatorOutput;
use serde::{Deserialize, Serialize};
use tch::{Kind, Reduction, Tensor};

/// One weight λ per loss term. A weight of 0 switches its term off (it is not computed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossWeights {
    /// λ1 · ℓ1(x, G(x)) on normals: the term that keeps normal reconstructions close.
    pub reconstruction: f64,
    /// λ2 · mean of the k worst window errors on normals: no local defect may hide in the mean.
    pub patch: f64,
    /// λ3 · ℓ1(E(x), E(G(x))) on normals: the reconstruction must encode like the input.
    pub latent: f64,
    /// λ4 · BCE(D_N(G(x)), real): normal reconstructions should fool D_N.
    pub normal_adversarial: f64,
    /// λ5 · −log(1 − e^−ℓ1(x_a, G(x_a))) on labelled anomalies: push their reconstructions away.
    pub abc: f64,
    /// λ6 · BCE(D_A(G(x_a)), fake): anomaly reconstructions must not look like real anomalies.
    pub anomaly_adversarial: f64,
    /// λc · BCE(head(E(x)), normal) + BCE(head(E(x_a)), anomaly): not in the paper (0 there);
    /// the labelled anomalies' direct evidence, kept in the encoder that reconstructs.
    pub classification: f64,
    /// λ7 on D_N's loss (scales its gradient step).
    pub normal_discriminator: f64,
    /// λ8 on D_A's loss.
    pub anomaly_discriminator: f64,
    /// λd · the classification BCE for an anomaly head on D_N, added to D_N's loss: not in the
    /// paper (0 there); D_N's trunk is the classifier baseline's network.
    pub discriminator_classification: f64,
    /// λr · the cross-entropy of D_N's rotation head on the normals turned by 0°, 90°, 180° and
    /// 270°, added to D_N's loss: not in the paper (0 there); it needs no labelled anomaly.
    pub rotation: f64,
    /// The Deep SAD baseline's autoencoder pretraining (mean squared error); 0 for the GAN.
    #[serde(skip_serializing_if = "is_zero")]
    pub deep_sad_pretraining: f64,
    /// The Deep SAD baseline's objective (distance to the centre); 0 for the GAN.
    #[serde(skip_serializing_if = "is_zero")]
    pub deep_sad: f64,
}

/// Unused terms of other methods stay out of saved configs, which read back as they were.
fn is_zero(w: &f64) -> bool {
    *w == 0.0
}

impl Default for LossWeights {
    /// The co-author's Fashion-MNIST recipe (heavier reconstruction, ABC 3, latent 1); the other
    /// terms keep the co-author's general defaults.
    fn default() -> Self {
        LossWeights {
            reconstruction: 10.0,
            patch: 1.5,
            latent: 1.0,
            normal_adversarial: 0.5,
            abc: 3.0,
            anomaly_adversarial: 1.0,
            classification: 0.0,
            normal_discriminator: 1.0,
            anomaly_discriminator: 0.5,
            discriminator_classification: 0.0,
            rotation: 0.0,
            deep_sad_pretraining: 0.0,
            deep_sad: 0.0,
        }
    }
}

impl LossWeights {
    pub const NAMES: [&'static str; TERMS] = LossParts::<f64>::NAMES;

    fn fields_mut(&mut self) -> [&mut f64; TERMS] {
        [
            &mut self.reconstruction,
            &mut self.patch,
            &mut self.latent,
            &mut self.normal_adversarial,
            &mut self.abc,
            &mut self.anomaly_adversarial,
            &mut self.classification,
            &mut self.normal_discriminator,
            &mut self.anomaly_discriminator,
            &mut self.discriminator_classification,
            &mut self.rotation,
            &mut self.deep_sad_pretraining,
            &mut self.deep_sad,
        ]
    }

    /// The weights in [`Self::NAMES`] order.
    pub fn values(&self) -> [f64; TERMS] {
        let mut copy = self.clone();
        copy.fields_mut().map(|v| *v)
    }

    /// Sets one weight by name (`--weight abc=3`).
    pub fn set(&mut self, name: &str, value: f64) -> Result<()> {
        let i = Self::NAMES
            .iter()
            .position(|&n| n == name)
            .ok_or_else(|| Error::config("loss", format!("unknown weight {name:?}; the weights are {}", Self::NAMES.join(", "))))?;
        *self.fields_mut()[i] = value;
        self.validate()
    }

    /// Parses `name=value` and sets it.
    pub fn apply_assignment(&mut self, assignment: &str) -> Result<()> {
        let (name, value) =
            assignment.split_once('=').ok_or_else(|| Error::config("loss", format!("{assignment:?} is not name=value (e.g. abc=3)")))?;
        let value: f64 = value.trim().parse().map_err(|_| Error::config(&format!("loss.{name}"), format!("{value:?} is not a number")))?;
        self.set(name.trim(), value)
    }

    /// Every weight finite and ≥ 0.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in Self::NAMES.iter().zip(self.values()) {
            if !value.is_finite() || value < 0.0 {
                return Err(Error::config(&format!("loss.{name}"), format!("{value} must be finite and ≥ 0")));
            }
        }
        Ok(())
    }
}

/// How many terms: the paper's eight, our two classification terms and the rotation term, and
/// the Deep SAD baseline's two.
pub const TERMS: usize = 13;

/// The terms that train the generator (or the classifier baseline): the first seven.
pub const GENERATOR_TERMS: usize = 7;

/// Every loss term, each present only when computed.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossParts<T> {
    pub reconstruction: Option<T>,
    pub patch: Option<T>,
    pub latent: Option<T>,
    pub normal_adversarial: Option<T>,
    pub abc: Option<T>,
    pub anomaly_adversarial: Option<T>,
    #[serde(default)]
    pub classification: Option<T>,
    pub normal_discriminator: Option<T>,
    pub anomaly_discriminator: Option<T>,
    #[serde(default)]
    pub discriminator_classification: Option<T>,
    #[serde(default)]
    pub rotation: Option<T>,
    #[serde(default)]
    pub deep_sad_pretraining: Option<T>,
    #[serde(default)]
    pub deep_sad: Option<T>,
}

impl<T> LossParts<T> {
    pub const NAMES: [&'static str; TERMS] = [
        "reconstruction",
        "patch",
        "latent",
        "normal_adversarial",
        "abc",
        "anomaly_adversarial",
        "classification",
        "normal_discriminator",
        "anomaly_discriminator",
        "discriminator_classification",
        "rotation",
        "deep_sad_pretraining",
        "deep_sad",
    ];

    /// The terms in [`Self::NAMES`] order.
    pub fn terms(&self) -> [Option<&T>; TERMS] {
        [
            self.reconstruction.as_ref(),
            self.patch.as_ref(),
            self.latent.as_ref(),
            self.normal_adversarial.as_ref(),
            self.abc.as_ref(),
            self.anomaly_adversarial.as_ref(),
            self.classification.as_ref(),
            self.normal_discriminator.as_ref(),
            self.anomaly_discriminator.as_ref(),
            self.discriminator_classification.as_ref(),
            self.rotation.as_ref(),
            self.deep_sad_pretraining.as_ref(),
            self.deep_sad.as_ref(),
        ]
    }

    /// The inverse of [`Self::terms`] (owned).
    pub fn from_terms(t: [Option<T>; TERMS]) -> Self {
        #[rustfmt::skip]
        let [
            reconstruction, patch, latent, normal_adversarial, abc, anomaly_adversarial, classification,
            normal_discriminator, anomaly_discriminator, discriminator_classification, rotation,
            deep_sad_pretraining, deep_sad,
        ] = t;
        LossParts {
            reconstruction,
            patch,
            latent,
            normal_adversarial,
            abc,
            anomaly_adversarial,
            classification,
            normal_discriminator,
            anomaly_discriminator,
            discriminator_classification,
            rotation,
            deep_sad_pretraining,
            deep_sad,
        }
    }

    /// Each term mapped through `f`.
    pub fn map<U>(&self, f: impl Fn(&T) -> U) -> LossParts<U> {
        LossParts::from_terms(self.terms().map(|t| t.map(&f)))
    }
}

impl LossParts<Tensor> {
    /// Σ λᵢ · termᵢ over the generator's terms present (the one place weights are applied).
    pub fn generator_total(&self, w: &LossWeights) -> Option<Tensor> {
        let weights = w.values();
        self.terms()[..GENERATOR_TERMS].iter().zip(weights).filter_map(|(t, l)| t.map(|t| t * l)).reduce(|a, b| a + b)
    }

    /// Scalar values for the history: one host transfer for all terms, not one per term.
    pub fn values(&self) -> LossParts<f64> {
        let present: Vec<Tensor> = self.terms().iter().flatten().map(|t| t.detach().to_kind(Kind::Double).reshape([1])).collect();
        if present.is_empty() {
            return LossParts::default();
        }
        let all = Vec::<f64>::try_from(Tensor::cat(&present, 0).to_device(tch::Device::Cpu)).unwrap_or_default();
        let mut next = all.into_iter();
        LossParts::from_terms(self.terms().map(|t| t.and_then(|_| next.next())))
    }
}

impl LossParts<f64> {
    /// Σ λᵢ · termᵢ over the generator's terms present, as a number.
    pub fn generator_total(&self, w: &LossWeights) -> Option<f64> {
        let present: Vec<f64> = self.terms()[..GENERATOR_TERMS].iter().zip(w.values()).filter_map(|(t, l)| t.map(|t| t * l)).collect();
        (!present.is_empty()).then(|| present.iter().sum())
    }

    /// The first term that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<(&'static str, f64)> {
        Self::NAMES.iter().zip(self.terms()).find_map(|(n, v)| v.filter(|v| !v.is_finite()).map(|v| (*n, *v)))
    }
}

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
