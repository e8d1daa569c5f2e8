//! What a run trains: the GAN (which, with only the reconstruction term, is the autoencoder
//! baseline), the classifier baseline or the Deep SAD baseline. Each network lives in its own
//! VarStore, is trained by its own Adam on its own objective, and is saved under its own name.

use crate::baselines::deep_sad::{DeepSad, DeepSadScorer, DEEP_SAD};
use crate::config::method::Method;
use crate::config::Config;
use crate::evaluation::scoring::{ClassifierScorer, Scorer};
use crate::gan::losses::{self, LossParts, LossWeights};
use crate::gan::score::FusedScorer;
use crate::gan::Gan;
use crate::nets::Classifier;
use tch::{nn, Device, Tensor};

pub const CLASSIFIER: &str = "classifier";

// One model per run: the GAN variant's size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Model {
    Gan(Gan),
    Classifier { vs: nn::VarStore, net: Classifier },
    DeepSad(DeepSad),
}

impl Model {
    /// Fresh networks for `method` (its config already adapted by `experiment::method_config`),
    /// computing in the precision `cfg.train.precision` gives on `device`.
    pub fn new(method: Method, cfg: &Config, device: Device) -> crate::Result<Self> {
        let precision = crate::system::device::precision(cfg.train.precision, device)?;
        Ok(match method {
            Method::Classifier => {
                let vs = nn::VarStore::new(device);
                let net = Classifier::new(&vs.root(), cfg.model.discriminator_width, precision);
                Model::Classifier { vs, net }
            }
            Method::DeepSad => {
                let d = cfg.deep_sad.as_ref().ok_or_else(|| {
                    crate::Error::config("deep_sad", "a Deep SAD run needs the deep_sad section (experiment::method_config adds it)")
                })?;
                Model::DeepSad(DeepSad::new(d, device))
            }
            Method::Gan | Method::Autoencoder | Method::Random => Model::Gan(Gan::new(cfg, device, precision)),
        })
    }

    /// The trained networks by checkpoint name.
    pub fn stores(&self) -> Vec<(&'static str, &nn::VarStore)> {
        match self {
            Model::Gan(gan) => gan.stores(),
            Model::Classifier { vs, .. } => vec![(CLASSIFIER, vs)],
            Model::DeepSad(d) => vec![(DEEP_SAD, &d.vs)],
        }
    }

    pub fn stores_mut(&mut self) -> Vec<(&'static str, &mut nn::VarStore)> {
        match self {
            Model::Gan(gan) => gan.stores_mut(),
            Model::Classifier { vs, .. } => vec![(CLASSIFIER, vs)],
            Model::DeepSad(d) => vec![(DEEP_SAD, &mut d.vs)],
        }
    }

    pub fn device(&self) -> Device {
        self.stores()[0].1.device()
    }

    pub fn gan(&self) -> Option<&Gan> {
        match self {
            Model::Gan(gan) => Some(gan),
            Model::Classifier { .. } | Model::DeepSad(_) => None,
        }
    }

    /// Every loss term at the current weights (train mode).
    pub fn losses(&self, cfg: &Config, normals: &Tensor, anomalies: Option<&Tensor>) -> LossParts<Tensor> {
        match self {
            Model::Gan(gan) => gan.losses(cfg, normals, anomalies),
            Model::Classifier { net, .. } => {
                let mut parts = LossParts::default();
                if let Some(x_a) = anomalies {
                    // One batch of both, as a plain classifier is trained: BatchNorm then sees
                    // (and learns from) the difference between them.
                    let b = normals.size()[0];
                    let logits = net.forward(&Tensor::cat(&[normals, x_a], 0), true);
                    parts.classification = Some(losses::classification(&logits, b));
                }
                parts
            }
            Model::DeepSad(d) => {
                let terms = d.losses(normals, anomalies);
                LossParts { deep_sad_pretraining: terms.pretraining, deep_sad: terms.deep_sad, ..Default::default() }
            }
        }
    }

    /// What each network minimises: (store name, weighted loss). Networks whose loss is absent
    /// this step are left out.
    pub fn objectives(&self, parts: &LossParts<Tensor>, w: &LossWeights) -> Vec<(&'static str, Tensor)> {
        match self {
            Model::Gan(_) => Gan::objectives(parts, w),
            // A baseline's one network trains on every term it computed. Deep SAD's store holds
            // its decoder too: after pretraining the objective does not reach it (gradient zero).
            Model::Classifier { .. } => parts.total(w).map(|l| vec![(CLASSIFIER, l)]).unwrap_or_default(),
            Model::DeepSad(_) => parts.total(w).map(|l| vec![(DEEP_SAD, l)]).unwrap_or_default(),
        }
    }

    /// The run's scorer: the classifier's logit, or the GAN's score as `cfg.eval.score` fuses it
    /// (standardised on `train_normals`: training data only).
    pub fn scorer<'a>(&'a self, cfg: &Config, train_normals: &crate::data::ImageSet) -> Box<dyn Scorer + 'a> {
        match self {
            Model::Gan(gan) => Box::new(FusedScorer::new(
                gan.scoring_generator(),
                Some(&gan.normal_discriminator),
                &cfg.eval.score,
                train_normals,
                cfg.train.eval_batch_size,
            )),
            Model::Classifier { net, .. } => Box::new(ClassifierScorer { net }),
            Model::DeepSad(model) => Box::new(DeepSadScorer { model }),
        }
    }
}
