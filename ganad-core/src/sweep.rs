//! One-vs-rest sweeps: every class × seed × method, each run in its own directory. A finished
//! run (run.json present) is kept, an interrupted one resumes, so a sweep can be rerun at will.

use crate::config::{Config, Profile};
use crate::error::Result;
use crate::experiment::{self, Hooks};
use crate::run::{Method, RunRecord};
use std::path::{Path, PathBuf};

/// What to sweep. `base` supplies everything but the class and seed.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    pub base: Config,
    pub profile: Option<Profile>,
    pub classes: Vec<u8>,
    pub seeds: Vec<u64>,
    pub methods: Vec<Method>,
    pub out: PathBuf,
}

impl SweepPlan {
    pub fn run_dir(&self, class: u8, seed: u64, method: Method) -> PathBuf {
        self.out.join(format!("class{class}-seed{seed}-{}", method.name()))
    }
}

/// Runs the plan; `run_one` trains one (method, config, data, dir, resume) — the CLI passes a
/// progress bar, notebooks a line printer. `on_done` sees each finished record.
pub fn run_sweep(
    plan: &SweepPlan,
    run_one: &mut dyn FnMut(Method, &Config, &crate::data::SplitData, &Path, bool) -> Result<RunRecord>,
    on_done: &mut dyn FnMut(&RunRecord),
) -> Result<Vec<RunRecord>> {
    let mut records = Vec::new();
    for &class in &plan.classes {
        for &seed in &plan.seeds {
            let mut cfg = plan.base.clone();
            cfg.data.normal_class = class;
            cfg.seed = seed;
            cfg.validate()?;
            let mut data = None;
            for &method in &plan.methods {
                let dir = plan.run_dir(class, seed, method);
                let record = if dir.join(RunRecord::FILE).is_file() {
                    RunRecord::load(&dir)?
                } else {
                    if data.is_none() {
                        data = Some(experiment::prepare(&cfg)?);
                    }
                    let resume = crate::checkpoint::exists(&dir.join("checkpoints").join("last"));
                    run_one(method, &cfg, data.as_ref().unwrap(), &dir, resume)?
                };
                on_done(&record);
                records.push(record);
            }
        }
    }
    Ok(records)
}

/// The default `run_one`: [`experiment::run`] with line progress per epoch.
pub fn run_quietly(profile: Option<Profile>) -> impl FnMut(Method, &Config, &crate::data::SplitData, &Path, bool) -> Result<RunRecord> {
    move |method, cfg, data, dir, resume| {
        let mut on_step = |_: &crate::train::StepRecord| {};
        let mut on_epoch = |e: &crate::train::EpochRecord| println!("  {}", e.summary());
        experiment::run(method, cfg, profile, data, dir, resume, Hooks { on_step: &mut on_step, on_epoch: &mut on_epoch })
    }
}

/// Parses "0-9" or "0,3,6" into classes.
pub fn parse_classes(s: &str) -> Result<Vec<u8>> {
    let bad = || crate::Error::config("classes", format!("{s:?} is not a class list like 0-9 or 0,3,6"));
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b): (i64, i64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            for c in a..=b {
                out.push(crate::data::fashion_mnist::check_class(c)?);
            }
        } else {
            out.push(crate::data::fashion_mnist::check_class(part.parse().map_err(|_| bad())?)?);
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Parses "gan,ae,random".
pub fn parse_methods(s: &str) -> Result<Vec<Method>> {
    s.split(',')
        .map(|m| {
            <Method as clap::ValueEnum>::from_str(m.trim(), true)
                .map_err(|_| crate::Error::config("methods", format!("unknown method {m:?}; use gan, ae, random")))
        })
        .collect()
}

/// Writes summary.csv, runs.csv, summary.html and summary.json (means per method, every run's
/// headline numbers and provenance) into `out`.
pub fn write_summary(out: &Path, records: &[RunRecord]) -> Result<polars::prelude::DataFrame> {
    use crate::tables;
    let refs: Vec<&RunRecord> = records.iter().collect();
    let summary = tables::summary_table(&refs)?;
    tables::write_csv(&summary, &out.join("summary.csv"))?;
    tables::write_csv(&tables::runs_table(&refs)?, &out.join("runs.csv"))?;
    crate::atomic::write_bytes(&out.join("summary.html"), tables::HtmlTable(summary.clone()).to_html().as_bytes())?;
    let mut means = std::collections::BTreeMap::new();
    for r in records {
        means.entry(r.method.name()).or_insert_with(Vec::new).push(r.evaluation.test.auroc);
    }
    let json = serde_json::json!({
        "provenance": crate::run::Provenance::now(),
        "profile": records.first().and_then(|r| r.profile.clone()),
        "anomaly_ratio": records.first().map(|r| r.anomaly_ratio),
        "mean_test_auroc": means.iter().map(|(m, v)| (m.to_string(), tables::mean_sd(v).0)).collect::<std::collections::BTreeMap<_, _>>(),
        "runs": records.iter().map(|r| serde_json::json!({
            "method": r.method.name(),
            "normal_class": r.normal_class,
            "seed": r.seed,
            "anomaly_ratio": r.anomaly_ratio,
            "test_auroc": r.evaluation.test.auroc,
            "test_average_precision": r.evaluation.test.average_precision,
            "validation_auroc": r.evaluation.validation.auroc,
            "best_epoch": r.best_epoch,
            "train_s": r.timings.train_s,
            "commit": r.provenance.commit,
            "dirty": r.provenance.dirty,
            "device": r.device,
        })).collect::<Vec<_>>(),
    });
    crate::atomic::write_json(&out.join("summary.json"), &json)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_and_method_lists() {
        assert_eq!(parse_classes("0-2,6").unwrap(), vec![0, 1, 2, 6]);
        assert!(parse_classes("0-10").unwrap_err().to_string().contains("use 0..9"));
        assert!(parse_classes("a").is_err());
        assert_eq!(parse_methods("gan, random").unwrap(), vec![Method::Gan, Method::Random]);
        assert!(parse_methods("vae").is_err());
    }
}
