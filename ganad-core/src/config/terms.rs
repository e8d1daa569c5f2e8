//! The loss terms, in one table: each term's weight (its meaning and the paper's default), the
//! network it trains, and whether it needs labelled anomalies. The loss functions are in
//! `gan::losses`, their computation in `gan` and `baselines::deep_sad`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Which network a term trains in the GAN, whose three networks each minimise their own
/// objective: the weighted sum of the terms they own. A baseline has one network, which
/// trains on every term it computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Generator,
    NormalDiscriminator,
    AnomalyDiscriminator,
    /// The one network of the Deep SAD baseline (its terms are never the GAN's).
    Baseline,
}

/// The loss terms, each once: its weight's name and meaning, the network it trains, its
/// default weight (the paper's recipe), whether it exists only with labelled anomalies, and
/// when a saved config leaves its weight out. [`LossWeights`], [`LossParts`], the term names
/// (`--weight`, the history's columns) and each network's objective all come from this table,
/// so a new term is one line here and its computation where its network's forward pass is.
macro_rules! loss_terms {
    ($( $(#[doc = $doc:literal])* $name:ident: $owner:ident = $default:literal, labelled $labelled:literal, omit_if $omit:literal; )*) => {
        /// One weight λ per loss term. A weight of 0 switches its term off (it is not computed).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct LossWeights {
            $( $(#[doc = $doc])* #[serde(skip_serializing_if = $omit)] pub $name: f64, )*
        }

        impl Default for LossWeights {
            /// The co-author's Fashion-MNIST recipe (heavier reconstruction, ABC 3, latent 1); the
            /// other terms keep the co-author's general defaults, ours are off.
            fn default() -> Self {
                LossWeights { $( $name: $default, )* }
            }
        }

        /// Every loss term, each present only when computed.
        #[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
        pub struct LossParts<T> {
            $( #[serde(default)] pub $name: Option<T>, )*
        }

        /// How many terms there are.
        pub const TERMS: usize = [$( stringify!($name) ),*].len();

        impl<T> LossParts<T> {
            pub const NAMES: [&'static str; TERMS] = [$( stringify!($name) ),*];
            /// The network each term trains, in [`Self::NAMES`] order.
            pub const OWNERS: [Network; TERMS] = [$( Network::$owner ),*];
            /// Whether each term exists only with labelled anomalies.
            pub const LABELLED: [bool; TERMS] = [$( $labelled ),*];

            /// The terms in [`Self::NAMES`] order.
            pub fn terms(&self) -> [Option<&T>; TERMS] {
                [$( self.$name.as_ref() ),*]
            }

            /// The inverse of [`Self::terms`] (owned).
            pub fn from_terms(t: [Option<T>; TERMS]) -> Self {
                let [$( $name ),*] = t;
                LossParts { $( $name ),* }
            }
        }

        impl LossWeights {
            fn fields_mut(&mut self) -> [&mut f64; TERMS] {
                [$( &mut self.$name ),*]
            }

            /// Every weight 0: a baseline switches on only its own terms.
            pub fn zero() -> Self {
                LossWeights { $( $name: 0.0, )* }
            }
        }
    };
}

fn never(_: &f64) -> bool {
    false
}

/// Terms of other methods stay out of the configs that do not use them, which read back as
/// they were written before those terms existed.
fn is_zero(w: &f64) -> bool {
    *w == 0.0
}

loss_terms! {
    /// λ1 · ℓ1(x, G(x)) on normals: the term that keeps normal reconstructions close.
    reconstruction: Generator = 10.0, labelled false, omit_if "never";
    /// λ2 · mean of the k worst window errors on normals: no local defect may hide in the mean.
    patch: Generator = 1.5, labelled false, omit_if "never";
    /// λ3 · ℓ1(E(x), E(G(x))) on normals: the reconstruction must encode like the input.
    latent: Generator = 1.0, labelled false, omit_if "never";
    /// λ4 · BCE(D_N(G(x)), real): normal reconstructions should fool D_N.
    normal_adversarial: Generator = 0.5, labelled false, omit_if "never";
    /// λ5 · −log(1 − e^−ℓ1(x_a, G(x_a))) on labelled anomalies: push their reconstructions away.
    abc: Generator = 3.0, labelled true, omit_if "never";
    /// λ6 · BCE(D_A(G(x_a)), fake): anomaly reconstructions must not look like real anomalies.
    anomaly_adversarial: Generator = 1.0, labelled true, omit_if "never";
    /// λc · BCE(head(E(x)), normal) + BCE(head(E(x_a)), anomaly): not in the paper (0 there);
    /// the labelled anomalies' direct evidence, kept in the encoder that reconstructs (also
    /// the classifier baseline's one term).
    classification: Generator = 0.0, labelled true, omit_if "never";
    /// λ7 on D_N's loss (scales its gradient step).
    normal_discriminator: NormalDiscriminator = 1.0, labelled false, omit_if "never";
    /// λ8 on D_A's loss.
    anomaly_discriminator: AnomalyDiscriminator = 0.5, labelled true, omit_if "never";
    /// λd · the classification BCE for an anomaly head on D_N, added to D_N's loss: not in the
    /// paper (0 there); D_N's trunk is the classifier baseline's network.
    discriminator_classification: NormalDiscriminator = 0.0, labelled true, omit_if "never";
    /// λr · the cross-entropy of D_N's rotation head on the normals turned by 0°, 90°, 180° and
    /// 270°, added to D_N's loss: not in the paper (0 there); it needs no labelled anomaly.
    rotation: NormalDiscriminator = 0.0, labelled false, omit_if "never";
    /// The Deep SAD baseline's autoencoder pretraining (mean squared error); 0 for the GAN.
    deep_sad_pretraining: Baseline = 0.0, labelled false, omit_if "is_zero";
    /// The Deep SAD baseline's objective (distance to the centre); 0 for the GAN.
    deep_sad: Baseline = 0.0, labelled false, omit_if "is_zero";
}

impl LossWeights {
    pub const NAMES: [&'static str; TERMS] = LossParts::<f64>::NAMES;

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

    /// Whether a term that exists only with labelled anomalies has weight.
    pub fn uses_labelled(&self) -> bool {
        self.values().iter().zip(LossParts::<f64>::LABELLED).any(|(&w, labelled)| labelled && w > 0.0)
    }

    /// The `--weight` flag's help: every term's name.
    pub fn help() -> String {
        format!("A loss weight, name=value (repeatable): {}.", Self::NAMES.join(", "))
    }
}

impl LossParts<Tensor> {
    /// What `network` minimises: Σ λᵢ · termᵢ over the terms present that it owns (the one
    /// place weights are applied).
    pub fn objective(&self, network: Network, w: &LossWeights) -> Option<Tensor> {
        self.weighted(w, |i| Self::OWNERS[i] == network)
    }

    /// Σ λᵢ · termᵢ over every term present: a baseline's one network.
    pub fn total(&self, w: &LossWeights) -> Option<Tensor> {
        self.weighted(w, |_| true)
    }

    fn weighted(&self, w: &LossWeights, take: impl Fn(usize) -> bool) -> Option<Tensor> {
        let weights = w.values();
        self.terms().iter().enumerate().filter(|(i, _)| take(*i)).filter_map(|(i, t)| t.map(|t| t * weights[i])).reduce(|a, b| a + b)
    }

    /// The generator's objective ([`Self::objective`] of [`Network::Generator`]).
    pub fn generator_total(&self, w: &LossWeights) -> Option<Tensor> {
        self.objective(Network::Generator, w)
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
        let present: Vec<f64> = self
            .terms()
            .iter()
            .zip(w.values())
            .zip(Self::OWNERS)
            .filter(|(_, owner)| *owner == Network::Generator)
            .filter_map(|((t, l), _)| t.map(|t| t * l))
            .collect();
        (!present.is_empty()).then(|| present.iter().sum())
    }

    /// The first term that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<(&'static str, f64)> {
        Self::NAMES.iter().zip(self.terms()).find_map(|(n, v)| v.filter(|v| !v.is_finite()).map(|v| (*n, *v)))
    }
}
