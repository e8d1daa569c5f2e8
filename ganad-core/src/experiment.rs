//! One experiment end to end: data → split → train (GAN or autoencoder) or not (random) →
//! score → evaluate → `run.json`. The CLI and the notebooks call these same functions.

use crate::config::{Config, Profile};
use crate::data::{FashionMnist, SourceOptions, SplitData};
use crate::error::Result;
use crate::evaluate::evaluate;
use crate::losses::LossWeights;
use crate::run::{Method, Provenance, RunRecord, SplitSizes, Timings};
use crate::score::{RandomScorer, Scorer};
use crate::train::{EpochRecord, StepRecord, Trainer};
use std::path::Path;
use std::time::Instant;

/// The autoencoder baseline as a config: the generator without skips, ℓ1 on normals only.
pub fn autoencoder_config(cfg: &Config) -> Config {
    let mut ae = cfg.clone();
    ae.model.skips = false;
    ae.loss = LossWeights {
        reconstruction: 1.0,
        patch: 0.0,
        latent: 0.0,
        normal_adversarial: 0.0,
        abc: 0.0,
        anomaly_adversarial: 0.0,
        normal_discriminator: 0.0,
        anomaly_discriminator: 0.0,
    };
    ae
}

/// The config a method actually trains with.
pub fn method_config(method: Method, cfg: &Config) -> Config {
    match method {
        Method::Autoencoder => autoencoder_config(cfg),
        Method::Gan | Method::Random => cfg.clone(),
    }
}

/// Loads and verifies the dataset, splits it and places it on the config's device.
pub fn prepare(cfg: &Config) -> Result<SplitData> {
    cfg.validate()?;
    if let Some(n) = cfg.train.threads {
        tch::set_num_threads(n);
    }
    let device = crate::device::resolve(&cfg.train.device)?;
    let started = Instant::now();
    let dataset = FashionMnist::load(&SourceOptions::from_env(cfg.data.data_dir.clone()))?;
    let mut data = SplitData::new(&dataset, &cfg.split_spec(), device)?;
    data.prepare_s = started.elapsed().as_secs_f64();
    Ok(data)
}

/// Progress callbacks; the defaults do nothing.
pub struct Hooks<'a> {
    pub on_step: &'a mut dyn FnMut(&StepRecord),
    pub on_epoch: &'a mut dyn FnMut(&EpochRecord),
}

/// Trains (or not) `method` on `data`, evaluates it and writes `out_dir/run.json`.
pub fn run(method: Method, cfg: &Config, profile: Option<Profile>, data: &SplitData, out_dir: &Path, resume: bool, hooks: Hooks) -> Result<RunRecord> {
    let provenance = Provenance::now();
    let cfg = method_config(method, cfg);
    let rule = cfg.eval.threshold_rule;
    let batch = cfg.train.eval_batch_size;
    let started = Instant::now();
    let (evaluation, validation_scores, test_scores, epochs, best_epoch, history, train_s, evaluate_s);
    match method {
        Method::Random => {
            crate::atomic::write_json(&out_dir.join("config.json"), &cfg)?;
            let scorer = RandomScorer::new(cfg.seed);
            (evaluation, validation_scores, test_scores) = evaluate(&scorer as &dyn Scorer, data, rule, batch)?;
            (epochs, best_epoch, history, train_s) = (vec![], None, vec![], 0.0);
            evaluate_s = started.elapsed().as_secs_f64();
        }
        Method::Gan | Method::Autoencoder => {
            let mut trainer = if resume { Trainer::resume(&cfg, data, out_dir)? } else { Trainer::new(&cfg, data, out_dir)? };
            trainer.fit(hooks.on_step, hooks.on_epoch)?;
            train_s = trainer.state.train_s;
            trainer.load_best()?;
            let t = Instant::now();
            (evaluation, validation_scores, test_scores) = evaluate(&trainer.scorer(), data, rule, batch)?;
            evaluate_s = t.elapsed().as_secs_f64();
            let state = std::mem::take(&mut trainer.state);
            (epochs, best_epoch, history) = (state.epochs, state.best_epoch, state.history);
        }
    }
    let record = RunRecord {
        method,
        profile: profile.map(|p| p.name().to_string()),
        seed: cfg.seed,
        normal_class: cfg.data.normal_class,
        anomaly_ratio: cfg.data.anomaly_ratio,
        device: crate::device::describe(data.device()),
        timings: Timings { data_s: data.prepare_s, train_s, evaluate_s },
        split_sizes: SplitSizes {
            train_normal: data.train_normal.len(),
            train_anomaly: data.train_anomaly.len(),
            validation: data.validation.len(),
            test: data.test.len(),
        },
        config: cfg,
        provenance,
        epochs,
        best_epoch,
        history,
        evaluation,
        validation_labels: data.validation.labels.iter().map(|&l| l as u8).collect(),
        validation_scores,
        test_scores,
    };
    record.save(out_dir)?;
    Ok(record)
}

/// The networks of a finished run, with the best-on-validation weights.
pub fn load_best(run_dir: &Path, device: tch::Device) -> Result<(Config, crate::gan::Gan)> {
    let cfg: Config = crate::atomic::read_json(&run_dir.join("config.json"))?;
    let mut gan = crate::gan::Gan::new(&cfg, device);
    let _: crate::train::TrainState = crate::checkpoint::load(&run_dir.join("checkpoints").join("best"), &mut gan)?;
    Ok((cfg, gan))
}
