//! Training (Kim et al. §3): per step, all eight losses are computed from the same weights, then
//! the generator steps on its six weighted terms and each discriminator on its own loss (over
//! detached reconstructions). Separate Adam optimizers per network.
//! Each epoch ends with a validation AUROC; the best epoch's weights are checkpointed, and a
//! `last` checkpoint lets a killed run resume. The trainer yields plain records; it prints nothing.

use crate::checkpoint;
use crate::config::Config;
use crate::data::batch::{epoch_order, SplitData};
use crate::error::{Error, Result};
use crate::gan::Gan;
use crate::losses::LossParts;
use crate::metrics;
use crate::score::{score_set, ReconstructionScorer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, nn::OptimizerConfig, Tensor};

/// One optimisation step's losses (unweighted terms; `generator_total` is the weighted sum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub epoch: usize,
    pub step: usize,
    pub losses: LossParts<f64>,
    pub generator_total: Option<f64>,
    /// Seconds of training so far (this process and any resumed ones).
    pub wall_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub steps: usize,
    pub validation_auroc: f64,
    pub wall_s: f64,
}

impl StepRecord {
    /// One line: epoch, step, weighted generator total and every computed term.
    pub fn summary(&self) -> String {
        let mut line = format!("epoch {} step {}", self.epoch, self.step);
        if let Some(t) = self.generator_total {
            line.push_str(&format!(" G {t:.4}"));
        }
        for (name, v) in LossParts::<f64>::NAMES.iter().zip(self.losses.terms()) {
            if let Some(v) = v {
                line.push_str(&format!(" {name} {v:.4}"));
            }
        }
        line
    }
}

impl EpochRecord {
    pub fn summary(&self) -> String {
        format!("epoch {} done: {} steps, validation AUROC {:.4}, {:.1} s", self.epoch, self.steps, self.validation_auroc, self.wall_s)
    }
}

/// Everything a resumed run needs besides the weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub epochs_done: usize,
    pub step: usize,
    pub history: Vec<StepRecord>,
    pub epochs: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    pub best_validation_auroc: Option<f64>,
    pub train_s: f64,
}

/// One Adam per network, and the update order of a step.
pub struct Optimizers {
    generator: nn::Optimizer,
    normal: nn::Optimizer,
    anomaly: Option<nn::Optimizer>,
}

impl Optimizers {
    pub fn new(gan: &Gan, t: &crate::config::TrainConfig) -> Result<Self> {
        let adam = |vs: &nn::VarStore| -> Result<nn::Optimizer> {
            Ok(nn::Adam { beta1: t.beta1, beta2: t.beta2, ..Default::default() }.build(vs, t.learning_rate)?)
        };
        Ok(Optimizers {
            generator: adam(&gan.generator_vs)?,
            normal: adam(&gan.normal_vs)?,
            anomaly: gan.anomaly.as_ref().map(|(vs, _)| adam(vs)).transpose()?,
        })
    }

    /// Applies one step from losses computed by [`Gan::losses`]; returns the weighted G total.
    pub fn update(&mut self, parts: &LossParts<Tensor>, w: &crate::losses::LossWeights) -> Option<f64> {
        let total = parts.generator_total(w);
        let value = total.as_ref().map(|t| t.double_value(&[]));
        // 1. G first: its adversarial terms ran through the discriminators' current weights,
        //    which the discriminator steps below change in place.
        if let Some(total) = total {
            self.generator.backward_step(&total);
        }
        // 2. The discriminators, on reconstructions detached inside `losses` (so these steps leave
        //    G alone); backward_step first clears the stray gradients G's backward left in them.
        if let Some(loss) = &parts.normal_discriminator {
            self.normal.backward_step(&(loss * w.normal_discriminator));
        }
        if let (Some(loss), Some(opt)) = (&parts.anomaly_discriminator, &mut self.anomaly) {
            opt.backward_step(&(loss * w.anomaly_discriminator));
        }
        value
    }
}

pub struct Trainer<'a> {
    pub cfg: Config,
    pub gan: Gan,
    pub state: TrainState,
    data: &'a SplitData,
    optimizers: Optimizers,
    run_dir: PathBuf,
    clock: Instant,
    clock_offset: f64,
}

/// Salt for the anomaly batch order, so it differs from the normal batch order.
const ANOMALY_ORDER_SALT: u64 = 0xA11_0BAD;

impl<'a> Trainer<'a> {
    /// Fresh networks; writes `config.json` into `run_dir` before step 0.
    pub fn new(cfg: &Config, data: &'a SplitData, run_dir: &Path) -> Result<Self> {
        cfg.validate()?;
        if cfg.uses_anomalies() && data.train_anomaly.is_empty() {
            return Err(Error::config("data.anomaly_ratio", "ratio > 0 but the split holds no labelled anomaly"));
        }
        crate::atomic::write_json(&run_dir.join("config.json"), cfg)?;
        tch::manual_seed(cfg.seed as i64);
        let gan = Gan::new(cfg, data.device());
        let optimizers = Optimizers::new(&gan, &cfg.train)?;
        Ok(Trainer {
            cfg: cfg.clone(),
            gan,
            state: TrainState::default(),
            data,
            optimizers,
            run_dir: run_dir.to_path_buf(),
            clock: Instant::now(),
            clock_offset: 0.0,
        })
    }

    /// Continues from `run_dir`'s `last` checkpoint (Adam moments restart from zero).
    pub fn resume(cfg: &Config, data: &'a SplitData, run_dir: &Path) -> Result<Self> {
        let saved_path = run_dir.join("config.json");
        let saved: Config = crate::atomic::read_json(&saved_path)?;
        if saved != *cfg {
            return Err(Error::Checkpoint {
                path: saved_path,
                what: "the run was started with another config".into(),
                fix: "resume with the same flags and --config as the first run, or start a new --out".into(),
            });
        }
        let mut t = Self::new(cfg, data, run_dir)?;
        t.state = checkpoint::load(&t.last_checkpoint(), &mut t.gan)?;
        t.clock_offset = t.state.train_s;
        Ok(t)
    }

    pub fn last_checkpoint(&self) -> PathBuf {
        self.run_dir.join("checkpoints").join("last")
    }

    pub fn best_checkpoint(&self) -> PathBuf {
        self.run_dir.join("checkpoints").join("best")
    }

    fn elapsed(&self) -> f64 {
        self.clock_offset + self.clock.elapsed().as_secs_f64()
    }

    fn non_finite(&self, what: String) -> Error {
        let kept = if checkpoint::exists(&self.last_checkpoint()) {
            format!("the last good checkpoint ({} epochs) is kept at {}", self.state.epochs_done, self.last_checkpoint().display())
        } else {
            "no checkpoint was written yet".to_string()
        };
        Error::NonFinite { what, epoch: self.state.epochs_done, step: self.state.step, kept }
    }

    /// One step on a batch of normals `[B, 1, 32, 32]` and, when D_A exists, anomalies `[Bₐ, 1, 32, 32]`.
    /// All eight losses come from the same weights (see [`Gan::losses`]); nothing is updated
    /// when any of them is not finite.
    pub fn step(&mut self, normals: &Tensor, anomalies: Option<&Tensor>) -> Result<StepRecord> {
        let w = self.cfg.loss.clone();
        let parts = self.gan.losses(&w, &self.cfg.patch, normals, anomalies);
        let values = parts.values();
        if let Some((name, v)) = values.first_non_finite() {
            return Err(self.non_finite(format!("{name} loss ({v}); try a lower learning rate or smaller loss weights")));
        }
        let generator_total = self.optimizers.update(&parts, &w);
        self.state.step += 1;
        Ok(StepRecord { epoch: self.state.epochs_done, step: self.state.step, losses: values, generator_total, wall_s: self.elapsed() })
    }

    /// Anomaly batch for a global step: a fixed function of (seed, step), so resuming repeats it.
    fn anomaly_rows(&self, step: usize) -> Vec<i64> {
        let n = self.data.train_anomaly.len();
        let size = self.cfg.train.anomaly_batch_size.min(n);
        let mut rows = Vec::with_capacity(size);
        let mut cached: Option<(usize, Vec<i64>)> = None;
        for j in 0..size {
            let pos = step * size + j;
            let cycle = pos / n;
            if cached.as_ref().map(|c| c.0) != Some(cycle) {
                cached = Some((cycle, epoch_order(n, self.cfg.seed ^ ANOMALY_ORDER_SALT, cycle)));
            }
            rows.push(cached.as_ref().unwrap().1[pos % n]);
        }
        rows
    }

    /// One pass over the normal training images, then validation and checkpoints.
    pub fn run_epoch(&mut self, on_step: &mut dyn FnMut(&StepRecord)) -> Result<EpochRecord> {
        let epoch = self.state.epochs_done;
        let order = epoch_order(self.data.train_normal.len(), self.cfg.seed, epoch);
        let mut steps = 0;
        for rows in order.chunks(self.cfg.train.batch_size) {
            let normals = self.data.train_normal.batch(rows);
            let anomalies = (self.gan.anomaly.is_some()).then(|| self.data.train_anomaly.batch(&self.anomaly_rows(self.state.step)));
            let record = self.step(&normals, anomalies.as_ref())?;
            on_step(&record);
            self.state.history.push(record);
            steps += 1;
        }

        let validation_auroc = self.validation_auroc()?;
        self.state.epochs_done += 1;
        self.state.train_s = self.elapsed();
        let record = EpochRecord { epoch, steps, validation_auroc, wall_s: self.state.train_s };
        self.state.epochs.push(record.clone());
        if self.state.best_validation_auroc.is_none_or(|best| validation_auroc > best) {
            self.state.best_validation_auroc = Some(validation_auroc);
            self.state.best_epoch = Some(epoch);
            checkpoint::save(&self.best_checkpoint(), &self.gan, &self.state)?;
        }
        checkpoint::save(&self.last_checkpoint(), &self.gan, &self.state)?;
        Ok(record)
    }

    /// AUROC of the current generator on the validation set.
    pub fn validation_auroc(&self) -> Result<f64> {
        let scorer = ReconstructionScorer { generator: &self.gan.generator };
        let scores = score_set(&scorer, &self.data.validation, self.cfg.train.eval_batch_size);
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(self.non_finite(format!("validation score of image {i}")));
        }
        metrics::auroc(&scores, &self.data.validation.labels)
    }

    /// Trains until `cfg.train.epochs` epochs are done (a resumed run continues where it stopped).
    pub fn fit(&mut self, on_step: &mut dyn FnMut(&StepRecord), on_epoch: &mut dyn FnMut(&EpochRecord)) -> Result<()> {
        while self.state.epochs_done < self.cfg.train.epochs {
            let record = self.run_epoch(on_step)?;
            on_epoch(&record);
        }
        Ok(())
    }

    /// Replaces the current weights by the best-on-validation checkpoint's.
    pub fn load_best(&mut self) -> Result<()> {
        let _: TrainState = checkpoint::load(&self.best_checkpoint(), &mut self.gan)?;
        Ok(())
    }

    pub fn scorer(&self) -> ReconstructionScorer<'_> {
        ReconstructionScorer { generator: &self.gan.generator }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;
    use crate::data::idx::IdxImages;
    use crate::data::{FashionMnist, LabelledImages, NUM_CLASSES};
    use tch::Device;

    /// Random images whose brightness depends on the class, `per_class` per class.
    fn synthetic(per_class: usize, seed: u8) -> LabelledImages {
        let n = per_class * NUM_CLASSES;
        let labels: Vec<u8> = (0..n).map(|i| (i % NUM_CLASSES) as u8).collect();
        let pixels = (0..n * 784).map(|p| ((p * 31 + seed as usize * 7) % 97) as u8 + labels[p / 784] * 15).collect();
        LabelledImages { images: IdxImages { count: n, rows: 28, cols: 28, pixels }, labels }
    }

    fn tiny_setup() -> (Config, SplitData) {
        let mut cfg = Config::preset(Profile::Quick);
        cfg.model.base_width = 4;
        cfg.model.discriminator_width = 4;
        cfg.data.validation_share = 0.2;
        cfg.data.anomaly_ratio = 0.2;
        cfg.train.batch_size = 8;
        cfg.train.anomaly_batch_size = 4;
        cfg.train.device = "cpu".into();
        let ds = FashionMnist { train: synthetic(20, 1), test: synthetic(5, 2), source: "synthetic".into() };
        let data = SplitData::new(&ds, &cfg.split_spec(), Device::Cpu).unwrap();
        (cfg, data)
    }

    #[test]
    fn a_step_computes_all_eight_terms_and_skips_zero_weights() {
        let (mut cfg, data) = tiny_setup();
        let dir = tempfile::tempdir().unwrap();
        let mut t = Trainer::new(&cfg, &data, dir.path()).unwrap();
        let record = t.step(&data.train_normal.batch(&[0, 1, 2, 3]), Some(&data.train_anomaly.batch(&[0, 1]))).unwrap();
        assert!(record.losses.terms().iter().all(|v| v.is_some_and(|v| v.is_finite())), "{:?}", record.losses);

        cfg.loss.latent = 0.0;
        cfg.loss.anomaly_adversarial = 0.0;
        let mut t = Trainer::new(&cfg, &data, dir.path()).unwrap();
        let record = t.step(&data.train_normal.batch(&[0, 1, 2, 3]), Some(&data.train_anomaly.batch(&[0, 1]))).unwrap();
        assert!(record.losses.latent.is_none() && record.losses.anomaly_adversarial.is_none());
        assert!(record.losses.abc.is_some());

        // Normal-only: no D_A, no anomaly terms.
        cfg.data.anomaly_ratio = 0.0;
        let mut t = Trainer::new(&cfg, &data, dir.path()).unwrap();
        assert!(t.gan.anomaly.is_none());
        let record = t.step(&data.train_normal.batch(&[0, 1, 2, 3]), None).unwrap();
        assert!(record.losses.abc.is_none() && record.losses.anomaly_discriminator.is_none());
        assert!(record.losses.reconstruction.is_some() && record.losses.normal_discriminator.is_some());
    }

    #[test]
    fn nan_stops_training_and_the_checkpoint_stays_loadable() {
        let (cfg, data) = tiny_setup();
        let dir = tempfile::tempdir().unwrap();
        let mut t = Trainer::new(&cfg, &data, dir.path()).unwrap();
        t.run_epoch(&mut |_| {}).unwrap();
        let poisoned = data.train_normal.batch(&[0, 1, 2, 3]) * f64::NAN;
        let err = t.step(&poisoned, Some(&data.train_anomaly.batch(&[0]))).unwrap_err().to_string();
        assert!(err.contains("non-finite") && err.contains("last good checkpoint"), "{err}");

        let mut fresh = Gan::new(&cfg, Device::Cpu);
        let state: TrainState = checkpoint::load(&t.last_checkpoint(), &mut fresh).unwrap();
        assert_eq!(state.epochs_done, 1);
        for (_, vs) in fresh.stores() {
            for (name, w) in vs.variables() {
                assert!(w.isfinite().all().int64_value(&[]) == 1, "{name} not finite");
            }
        }
    }

    #[test]
    fn a_broken_checkpoint_is_a_clear_error() {
        let (cfg, data) = tiny_setup();
        let dir = tempfile::tempdir().unwrap();
        let mut t = Trainer::new(&cfg, &data, dir.path()).unwrap();
        t.run_epoch(&mut |_| {}).unwrap();
        std::fs::write(t.last_checkpoint().join("generator.safetensors"), b"not weights").unwrap();
        let err = Trainer::resume(&cfg, &data, dir.path()).err().unwrap().to_string();
        assert!(err.contains("generator.safetensors") && err.contains("fix:"), "{err}");
        let mut other = cfg.clone();
        other.loss.abc = 0.5;
        let err = Trainer::resume(&other, &data, dir.path()).err().unwrap().to_string();
        assert!(err.contains("another config"), "{err}");
    }
}
