//! Training (Kim et al. §3): per step, every loss is computed from the same weights, then each
//! network takes its gradient of its own objective (the generator its weighted terms, each
//! discriminator its own loss) and its own Adam steps. Each epoch ends with a validation AUROC;
//! the best epoch's weights are checkpointed, and the `last` checkpoint holds everything the
//! next step depends on, so a killed run resumes exactly. The trainer yields plain records; it
//! prints nothing.

use crate::config::method::Method;
use crate::config::{Config, Schedule};
use crate::data::augment::{augment, step_rng};
use crate::data::batch::{epoch_order, SplitData};
use crate::error::{Error, Result};
use crate::evaluation::metrics;
use crate::evaluation::scoring::{score_set_with_parts, Scorer};
use crate::gan::losses::LossParts;
use crate::training::adam::{Adam, AdamConfig};
use crate::training::checkpoint;
use crate::training::model::Model;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::Tensor;

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
    /// `None` where the protocol holds no validation set.
    pub validation_auroc: Option<f64>,
    /// For a fused score: the validation AUROC of each component alone (what each evidence adds).
    #[serde(default)]
    pub component_aurocs: std::collections::BTreeMap<String, f64>,
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
        let parts: Vec<String> = self.component_aurocs.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        let parts = if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) };
        let validation = self.validation_auroc.map_or_else(|| "no validation set".to_string(), |v| format!("validation AUROC {v:.4}"));
        format!("epoch {} done: {} steps, {validation}{parts}, {:.1} s", self.epoch, self.steps, self.wall_s)
    }
}

/// Everything a resumed run needs besides the weights and the optimizers' state. The batch order
/// and the augmentation are fixed functions of (seed, epoch, step), so no generator state is kept.
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

/// One Adam per trained network, by store name, and the update of a step.
pub struct Optimizers {
    pub list: Vec<(&'static str, Adam)>,
}

impl Optimizers {
    /// An Adam for every trained network of `model` (the moving average is not trained).
    pub fn new(model: &Model, cfg: &Config) -> Self {
        let list = model
            .stores()
            .into_iter()
            .filter(|(name, _)| *name != crate::gan::GENERATOR_EMA)
            .map(|(name, vs)| (name, Adam::new(vs, adam_config(cfg))))
            .collect();
        Optimizers { list }
    }

    fn get(&self, name: &str) -> Result<&Adam> {
        self.list.iter().find(|(n, _)| *n == name).map(|(_, a)| a).ok_or_else(|| Error::Shape(format!("no optimizer for {name}")))
    }

    /// Each network's gradient of its own objective, then each Adam step at `learning_rate`.
    /// Every gradient is taken before any update: all objectives were computed from the same
    /// weights, and an update in place would invalidate the graphs still to differentiate.
    pub fn update(
        &mut self,
        model: &Model,
        parts: &LossParts<Tensor>,
        w: &crate::gan::losses::LossWeights,
        learning_rate: f64,
        weight_decay: f64,
    ) -> Result<()> {
        let objectives = model.objectives(parts, w);
        let mut gradients = Vec::with_capacity(objectives.len());
        for (i, (name, loss)) in objectives.iter().enumerate() {
            gradients.push(self.get(name)?.gradients(loss, i + 1 < objectives.len()));
        }
        for ((name, _), grad) in objectives.iter().zip(&gradients) {
            let adam = self.list.iter_mut().find(|(n, _)| n == name).map(|(_, a)| a).expect("found above");
            adam.config.learning_rate = learning_rate;
            adam.config.weight_decay = weight_decay;
            adam.apply(grad);
        }
        Ok(())
    }
}

pub struct Trainer<'a> {
    pub cfg: Config,
    pub method: Method,
    pub model: Model,
    pub state: TrainState,
    data: &'a SplitData,
    optimizers: Optimizers,
    run_dir: PathBuf,
    clock: Instant,
    clock_offset: f64,
}

/// Salt for the anomaly batch order, so it differs from the normal batch order.
const ANOMALY_ORDER_SALT: u64 = 0xA11_0BAD;

/// Adam's settings: the config's, for every method (β1 0.5 for the GAN, the GAN custom;
/// PyTorch's defaults in the classifier's and Deep SAD's configs).
pub fn adam_config(cfg: &Config) -> AdamConfig {
    let t = &cfg.train;
    AdamConfig { learning_rate: t.learning_rate, beta1: t.beta1, beta2: t.beta2, eps: 1e-8, weight_decay: 0.0 }
}

impl<'a> Trainer<'a> {
    /// Fresh networks; writes `config.json` into `run_dir` before step 0.
    pub fn new(method: Method, cfg: &Config, data: &'a SplitData, run_dir: &Path) -> Result<Self> {
        cfg.validate()?;
        if cfg.uses_anomalies() && data.train_anomaly.is_empty() {
            return Err(Error::config("data.anomaly_ratio", "ratio > 0 but the split holds no labelled anomaly"));
        }
        crate::system::atomic::write_json(&run_dir.join("config.json"), cfg)?;
        tch::manual_seed(cfg.training_seed() as i64);
        let model = Model::new(method, cfg, data.device())?;
        let optimizers = Optimizers::new(&model, cfg);
        Ok(Trainer {
            cfg: cfg.clone(),
            method,
            model,
            state: TrainState::default(),
            data,
            optimizers,
            run_dir: run_dir.to_path_buf(),
            clock: Instant::now(),
            clock_offset: 0.0,
        })
    }

    /// Continues from `run_dir`'s `last` checkpoint: weights, optimizer state, step and history.
    /// A run stopped before its first checkpoint starts from step 0.
    pub fn resume(method: Method, cfg: &Config, data: &'a SplitData, run_dir: &Path) -> Result<Self> {
        if !checkpoint::exists(&run_dir.join("checkpoints").join("last")) {
            return Self::new(method, cfg, data, run_dir);
        }
        let saved_path = run_dir.join("config.json");
        if !saved_path.exists() {
            // E.g. the run's files were deleted with git, which leaves the ignored checkpoints.
            return Err(Error::Checkpoint {
                path: saved_path,
                what: "the run directory holds checkpoints but no config.json, so nothing says which run they belong to".into(),
                fix: format!("delete {} to start the run afresh, or restore its config.json", run_dir.display()),
            });
        }
        let saved: Config = crate::system::atomic::read_json(&saved_path)?;
        if saved != *cfg {
            return Err(Error::Checkpoint {
                path: saved_path,
                what: "the run was started with another config".into(),
                fix: "resume with the same flags and --config as the first run, or start a new --out".into(),
            });
        }
        let mut t = Self::new(method, cfg, data, run_dir)?;
        let last = t.last_checkpoint();
        t.state = checkpoint::load(&last, &mut t.model)?;
        checkpoint::load_optimizers(&last, &mut t.optimizers.list)?;
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

    /// Steps per epoch and in the whole run (for the schedule).
    fn steps_per_epoch(&self) -> usize {
        self.data.train_normal.len().div_ceil(self.cfg.train.batch_size)
    }

    /// The learning rate at the current step.
    fn learning_rate(&self) -> f64 {
        if let Some(d) = &self.cfg.deep_sad {
            return d.learning_rate_at(self.state.epochs_done);
        }
        let base = self.cfg.train.learning_rate;
        match self.cfg.train.schedule {
            Schedule::Constant => base,
            Schedule::Cosine => {
                let total = (self.steps_per_epoch() * self.cfg.train.epochs).max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * self.state.step as f64 / total).cos())
            }
        }
    }

    /// One step on a batch of normals `[B, 1, 32, 32]` and, when the method uses them, labelled
    /// anomalies `[Bₐ, 1, 32, 32]`, both augmented as the config says. All losses come from the
    /// same weights; nothing is updated when any of them is not finite.
    pub fn step(&mut self, normals: &Tensor, anomalies: Option<&Tensor>) -> Result<StepRecord> {
        let (seed, step) = (self.cfg.training_seed(), self.state.step);
        let normals = augment(normals, &self.cfg.train.augment, &mut step_rng(seed, step, 0));
        let anomalies = anomalies.map(|a| augment(a, &self.cfg.train.augment.for_anomalies(), &mut step_rng(seed, step, 1)));
        let parts = self.model.losses(&self.cfg, &normals, anomalies.as_ref());
        let values = parts.values();
        if let Some((name, v)) = values.first_non_finite() {
            return Err(self.non_finite(format!("{name} loss ({v}); try a lower learning rate or smaller loss weights")));
        }
        let lr = self.learning_rate();
        let weight_decay = self.cfg.deep_sad.as_ref().map_or(0.0, |d| d.weight_decay_at(self.state.epochs_done));
        self.optimizers.update(&self.model, &parts, &self.cfg.loss, lr, weight_decay)?;
        if let Model::Gan(gan) = &mut self.model {
            gan.update_ema(self.cfg.train.ema_decay);
        }
        self.state.step += 1;
        let generator_total = values.generator_total(&self.cfg.loss);
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
                cached = Some((cycle, epoch_order(n, self.cfg.training_seed() ^ ANOMALY_ORDER_SALT, cycle)));
            }
            rows.push(cached.as_ref().unwrap().1[pos % n]);
        }
        rows
    }

    /// The batches of one epoch as (rows of the normals, rows of the labelled anomalies). The
    /// GAN and the classifier pass over the normals and draw a fixed number of labelled
    /// anomalies per step (cycled: there are few); Deep SAD draws its batches from all training
    /// images at once and drops the last incomplete one, as its `DataLoader` does.
    fn epoch_batches(&self, epoch: usize) -> Vec<(Vec<i64>, Option<Vec<i64>>)> {
        let (n, seed) = (self.data.train_normal.len(), self.cfg.training_seed());
        let first_step = self.state.step - self.steps_into_epoch();
        if let Some(d) = &self.cfg.deep_sad {
            let order = epoch_order(n + self.data.train_anomaly.len(), seed, epoch);
            return order
                .chunks_exact(d.batch_size.min(order.len()).max(1))
                .map(|rows| {
                    let (normals, anomalies): (Vec<i64>, Vec<i64>) = rows.iter().partition(|&&r| r < n as i64);
                    let anomalies: Vec<i64> = anomalies.iter().map(|r| r - n as i64).collect();
                    (normals, (!anomalies.is_empty()).then_some(anomalies))
                })
                .collect();
        }
        let uses_anomalies = self.cfg.uses_anomalies() && !self.data.train_anomaly.is_empty();
        epoch_order(n, seed, epoch)
            .chunks(self.cfg.train.batch_size)
            .enumerate()
            .map(|(i, rows)| (rows.to_vec(), uses_anomalies.then(|| self.anomaly_rows(first_step + i))))
            .collect()
    }

    /// Steps of the current epoch already taken: a run stopped mid-epoch resumes there.
    fn steps_into_epoch(&self) -> usize {
        self.state.step - self.state.epochs.iter().map(|e| e.steps).sum::<usize>()
    }

    /// Deep SAD's phase for `epoch`; when its second phase begins, the centre c from an initial
    /// forward pass over every training image, and a fresh Adam (as their code builds a new
    /// optimizer for the network after pretraining). `starting`: the epoch's first step is next
    /// (not so when a run resumes mid-epoch, with c and Adam restored).
    fn enter_phase(&mut self, epoch: usize, starting: bool) {
        let (Some(d), Model::DeepSad(model)) = (&self.cfg.deep_sad, &mut self.model) else { return };
        model.pretraining = d.pretraining(epoch);
        if epoch == d.pretrain_epochs && starting {
            model.set_center(&[&self.data.train_normal, &self.data.train_anomaly], self.cfg.train.eval_batch_size);
            for (_, adam) in &mut self.optimizers.list {
                adam.reset();
            }
        }
    }

    /// Writes the `last` checkpoint at the current step, mid-epoch, and says so: what a stop
    /// requested by SIGTERM or SIGINT ends with.
    fn interrupted(&mut self, signal: i32) -> Error {
        self.state.train_s = self.elapsed();
        let last = self.last_checkpoint();
        let kept = match checkpoint::save(&last, &self.model, &self.optimizers.list, &self.state) {
            Ok(()) => format!("a checkpoint at this step is at {}", last.display()),
            Err(e) => format!("the checkpoint could not be written ({e})"),
        };
        Error::Interrupted { signal: crate::system::interrupt::name(signal), epoch: self.state.epochs_done, step: self.state.step, kept }
    }

    /// One pass over the training images (from where a stopped run left off), then validation
    /// (where the protocol has a validation set) and checkpoints. Stops with a checkpoint at the
    /// current step when SIGTERM or SIGINT asked ([`crate::system::interrupt`]).
    pub fn run_epoch(&mut self, on_step: &mut dyn FnMut(&StepRecord)) -> Result<EpochRecord> {
        let epoch = self.state.epochs_done;
        let taken = self.steps_into_epoch();
        self.enter_phase(epoch, taken == 0);
        let batches = self.epoch_batches(epoch);
        let steps = batches.len();
        for (normal_rows, anomaly_rows) in batches.into_iter().skip(taken) {
            if let Some(signal) = crate::system::interrupt::requested() {
                return Err(self.interrupted(signal));
            }
            let normals = self.data.train_normal.batch(&normal_rows);
            let anomalies = anomaly_rows.map(|rows| self.data.train_anomaly.batch(&rows));
            let record = self.step(&normals, anomalies.as_ref())?;
            on_step(&record);
            self.state.history.push(record);
        }

        let (validation_auroc, component_aurocs) = match self.validate()? {
            Some((auroc, parts)) => (Some(auroc), parts),
            None => (None, Default::default()),
        };
        self.state.epochs_done += 1;
        self.state.train_s = self.elapsed();
        let record = EpochRecord { epoch, steps, validation_auroc, component_aurocs, wall_s: self.state.train_s };
        self.state.epochs.push(record.clone());
        if let Some(auroc) = validation_auroc {
            if self.state.best_validation_auroc.is_none_or(|best| auroc > best) {
                self.state.best_validation_auroc = Some(auroc);
                self.state.best_epoch = Some(epoch);
                checkpoint::save(&self.best_checkpoint(), &self.model, &[], &self.state)?;
            }
        }
        checkpoint::save(&self.last_checkpoint(), &self.model, &self.optimizers.list, &self.state)?;
        Ok(record)
    }

    /// The scorer of the current weights (standardised on the training normals).
    pub fn scorer(&self) -> Box<dyn Scorer + '_> {
        self.model.scorer(&self.cfg, &self.data.train_normal)
    }

    /// AUROC of the current weights on the validation set, and of each score component alone;
    /// `None` where the protocol holds no validation set.
    pub fn validate(&self) -> Result<Option<(f64, std::collections::BTreeMap<String, f64>)>> {
        if self.data.validation.is_empty() {
            return Ok(None);
        }
        let labels = &self.data.validation.labels;
        let (scores, parts) = score_set_with_parts(self.scorer().as_ref(), &self.data.validation, self.cfg.train.eval_batch_size);
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(self.non_finite(format!("validation score of image {i}")));
        }
        let parts = parts.into_iter().map(|(name, s)| Ok((name.to_string(), metrics::auroc(&s, labels)?))).collect::<Result<_>>()?;
        Ok(Some((metrics::auroc(&scores, labels)?, parts)))
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
        let _: TrainState = checkpoint::load(&self.best_checkpoint(), &mut self.model)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;
    use crate::data::idx::IdxImages;
    use crate::data::{FashionMnist, LabelledImages, NUM_CLASSES};
    use crate::training::model::Model;
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
    fn a_step_computes_every_term_and_skips_zero_weights() {
        let (mut cfg, data) = tiny_setup();
        assert_eq!(cfg.recipe, crate::config::Recipe::Ganad, "the default recipe trains every term, every head included");
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let mut t = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap();
        let d_n_head = |t: &Trainer, name: &str| t.model.gan().unwrap().normal_vs.variables()[name].copy();
        let before = [d_n_head(&t, "anomaly_head.weight"), d_n_head(&t, "rotation_head.weight")];
        let record = t.step(&data.train_normal.batch(&[0, 1, 2, 3]), Some(&data.train_anomaly.batch(&[0, 1]))).unwrap();
        let gan_terms = LossParts::<f64>::NAMES.iter().zip(record.losses.terms()).filter(|(name, _)| !name.starts_with("deep_sad"));
        assert!(gan_terms.clone().all(|(_, v)| v.is_some_and(|v| v.is_finite())), "{:?}", record.losses);
        // D_N's objective carries its heads' terms: both heads learn.
        assert_ne!(d_n_head(&t, "anomaly_head.weight"), before[0]);
        assert_ne!(d_n_head(&t, "rotation_head.weight"), before[1]);
        // The heads are the model's fields: without them D_N has neither, and their weights must go too.
        (cfg.model.discriminator_anomaly_head, cfg.model.rotation_head) = (false, false);
        assert!(Trainer::new(Method::Gan, &cfg, &data, dir.path()).is_err(), "a weight on a missing head is refused");
        (cfg.loss.discriminator_classification, cfg.eval.score.discriminator_head) = (0.0, 0.0);
        (cfg.loss.rotation, cfg.eval.score.rotation) = (0.0, 0.0);
        let d_n = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap().model;
        assert!(
            !d_n.gan().unwrap().normal_discriminator.has_anomaly_head() && !d_n.gan().unwrap().normal_discriminator.has_rotation_head()
        );
        (cfg.model.rotation_head, cfg.loss.rotation, cfg.eval.score.rotation) = (true, 1.0, 1.0);

        cfg.loss.latent = 0.0;
        cfg.loss.anomaly_adversarial = 0.0;
        let mut t = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap();
        let record = t.step(&data.train_normal.batch(&[0, 1, 2, 3]), Some(&data.train_anomaly.batch(&[0, 1]))).unwrap();
        assert!(record.losses.latent.is_none() && record.losses.anomaly_adversarial.is_none());
        assert!(record.losses.abc.is_some());

        // Normal-only: no D_A, no anomaly terms.
        cfg.data.anomaly_ratio = 0.0;
        assert!(Trainer::new(Method::Gan, &cfg, &data, dir.path()).is_err(), "D_A cannot learn without labelled anomalies");
        cfg.without_labelled_parts();
        let mut t = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap();
        assert!(t.model.gan().unwrap().anomaly.is_none());
        let record = t.step(&data.train_normal.batch(&[0, 1, 2, 3]), None).unwrap();
        assert!(record.losses.abc.is_none() && record.losses.anomaly_discriminator.is_none());
        assert!(record.losses.reconstruction.is_some() && record.losses.normal_discriminator.is_some());
        assert!(record.losses.rotation.is_some(), "the rotation term needs no labelled anomaly");
    }

    #[test]
    fn the_rotation_term_turns_only_its_share_of_the_batch() {
        let (mut cfg, data) = tiny_setup();
        cfg.train.precision = crate::config::PrecisionChoice::Fp32;
        cfg.train.rotation_share = 0.5;
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let t = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap();
        let gan = t.model.gan().unwrap();
        let normals = data.train_normal.batch(&[0, 1, 2, 3]);
        let term = gan.losses(&cfg, &normals, None).rotation.unwrap().double_value(&[]);
        let d_n = &gan.normal_discriminator;
        let rotation = |x: &tch::Tensor| d_n.rotation_loss(x, true).unwrap().mean(tch::Kind::Float).double_value(&[]);
        assert!((term - rotation(&normals.narrow(0, 0, 2))).abs() < 1e-6, "the first half of the batch");
        assert!((term - rotation(&normals)).abs() > 1e-6, "not the whole batch");
    }

    #[test]
    fn nan_stops_training_and_the_checkpoint_stays_loadable() {
        let (cfg, data) = tiny_setup();
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let mut t = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap();
        t.run_epoch(&mut |_| {}).unwrap();
        let poisoned = data.train_normal.batch(&[0, 1, 2, 3]) * f64::NAN;
        let err = t.step(&poisoned, Some(&data.train_anomaly.batch(&[0]))).unwrap_err().to_string();
        assert!(err.contains("non-finite") && err.contains("last good checkpoint"), "{err}");

        let mut fresh = Model::new(Method::Gan, &cfg, Device::Cpu).unwrap();
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
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let mut t = Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap();
        t.run_epoch(&mut |_| {}).unwrap();
        let optimizer = t.last_checkpoint().join("adam.generator.safetensors");
        assert!(optimizer.is_file(), "the last checkpoint holds the optimizer state");
        std::fs::write(&optimizer, b"not a state").unwrap();
        let err = Trainer::resume(Method::Gan, &cfg, &data, dir.path()).err().unwrap().to_string();
        assert!(err.contains("adam.generator.safetensors") && err.contains("fix:"), "{err}");
        std::fs::write(t.last_checkpoint().join("generator.safetensors"), b"not weights").unwrap();
        let err = Trainer::resume(Method::Gan, &cfg, &data, dir.path()).err().unwrap().to_string();
        assert!(err.contains("generator.safetensors") && err.contains("fix:"), "{err}");
        let mut other = cfg.clone();
        other.loss.abc = 0.5;
        let err = Trainer::resume(Method::Gan, &other, &data, dir.path()).err().unwrap().to_string();
        assert!(err.contains("another config"), "{err}");
        // Checkpoints whose config.json is gone are not resumed from.
        std::fs::remove_file(dir.path().join("config.json")).unwrap();
        let err = Trainer::resume(Method::Gan, &cfg, &data, dir.path()).err().unwrap().to_string();
        assert!(err.contains("no config.json") && err.contains("delete"), "{err}");
    }

    /// Regression: the Adam moments were not checkpointed, so a resumed run drifted away from
    /// the uninterrupted one (class 2, seed 5: validation AUROC 0.69334 → 0.70160 at epoch 1).
    #[test]
    fn a_resumed_run_repeats_the_uninterrupted_one_exactly() {
        let (mut cfg, data) = tiny_setup();
        cfg.train.epochs = 3;
        cfg.train.ema_decay = 0.9;
        cfg.train.schedule = Schedule::Cosine;
        cfg.train.augment = crate::config::AugmentConfig { flip: 0.5, shift: 1, anomaly_shift: Some(2) };
        let (a, b) = (crate::system::tempdir::TempDir::new("test").unwrap(), crate::system::tempdir::TempDir::new("test").unwrap());
        let mut straight = Trainer::new(Method::Gan, &cfg, &data, a.path()).unwrap();
        let mut first = Trainer::new(Method::Gan, &cfg, &data, b.path()).unwrap();
        // Parallel tests share libtorch's random generator: the same seed alone does not
        // guarantee the same initial weights here, so `first` starts from `straight`'s.
        for ((_, to), (_, from)) in first.model.stores_mut().into_iter().zip(straight.model.stores()) {
            to.copy(from).unwrap();
        }
        straight.fit(&mut |_| {}, &mut |_| {}).unwrap();

        first.run_epoch(&mut |_| {}).unwrap();
        first.step(&data.train_normal.batch(&[0, 1]), Some(&data.train_anomaly.batch(&[0]))).unwrap(); // lost mid-epoch work
        drop(first);
        let mut resumed = Trainer::resume(Method::Gan, &cfg, &data, b.path()).unwrap();
        resumed.fit(&mut |_| {}, &mut |_| {}).unwrap();
        let aurocs = |t: &Trainer| t.state.epochs.iter().map(|e| e.validation_auroc).collect::<Vec<_>>();
        assert_eq!(aurocs(&straight), aurocs(&resumed));
        assert_eq!(straight.state.step, resumed.state.step);
        let losses = |t: &Trainer| t.state.history.iter().map(|r| r.generator_total).collect::<Vec<_>>();
        assert_eq!(losses(&straight), losses(&resumed));
    }

    #[test]
    fn the_training_seed_draws_other_batches_on_the_same_split() {
        let (cfg, data) = tiny_setup();
        let mut other = cfg.clone();
        other.train.seed = Some(cfg.seed + 1);
        assert_eq!(other.split_spec(), cfg.split_spec(), "the split follows `seed` alone");
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let (a, b) =
            (Trainer::new(Method::Gan, &cfg, &data, dir.path()).unwrap(), Trainer::new(Method::Gan, &other, &data, dir.path()).unwrap());
        let batches = |t: &Trainer| (0..4).flat_map(|step| t.anomaly_rows(step)).collect::<Vec<_>>();
        assert_ne!(batches(&a), batches(&b));
        let order = |c: &Config| epoch_order(data.train_normal.len(), c.training_seed(), 0);
        assert_ne!(order(&cfg), order(&other));
        assert_eq!(cfg.training_seed(), cfg.seed, "unset, it is the run's seed");
    }

    /// Deep SAD pretrains as an autoencoder, then sets c and trains its own objective with a
    /// fresh Adam; a run stopped across that turn resumes to the uninterrupted numbers.
    #[test]
    fn deep_sad_pretrains_then_centres_and_resumes_exactly() {
        let (mut base, data) = tiny_setup();
        base.deep_sad = Some(crate::baselines::deep_sad::DeepSadConfig {
            pretrain_epochs: 2,
            epochs: 2,
            milestone: 2,
            batch_size: 8,
            rep_dim: 8,
            ..Default::default()
        });
        let cfg = crate::experiments::experiment::method_config(Method::DeepSad, &base, None);
        assert_eq!((cfg.train.epochs, cfg.train.beta1, cfg.train.precision), (4, 0.9, crate::config::PrecisionChoice::Fp32));
        let (a, b) = (crate::system::tempdir::TempDir::new("test").unwrap(), crate::system::tempdir::TempDir::new("test").unwrap());
        let mut straight = Trainer::new(Method::DeepSad, &cfg, &data, a.path()).unwrap();
        let mut first = Trainer::new(Method::DeepSad, &cfg, &data, b.path()).unwrap();
        for ((_, to), (_, from)) in first.model.stores_mut().into_iter().zip(straight.model.stores()) {
            to.copy(from).unwrap();
        }
        let center = |t: &Trainer| match &t.model {
            Model::DeepSad(d) => Vec::<f32>::try_from(&d.center).unwrap(),
            _ => unreachable!(),
        };
        straight.run_epoch(&mut |_| {}).unwrap();
        straight.run_epoch(&mut |_| {}).unwrap();
        assert!(center(&straight).iter().all(|&c| c == 0.0), "no centre while pretraining");
        let steps = straight.state.history.len();
        let n = data.train_normal.len() + data.train_anomaly.len();
        assert_eq!(steps, 2 * (n / 8), "batches of 8 from every training image, the incomplete one dropped");
        assert!(straight.state.history.iter().all(|r| r.losses.deep_sad_pretraining.is_some() && r.losses.deep_sad.is_none()));
        straight.run_epoch(&mut |_| {}).unwrap();
        assert!(center(&straight).iter().all(|&c| c.abs() >= 0.1 - 1e-7), "{:?}", center(&straight));
        let last = straight.state.history.last().unwrap();
        assert!(last.losses.deep_sad.is_some() && last.losses.deep_sad_pretraining.is_none());
        straight.run_epoch(&mut |_| {}).unwrap();

        first.run_epoch(&mut |_| {}).unwrap();
        first.run_epoch(&mut |_| {}).unwrap();
        drop(first);
        let mut resumed = Trainer::resume(Method::DeepSad, &cfg, &data, b.path()).unwrap();
        resumed.fit(&mut |_| {}, &mut |_| {}).unwrap();
        assert_eq!(center(&straight), center(&resumed));
        let losses = |t: &Trainer| t.state.history.iter().map(|r| (r.losses.deep_sad_pretraining, r.losses.deep_sad)).collect::<Vec<_>>();
        assert_eq!(losses(&straight), losses(&resumed));
    }

    #[test]
    fn the_classifier_baseline_trains_on_its_own_term() {
        let (cfg, data) = tiny_setup();
        let cfg = crate::experiments::experiment::classifier_config(&cfg);
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let mut t = Trainer::new(Method::Classifier, &cfg, &data, dir.path()).unwrap();
        let record = t.run_epoch(&mut |_| {}).unwrap();
        let step = &t.state.history[0];
        assert!(step.losses.classification.is_some() && step.losses.reconstruction.is_none(), "{:?}", step.losses);
        assert!(record.validation_auroc.is_some_and(f64::is_finite));
        assert!(t.last_checkpoint().join("adam.classifier.safetensors").is_file());
    }
}
