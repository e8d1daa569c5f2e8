//! The three networks of the method, each in its own VarStore (so each gets its own optimizer
//! and its own checkpoint file): G, D_N, and D_A where `model.anomaly_discriminator` says so;
//! the heads `model` names; and, when the config asks for one, a moving average of G's weights
//! that scores in G's place.

pub mod losses;
pub mod score;

use crate::config::Config;
use crate::gan::losses::{LossParts, LossWeights, Network};
use crate::nets::layers::{Norm, WeightCastScope};
use crate::nets::{Discriminator, ExtraHeads, Generator, Precision};
use tch::{nn, Device, Kind, Tensor};

pub const GENERATOR: &str = "generator";
pub const NORMAL_DISCRIMINATOR: &str = "normal_discriminator";
pub const ANOMALY_DISCRIMINATOR: &str = "anomaly_discriminator";
pub const GENERATOR_EMA: &str = "generator_ema";

/// The store each of the GAN's networks is saved (and optimised) under, in update order.
const NETWORKS: [(Network, &str); 3] = [
    (Network::Generator, GENERATOR),
    (Network::NormalDiscriminator, NORMAL_DISCRIMINATOR),
    (Network::AnomalyDiscriminator, ANOMALY_DISCRIMINATOR),
];

/// An exponential moving average of G's weights (BatchNorm statistics copied as they are).
pub struct Ema {
    pub vs: nn::VarStore,
    pub generator: Generator,
    /// (average, live, is a trained parameter) for every variable of G.
    pairs: Vec<(Tensor, Tensor, bool)>,
}

pub struct Gan {
    pub generator_vs: nn::VarStore,
    pub generator: Generator,
    pub normal_vs: nn::VarStore,
    pub normal_discriminator: Discriminator,
    /// D_A, present where `model.anomaly_discriminator`.
    pub anomaly: Option<(nn::VarStore, Discriminator)>,
    /// Present when `train.ema_decay` > 0.
    pub ema: Option<Ema>,
}

impl Gan {
    /// Fresh networks with N(0, 0.02) weights; call `tch::manual_seed` first for reproducibility.
    pub fn new(cfg: &Config, device: Device, precision: Precision) -> Self {
        let generator_vs = nn::VarStore::new(device);
        let generator = Generator::new(&generator_vs.root(), &cfg.model, precision);
        let normal_vs = nn::VarStore::new(device);
        let heads = ExtraHeads { anomaly: cfg.model.discriminator_anomaly_head, rotation: cfg.model.rotation_head };
        let normal_discriminator = Discriminator::new(&normal_vs.root(), cfg.model.discriminator_width, precision, heads);
        let anomaly = cfg.model.anomaly_discriminator.then(|| {
            let vs = nn::VarStore::new(device);
            let d = Discriminator::new(&vs.root(), cfg.model.discriminator_width, precision, ExtraHeads::default());
            (vs, d)
        });
        let ema = (cfg.train.ema_decay > 0.0).then(|| {
            let mut vs = nn::VarStore::new(device);
            let generator = Generator::new(&vs.root(), &cfg.model, precision);
            vs.copy(&generator_vs).expect("the average has G's shape");
            vs.freeze();
            let live = generator_vs.variables();
            let pairs: Vec<(Tensor, Tensor, bool)> =
                vs.variables().into_iter().map(|(name, avg)| (avg, live[&name].shallow_clone(), live[&name].requires_grad())).collect();
            Ema { vs, generator, pairs }
        });
        Gan { generator_vs, generator, normal_vs, normal_discriminator, anomaly, ema }
    }

    /// The generator that scores: the moving average when there is one, else G.
    pub fn scoring_generator(&self) -> &Generator {
        self.ema.as_ref().map_or(&self.generator, |e| &e.generator)
    }

    /// After an update of G: average ← decay · average + (1 − decay) · G; statistics copied.
    pub fn update_ema(&mut self, decay: f64) {
        let Some(ema) = &mut self.ema else { return };
        tch::no_grad(|| {
            for (avg, live, trained) in &mut ema.pairs {
                if *trained {
                    let _ = avg.lerp_(live, 1.0 - decay);
                } else {
                    avg.copy_(live);
                }
            }
        });
    }

    /// The VarStores by checkpoint name.
    pub fn stores(&self) -> Vec<(&'static str, &nn::VarStore)> {
        let mut v = vec![(GENERATOR, &self.generator_vs), (NORMAL_DISCRIMINATOR, &self.normal_vs)];
        if let Some((vs, _)) = &self.anomaly {
            v.push((ANOMALY_DISCRIMINATOR, vs));
        }
        if let Some(ema) = &self.ema {
            v.push((GENERATOR_EMA, &ema.vs));
        }
        v
    }

    pub fn stores_mut(&mut self) -> Vec<(&'static str, &mut nn::VarStore)> {
        let mut v = vec![(GENERATOR, &mut self.generator_vs), (NORMAL_DISCRIMINATOR, &mut self.normal_vs)];
        if let Some((vs, _)) = &mut self.anomaly {
            v.push((ANOMALY_DISCRIMINATOR, vs));
        }
        if let Some(ema) = &mut self.ema {
            v.push((GENERATOR_EMA, &mut ema.vs));
        }
        v
    }

    pub fn device(&self) -> Device {
        self.generator_vs.device()
    }

    /// Every loss term at the current weights, in train mode, each only when its weight is
    /// positive (anomaly terms also need `anomalies`). `normals`: `[B, 1, 32, 32]`; `anomalies`:
    /// `[Bₐ, 1, 32, 32]`.
    ///
    /// Each discriminator runs once on each reconstruction: that one output serves the
    /// generator's adversarial term and the fake half of the discriminator's own term. The
    /// trainer takes the discriminator's gradients for its own parameters only, which is what
    /// the paper's `x̂.detach()` achieves, without a second forward pass.
    pub fn losses(&self, cfg: &Config, normals: &Tensor, anomalies: Option<&Tensor>) -> LossParts<Tensor> {
        let _casts = WeightCastScope::open();
        let (w, p) = (&cfg.loss, &cfg.patch);
        let anomaly_norm = if cfg.train.normal_statistics { Norm::TrainKeepStatistics } else { Norm::Train };
        let g = &self.generator;
        let d_n = &self.normal_discriminator;
        let encoding = g.encode(normals, true);
        let x_hat = g.decode(&encoding, true);
        let mut parts = LossParts::<Tensor>::default();
        if w.reconstruction > 0.0 {
            parts.reconstruction = Some(losses::reconstruction(normals, &x_hat));
        }
        if w.patch > 0.0 {
            parts.patch = Some(losses::patch(normals, &x_hat, p.window, p.stride, p.top_k));
        }
        if w.latent > 0.0 {
            parts.latent = Some(losses::latent(&encoding.features(), &g.encode(&x_hat, true).features()));
        }
        if w.normal_adversarial > 0.0 || w.normal_discriminator > 0.0 {
            let fake = d_n.forward(&x_hat, true);
            if w.normal_discriminator > 0.0 {
                parts.normal_discriminator = Some(losses::normal_discriminator(&d_n.forward(normals, true), &fake));
            }
            if w.normal_adversarial > 0.0 {
                parts.normal_adversarial = Some(losses::normal_adversarial(&fake));
            }
        }
        if w.rotation > 0.0 {
            // D_N learns the normals' shape by telling how each was turned: no label needed.
            let b = normals.size()[0];
            let turned = ((b as f64 * cfg.train.rotation_share).ceil() as i64).clamp(1, b);
            parts.rotation = d_n.rotation_loss(&normals.narrow(0, 0, turned), true).map(|l| l.mean(Kind::Float));
        }
        let Some(x_a) = anomalies else { return parts };
        if w.discriminator_classification > 0.0 && d_n.has_anomaly_head() {
            // D_N's anomaly head learns as the classifier baseline does, from one batch of both;
            // unlike the generator's head, that pass moves BatchNorm's running statistics too.
            let b = normals.size()[0];
            let logits = d_n.anomaly_logit(&Tensor::cat(&[normals, x_a], 0), true).expect("has the head");
            parts.discriminator_classification = Some(losses::classification(&logits, b));
        }
        if w.classification > 0.0 && g.has_head() {
            // The head learns from one batch of both, as a plain classifier does: with a pass of
            // its own, BatchNorm would normalise the anomalies by their own statistics and hide
            // from the head the very shift that tells them apart at test time. That pass leaves
            // the running statistics to the normal batches.
            let b = normals.size()[0];
            let joint = g.encode(&Tensor::cat(&[normals, x_a], 0), Norm::TrainKeepStatistics);
            let logits = g.anomaly_logit(&joint).expect("has a head");
            parts.classification = Some(losses::classification(&logits, b));
        }
        let wants_reconstruction = w.abc > 0.0 || w.anomaly_adversarial > 0.0 || w.anomaly_discriminator > 0.0;
        if !wants_reconstruction {
            return parts;
        }
        let x_a_hat = g.decode(&g.encode(x_a, anomaly_norm), anomaly_norm);
        if w.abc > 0.0 {
            parts.abc = Some(losses::abc(x_a, &x_a_hat));
        }
        if let Some((_, d_a)) = &self.anomaly {
            let fake = d_a.forward(&x_a_hat, true);
            if w.anomaly_discriminator > 0.0 {
                parts.anomaly_discriminator = Some(losses::anomaly_discriminator(&d_a.forward(x_a, true), &fake));
            }
            if w.anomaly_adversarial > 0.0 {
                parts.anomaly_adversarial = Some(losses::anomaly_adversarial(&fake));
            }
        }
        parts
    }

    /// What each network minimises, by store name: the weighted sum of the terms it owns
    /// (the owners are in the table of `losses`). Networks with no term this step are left out.
    pub fn objectives(parts: &LossParts<Tensor>, w: &LossWeights) -> Vec<(&'static str, Tensor)> {
        NETWORKS.iter().filter_map(|&(network, store)| parts.objective(network, w).map(|loss| (store, loss))).collect()
    }
}
