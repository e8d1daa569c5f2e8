//! The three networks of the method, each in its own VarStore (so each gets its own optimizer
//! and its own checkpoint file): G, D_N, and D_A when labelled anomalies exist.

use crate::config::{Config, PatchConfig};
use crate::losses::{self, LossParts, LossWeights};
use crate::nets::{Discriminator, Generator};
use tch::{nn, nn::ModuleT, Device, Tensor};

pub const GENERATOR: &str = "generator";
pub const NORMAL_DISCRIMINATOR: &str = "normal_discriminator";
pub const ANOMALY_DISCRIMINATOR: &str = "anomaly_discriminator";

pub struct Gan {
    pub generator_vs: nn::VarStore,
    pub generator: Generator,
    pub normal_vs: nn::VarStore,
    pub normal_discriminator: Discriminator,
    /// Present only when the config uses labelled anomalies.
    pub anomaly: Option<(nn::VarStore, Discriminator)>,
}

impl Gan {
    /// Fresh networks with N(0, 0.02) weights; call `tch::manual_seed` first for reproducibility.
    pub fn new(cfg: &Config, device: Device) -> Self {
        let generator_vs = nn::VarStore::new(device);
        let generator = Generator::new(&generator_vs.root(), &cfg.model);
        let normal_vs = nn::VarStore::new(device);
        let normal_discriminator = Discriminator::new(&normal_vs.root(), cfg.model.discriminator_width);
        let anomaly = cfg.uses_anomalies().then(|| {
            let vs = nn::VarStore::new(device);
            let d = Discriminator::new(&vs.root(), cfg.model.discriminator_width);
            (vs, d)
        });
        Gan { generator_vs, generator, normal_vs, normal_discriminator, anomaly }
    }

    /// The VarStores by checkpoint name.
    pub fn stores(&self) -> Vec<(&'static str, &nn::VarStore)> {
        let mut v = vec![(GENERATOR, &self.generator_vs), (NORMAL_DISCRIMINATOR, &self.normal_vs)];
        if let Some((vs, _)) = &self.anomaly {
            v.push((ANOMALY_DISCRIMINATOR, vs));
        }
        v
    }

    pub fn stores_mut(&mut self) -> Vec<(&'static str, &mut nn::VarStore)> {
        let mut v = vec![(GENERATOR, &mut self.generator_vs), (NORMAL_DISCRIMINATOR, &mut self.normal_vs)];
        if let Some((vs, _)) = &mut self.anomaly {
            v.push((ANOMALY_DISCRIMINATOR, vs));
        }
        v
    }

    pub fn device(&self) -> Device {
        self.generator_vs.device()
    }

    /// The eight losses at the current weights, in train mode, each only when its weight is
    /// > 0 (anomaly terms also need `anomalies` and D_A). The discriminator terms see detached
    /// reconstructions; the generator terms keep the graph through G and the discriminators.
    /// `normals`: `[B, 1, 32, 32]`; `anomalies`: `[Bₐ, 1, 32, 32]`.
    pub fn losses(&self, w: &LossWeights, p: &PatchConfig, normals: &Tensor, anomalies: Option<&Tensor>) -> LossParts<Tensor> {
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
            parts.latent = Some(losses::latent(&encoding.bottleneck, &g.encode(&x_hat, true).bottleneck));
        }
        if w.normal_adversarial > 0.0 {
            parts.normal_adversarial = Some(losses::normal_adversarial(&d_n.forward(&x_hat, true)));
        }
        if w.normal_discriminator > 0.0 {
            let real = d_n.forward(normals, true);
            parts.normal_discriminator = Some(losses::normal_discriminator(&real, &d_n.forward(&x_hat.detach(), true)));
        }
        if let (Some(x_a), Some((_, d_a))) = (anomalies, &self.anomaly) {
            let x_a_hat = g.forward_t(x_a, true);
            if w.abc > 0.0 {
                parts.abc = Some(losses::abc(x_a, &x_a_hat));
            }
            if w.anomaly_adversarial > 0.0 {
                parts.anomaly_adversarial = Some(losses::anomaly_adversarial(&d_a.forward(&x_a_hat, true)));
            }
            if w.anomaly_discriminator > 0.0 {
                let real = d_a.forward(x_a, true);
                parts.anomaly_discriminator = Some(losses::anomaly_discriminator(&real, &d_a.forward(&x_a_hat.detach(), true)));
            }
        }
        parts
    }
}
