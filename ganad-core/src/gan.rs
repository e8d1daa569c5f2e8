//! The three networks of the method, each in its own VarStore (so each gets its own optimizer
//! and its own checkpoint file): G, D_N, and D_A when labelled anomalies exist.

use crate::config::Config;
use crate::nets::{Discriminator, Generator};
use tch::{nn, Device};

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
}
