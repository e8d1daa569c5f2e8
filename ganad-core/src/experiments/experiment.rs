//! One experiment end to end: data → split → train (GAN, classifier or autoencoder) or not
//! (random) → score → evaluate → `run.json` + Parquet. The CLI and the notebooks call these
//! same functions.

use crate::baselines::deep_sad::DeepSadConfig;
use crate::config::{CheckpointRule, Config, EvalConfig, ModelConfig, PatchConfig, PrecisionChoice, Profile, TrainConfig};
use crate::data::{FashionMnist, SourceOptions, SplitData};
use crate::error::Result;
use crate::evaluation::evaluate::evaluate;
use crate::experiments::run::{EpochResult, Method, Provenance, RunRecord, SplitSizes, Timings};
use crate::gan::losses::LossWeights;
use crate::gan::score::{score_set, RandomScorer, ScoreConfig, Scorer};
use crate::training::model::Model;
use crate::training::train::{EpochRecord, StepRecord, TrainState, Trainer};
use std::path::Path;
use std::time::Instant;

/// A baseline's config, built from what it takes from the GAN run it stands beside: the
/// protocol (`data`, the seeds), the profile's widths, epochs and batches (the same step
/// budget), the optimiser's rate and β, the device, precision and reported epoch, and the
/// threshold rule. Its loss terms and model parts are its own; everything else is the struct
/// default (the paper's: no augmentation, constant rate, no average, the reconstruction score),
/// none of the GAN recipe's levers.
fn baseline_config(cfg: &Config, loss: LossWeights, parts: ModelParts) -> Config {
    let (m, t) = (&cfg.model, &cfg.train);
    Config {
        recipe: cfg.recipe,
        seed: cfg.seed,
        data: cfg.data.clone(),
        model: ModelConfig {
            base_width: m.base_width,
            discriminator_width: m.discriminator_width,
            skips: parts.skips,
            anomaly_discriminator: false,
            anomaly_head: parts.anomaly_head,
            discriminator_anomaly_head: false,
            rotation_head: false,
            ..ModelConfig::default()
        },
        loss,
        patch: PatchConfig::default(),
        train: TrainConfig {
            epochs: t.epochs,
            batch_size: t.batch_size,
            anomaly_batch_size: t.anomaly_batch_size,
            learning_rate: t.learning_rate,
            beta1: t.beta1,
            beta2: t.beta2,
            device: t.device.clone(),
            threads: t.threads,
            eval_batch_size: t.eval_batch_size,
            seed: t.seed,
            precision: t.precision,
            checkpoint: t.checkpoint,
            ..TrainConfig::default()
        },
        eval: EvalConfig { threshold_rule: cfg.eval.threshold_rule, score: ScoreConfig::default() },
        deep_sad: None,
    }
}

/// The parts of a baseline's model that differ between baselines.
struct ModelParts {
    /// U-Net skips in G (the GAN's; the autoencoder has none).
    skips: bool,
    /// An anomaly logit (the classifier's one output).
    anomaly_head: bool,
}

/// A baseline that builds no GAN part: G and D_N are made (and unused where it has no term).
const PLAIN: ModelParts = ModelParts { skips: true, anomaly_head: false };

/// The autoencoder baseline as a config: the generator without skips, ℓ1 on normals only.
pub fn autoencoder_config(cfg: &Config) -> Config {
    baseline_config(cfg, LossWeights { reconstruction: 1.0, ..LossWeights::zero() }, ModelParts { skips: false, anomaly_head: false })
}

/// The classifier baseline as a config (docs/method.md): BCE on the same normals and
/// labelled anomalies, Adam at 1e-3 with PyTorch's β (0.9, 0.999), the profile's epochs and
/// batches (the GAN's step budget); scored by its logit.
pub fn classifier_config(cfg: &Config) -> Config {
    let mut c =
        baseline_config(cfg, LossWeights { classification: 1.0, ..LossWeights::zero() }, ModelParts { skips: true, anomaly_head: true });
    (c.train.learning_rate, c.train.beta1, c.train.beta2) = (1e-3, 0.9, 0.999);
    c
}

/// The Deep SAD baseline as a config: its own schedule (unless `cfg` sets one: Ruff et al.'s in
/// the full profile, [`DeepSadConfig::shortened`] in the default one, a few seconds in the quick
/// one), PyTorch's Adam defaults, fp32, no augmentation.
pub fn deep_sad_config(cfg: &Config, profile: Option<Profile>) -> Config {
    let mut c = baseline_config(cfg, LossWeights { deep_sad_pretraining: 1.0, deep_sad: 1.0, ..LossWeights::zero() }, PLAIN);
    let d = cfg.deep_sad.clone().unwrap_or_else(|| match profile {
        Some(Profile::Quick) => DeepSadConfig::quick(),
        Some(Profile::Full) => DeepSadConfig::default(),
        Some(Profile::Default) | None => DeepSadConfig::shortened(),
    });
    c.train.epochs = d.pretrain_epochs + d.epochs;
    c.train.batch_size = d.batch_size;
    (c.train.learning_rate, c.train.beta1, c.train.beta2) = (d.learning_rate, 0.9, 0.999);
    c.train.precision = PrecisionChoice::Fp32;
    c.deep_sad = Some(d);
    c
}

/// The config a method actually trains with (a baseline's does not depend on the GAN's recipe).
/// `profile` sizes the Deep SAD baseline's schedule.
pub fn method_config(method: Method, cfg: &Config, profile: Option<Profile>) -> Config {
    match method {
        Method::Gan => cfg.clone(),
        Method::Classifier => classifier_config(cfg),
        Method::Autoencoder => autoencoder_config(cfg),
        Method::Random => baseline_config(cfg, LossWeights::zero(), PLAIN),
        Method::DeepSad => deep_sad_config(cfg, profile),
    }
}

/// Loads and verifies the dataset, splits it and places it on the config's device.
pub fn prepare(cfg: &Config) -> Result<SplitData> {
    cfg.validate()?;
    if let Some(n) = cfg.train.threads {
        tch::set_num_threads(n);
    }
    let device = crate::system::device::resolve(&cfg.train.device)?;
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

/// Trains (or not) `method` on `data`, evaluates it and writes `out_dir/run.json` (and the
/// Parquet files beside it). The reported numbers come from the epoch `train.checkpoint`
/// names (the last, by default); the other epoch's test AUROC is recorded beside them where
/// the run has a validation set.
pub fn run(
    method: Method,
    cfg: &Config,
    profile: Option<Profile>,
    data: &SplitData,
    out_dir: &Path,
    resume: bool,
    hooks: Hooks,
) -> Result<RunRecord> {
    let provenance = Provenance::now();
    let _lock = crate::system::lock::RunLock::take(out_dir)?;
    let cfg = method_config(method, cfg, profile);
    if method == Method::Classifier && data.train_anomaly.is_empty() {
        return Err(crate::Error::config("data.anomaly_ratio", "the classifier baseline needs labelled anomalies (anomaly ratio > 0)"));
    }
    let rule = cfg.eval.threshold_rule;
    let batch = cfg.train.eval_batch_size;
    let started = Instant::now();
    let (evaluation, validation_scores, test_scores, train_s, evaluate_s, state, last_epoch, best_validation_epoch);
    if method.trains() {
        let mut trainer = if resume { Trainer::resume(method, &cfg, data, out_dir)? } else { Trainer::new(method, &cfg, data, out_dir)? };
        trainer.fit(hooks.on_step, hooks.on_epoch)?;
        train_s = trainer.state.train_s;
        let t = Instant::now();
        let last = trainer.state.epochs.last().expect("at least one epoch").clone();
        let test_auroc_of = |trainer: &Trainer| {
            crate::evaluation::metrics::auroc(&score_set(trainer.scorer().as_ref(), &data.test, batch), &data.test.labels)
        };
        let best = trainer.state.best_epoch.map(|epoch| (epoch, trainer.state.best_validation_auroc));
        match cfg.train.checkpoint {
            CheckpointRule::Last => {
                (evaluation, validation_scores, test_scores) = evaluate(trainer.scorer().as_ref(), data, rule, batch)?;
                last_epoch =
                    Some(EpochResult { epoch: last.epoch, validation_auroc: last.validation_auroc, test_auroc: evaluation.test.auroc });
                best_validation_epoch = match best {
                    Some((epoch, validation_auroc)) if epoch == last.epoch => {
                        Some(EpochResult { epoch, validation_auroc, test_auroc: evaluation.test.auroc })
                    }
                    Some((epoch, validation_auroc)) => {
                        trainer.load_best()?;
                        Some(EpochResult { epoch, validation_auroc, test_auroc: test_auroc_of(&trainer)? })
                    }
                    None => None,
                };
            }
            CheckpointRule::BestValidation => {
                last_epoch =
                    Some(EpochResult { epoch: last.epoch, validation_auroc: last.validation_auroc, test_auroc: test_auroc_of(&trainer)? });
                trainer.load_best()?;
                (evaluation, validation_scores, test_scores) = evaluate(trainer.scorer().as_ref(), data, rule, batch)?;
                best_validation_epoch =
                    best.map(|(epoch, validation_auroc)| EpochResult { epoch, validation_auroc, test_auroc: evaluation.test.auroc });
            }
        }
        evaluate_s = t.elapsed().as_secs_f64();
        state = std::mem::take(&mut trainer.state);
    } else {
        crate::system::atomic::write_json(&out_dir.join("config.json"), &cfg)?;
        let scorer = RandomScorer::new(cfg.seed);
        (evaluation, validation_scores, test_scores) = evaluate(&scorer as &dyn Scorer, data, rule, batch)?;
        (train_s, last_epoch, best_validation_epoch, state) = (0.0, None, None, TrainState::default());
        evaluate_s = started.elapsed().as_secs_f64();
    }
    let record = RunRecord {
        method,
        profile: profile.map(|p| p.name().to_string()),
        seed: cfg.seed,
        normal_class: cfg.data.normal_class,
        anomaly_ratio: cfg.data.anomaly_ratio,
        device: crate::system::device::describe(data.device()),
        precision: method
            .trains()
            .then(|| crate::system::device::precision(cfg.train.precision, data.device()).map(|p| p.name().to_string()))
            .transpose()?,
        timings: Timings { data_s: data.prepare_s, train_s, evaluate_s },
        split_sizes: SplitSizes::of(&data.split),
        protocol: crate::experiments::protocol::describe(&cfg, &SplitSizes::of(&data.split)),
        config: cfg,
        provenance,
        epochs: state.epochs,
        best_epoch: state.best_epoch,
        last_epoch,
        best_validation_epoch,
        evaluation,
        rescored_from: None,
        history: state.history,
        validation_scores,
        test_scores,
    };
    record.save(out_dir)?;
    Ok(record)
}

/// The networks of a finished run, with the weights of the epoch it reports (its last, or its
/// best on validation, as its `train.checkpoint` says).
pub fn load_reported(run_dir: &Path, device: tch::Device) -> Result<(Config, Method, Model)> {
    let record: serde_json::Value = crate::system::atomic::read_json(&run_dir.join(RunRecord::FILE))?;
    let method: Method = serde_json::from_value(record["method"].clone())
        .map_err(|source| crate::Error::Json { path: run_dir.join(RunRecord::FILE), source })?;
    let cfg: Config = crate::system::atomic::read_json(&run_dir.join("config.json"))?;
    let mut model = Model::new(method, &cfg, device)?;
    let which = match cfg.train.checkpoint {
        CheckpointRule::Last => "last",
        CheckpointRule::BestValidation => "best",
    };
    let _: TrainState = crate::training::checkpoint::load(&run_dir.join("checkpoints").join(which), &mut model)?;
    Ok((cfg, method, model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Profile, Recipe};

    #[test]
    fn a_baselines_config_does_not_depend_on_the_gans_recipe() {
        let (paper, ganad) = (Config::recipe(Recipe::Paper, Profile::Default), Config::recipe(Recipe::Ganad, Profile::Default));
        for method in [Method::Classifier, Method::Autoencoder, Method::Random, Method::DeepSad] {
            let (from_paper, from_ganad) = (method_config(method, &paper, None), method_config(method, &ganad, None));
            assert_eq!(from_paper, Config { recipe: Recipe::Paper, ..from_ganad }, "{}", method.name());
        }
    }
}
