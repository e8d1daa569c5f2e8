//! What a set of runs says: each run's headline AUROC (its last epoch: the rule of every
//! summary), and mean ± sd per method and normal class. Sweeps, tables and the protocol
//! comparison all read it from here.

use crate::experiments::run::RunRecord;
use serde::Serialize;
use std::collections::BTreeMap;

/// Mean and sample standard deviation (None for one value).
pub fn mean_sd(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, sd)
}

/// The headline number of a run: the test AUROC of its last epoch (the rule of every summary;
/// a run that reports another epoch recorded its last one beside it). The random scorer has
/// no epochs: its one score.
pub fn reported_auroc(r: &RunRecord) -> f64 {
    r.last_epoch.as_ref().map_or(r.evaluation.test.auroc, |l| l.test_auroc)
}

/// The test AUROC of the best epoch on validation, where the run had a validation set.
pub fn best_validation_auroc(r: &RunRecord) -> Option<f64> {
    match (&r.best_validation_epoch, r.config.train.checkpoint) {
        (Some(b), _) => Some(b.test_auroc),
        (None, crate::config::CheckpointRule::BestValidation) if r.best_epoch.is_some() => Some(r.evaluation.test.auroc),
        _ => None,
    }
}

/// Mean ± sd of the headline AUROC ([`reported_auroc`]): per class over its runs (seeds, and
/// known anomaly classes in a sweep over pairs), and overall as the mean over classes, whose sd
/// is taken over the per-seed class means (seeds run on every class only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    pub per_class: BTreeMap<u8, Stat>,
    pub overall: Stat,
    /// The sample sd over every run: in a sweep over pairs, the pair-to-pair spread.
    pub run_sd: Option<f64>,
    /// The same mean over the best-on-validation epochs (runs with a validation set only).
    pub overall_best_validation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    pub sd: Option<f64>,
    pub seeds: usize,
}

pub fn summarise(records: &[RunRecord]) -> BTreeMap<String, MethodSummary> {
    let mut by_method: BTreeMap<String, Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        by_method.entry(r.method.name().to_string()).or_default().push(r);
    }
    by_method
        .into_iter()
        .map(|(method, runs)| {
            let stat = |v: &[f64]| {
                let (mean, sd) = mean_sd(v);
                Stat { mean, sd, seeds: v.len() }
            };
            let mut by_class: BTreeMap<u8, Vec<f64>> = BTreeMap::new();
            let mut by_seed: BTreeMap<u64, BTreeMap<u8, Vec<f64>>> = BTreeMap::new();
            for r in &runs {
                by_class.entry(r.normal_class).or_default().push(reported_auroc(r));
                by_seed.entry(r.seed).or_default().entry(r.normal_class).or_default().push(reported_auroc(r));
            }
            let per_class: BTreeMap<u8, Stat> = by_class.iter().map(|(c, v)| (*c, stat(v))).collect();
            let class_means: Vec<f64> = per_class.values().map(|s| s.mean).collect();
            let mean = |v: &[f64]| mean_sd(v).0;
            let complete_seeds: Vec<f64> = by_seed
                .values()
                .filter(|classes| classes.len() == per_class.len())
                .map(|classes| mean(&classes.values().map(|v| mean(v)).collect::<Vec<_>>()))
                .collect();
            let overall = Stat { mean: mean(&class_means), sd: mean_sd(&complete_seeds).1, seeds: complete_seeds.len() };
            let all: Vec<f64> = runs.iter().map(|r| reported_auroc(r)).collect();
            let best: Vec<f64> = runs.iter().filter_map(|r| best_validation_auroc(r)).collect();
            let overall_best_validation = (best.len() == runs.len()).then(|| {
                let mut by_class: BTreeMap<u8, Vec<f64>> = BTreeMap::new();
                for r in &runs {
                    by_class.entry(r.normal_class).or_default().extend(best_validation_auroc(r));
                }
                mean(&by_class.values().map(|v| mean(v)).collect::<Vec<_>>())
            });
            (method, MethodSummary { per_class, overall, run_sd: mean_sd(&all).1, overall_best_validation })
        })
        .collect()
}
