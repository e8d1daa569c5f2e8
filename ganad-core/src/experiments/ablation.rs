//! Studies that compare variants of the GAN's config on the same classes and seeds: the levers
//! (the paper's recipe, the paper's with each lever alone, and ganad's recipe) and the precision
//! (ganad's recipe in the precision `auto` picks against fp32). Each variant is a sweep of its
//! own directory, so a study resumes like a sweep; the table gives test AUROC mean ± sd per class
//! and overall, the time per run, and the difference to the first variant.

use crate::config::lever::Lever;
use crate::config::{Config, PrecisionChoice, Profile, Recipe};
use crate::error::Result;
use crate::experiments::run::{Method, RunRecord};
use crate::experiments::sweep::{self, RunOne, SweepPlan};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Study {
    /// paper, paper + each lever alone, ganad (paper + the adopted levers).
    Levers,
    /// ganad's recipe with `train.precision` auto (bf16 on CPUs with native units) and fp32.
    Precision,
}

/// One row of a study: a name and the config it runs.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub config: Config,
}

impl Study {
    pub fn variants(self, profile: Profile, anomaly_ratio: f64) -> Vec<Variant> {
        let with_ratio = |mut c: Config| {
            c.set_anomaly_ratio(anomaly_ratio);
            c
        };
        let paper = with_ratio(Config::recipe(Recipe::Paper, profile));
        let ganad = with_ratio(Config::recipe(Recipe::Ganad, profile));
        match self {
            Study::Levers => {
                // The adopted levers first, then ganad, then the levers it left out.
                let mut v = vec![Variant { name: "paper".into(), config: paper.clone() }];
                let alone = |lever: Lever| {
                    let mut c = paper.clone();
                    lever.apply(&mut c);
                    Variant { name: format!("paper + {}", lever.name()), config: c }
                };
                v.extend(Lever::ADOPTED.into_iter().map(alone));
                let adopted: Vec<&str> = Lever::ADOPTED.iter().map(|l| l.name()).collect();
                v.push(Variant { name: format!("ganad (paper + {})", adopted.join(" + ")), config: ganad });
                v.extend(Lever::ALL.into_iter().filter(|l| !Lever::ADOPTED.contains(l)).map(alone));
                v
            }
            Study::Precision => {
                let mut fp32 = ganad.clone();
                fp32.train.precision = PrecisionChoice::Fp32;
                let auto = crate::system::device::precision(PrecisionChoice::Auto, tch::Device::Cpu).map(|p| p.name()).unwrap_or("fp32");
                vec![
                    Variant { name: format!("ganad, precision auto ({auto} here)"), config: ganad },
                    Variant { name: "ganad, fp32".into(), config: fp32 },
                ]
            }
        }
    }
}

/// A directory name for a variant: its name up to any parenthesis, in lowercase words joined by
/// dashes ("paper + flip" → "paper-flip", "ganad (paper + …)" → "ganad").
pub fn slug(name: &str) -> String {
    let head = name.split('(').next().unwrap_or(name);
    let s: String = head.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

/// A variant's results: per class and overall, as in a sweep summary, plus time per run.
#[derive(Debug, Clone, Serialize)]
pub struct VariantResult {
    pub name: String,
    pub directory: String,
    pub summary: sweep::MethodSummary,
    pub train_s_mean: f64,
    pub runs: usize,
}

/// Where a study runs: its grid, the output directory, and the optional shard and reuse source.
#[derive(Debug, Clone)]
pub struct StudyPlan {
    pub study: Study,
    pub profile: Profile,
    pub anomaly_ratio: f64,
    pub classes: Vec<u8>,
    pub seeds: Vec<u64>,
    pub out: PathBuf,
    /// Runs of another sweep with the same config are copied from here, not retrained.
    pub reuse: Option<PathBuf>,
    /// This process's part of every variant's grid (several processes or jobs share a study).
    pub shard: Option<sweep::Shard>,
    /// The epoch every variant's runs report (the committed studies reported the best on validation).
    pub checkpoint: crate::config::CheckpointRule,
}

/// Runs (or resumes) every variant of the study (this shard's part of each); after each variant
/// `on_variant` sees the results of all the finished runs so far (to write the table: an
/// interrupted study keeps its rows).
pub fn run_study(
    plan: &StudyPlan,
    run_one: &mut RunOne,
    on_done: &mut dyn FnMut(&str, &RunRecord),
    on_variant: &mut dyn FnMut(&[VariantResult]) -> Result<()>,
) -> Result<Vec<VariantResult>> {
    let StudyPlan { study, profile, anomaly_ratio, classes, seeds, out, reuse, shard, checkpoint } = plan;
    let (study, profile, anomaly_ratio) = (*study, *profile, *anomaly_ratio);
    let mut results = Vec::new();
    for variant in study.variants(profile, anomaly_ratio) {
        let mut base = variant.config.clone();
        base.train.checkpoint = *checkpoint;
        let plan = SweepPlan {
            base,
            profile: Some(profile),
            classes: classes.to_vec(),
            seeds: seeds.to_vec(),
            methods: vec![Method::Gan],
            seed_limits: BTreeMap::new(),
            pairs: false,
            reuse: reuse.clone(),
            out: out.join(slug(&variant.name)),
        };
        sweep::run_sweep(&plan, *shard, run_one, &mut |r| on_done(&variant.name, r))?;
        // Every finished run of the variant, other shards' included.
        let (records, _) = sweep::collect(&plan.out)?;
        if !records.is_empty() {
            results.push(result_of(&variant.name, &plan.out, &records));
        }
        on_variant(&results)?;
    }
    Ok(results)
}

fn result_of(name: &str, dir: &Path, records: &[RunRecord]) -> VariantResult {
    let summary = crate::experiments::summary::summarise(records).remove(Method::Gan.name()).expect("the study's runs are GAN runs");
    let train_s: Vec<f64> = records.iter().map(|r| r.timings.train_s).collect();
    VariantResult {
        name: name.to_string(),
        directory: dir.file_name().map(|d| d.to_string_lossy().into_owned()).unwrap_or_default(),
        summary,
        train_s_mean: crate::experiments::summary::mean_sd(&train_s).0,
        runs: records.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lever_study_has_the_paper_each_lever_and_ganad() {
        let v = Study::Levers.variants(Profile::Quick, 0.01);
        assert_eq!(v.len(), 2 + Lever::ALL.len());
        assert_eq!(v[0].config.recipe, Recipe::Paper);
        let ganad = v.iter().find(|v| v.config.recipe == Recipe::Ganad).unwrap();
        assert_eq!(
            ganad.config,
            Config {
                data: crate::config::DataConfig { anomaly_ratio: 0.01, ..Config::recipe(Recipe::Ganad, Profile::Quick).data },
                ..Config::recipe(Recipe::Ganad, Profile::Quick)
            }
        );
        let dirs: std::collections::BTreeSet<String> = v.iter().map(|v| slug(&v.name)).collect();
        assert_eq!(dirs.len(), v.len(), "every variant has its own directory");
        assert_eq!(slug("paper + anomaly_head"), "paper-anomaly-head");
        assert_eq!(slug(&ganad.name), "ganad");
        let p = Study::Precision.variants(Profile::Default, 0.01);
        assert_eq!(p[1].config.train.precision, PrecisionChoice::Fp32);
    }
}
