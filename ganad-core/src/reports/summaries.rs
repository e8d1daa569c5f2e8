//! A sweep's summary files: summary.{csv,html,md,json}, runs.csv, anomaly_classes.md and, over
//! (normal, known anomaly) pairs, pairs.md, each with the protocol line beside its numbers.

use crate::config::{Config, Profile};
use crate::error::Result;
use crate::experiments::run::{Method, RunRecord};
use crate::experiments::summary::{best_validation_auroc, reported_auroc, summarise};
use crate::experiments::sweep::{by_anomaly_class, by_pair, run_dir_name, GridItem};
use std::path::Path;

/// The protocol line every summary carries beside its numbers.
pub fn protocol(records: &[RunRecord]) -> String {
    let Some(r) = records.first() else { return "no runs".into() };
    let pairs = records.iter().any(|r| r.config.data.known_anomaly_classes.is_some());
    let d = &r.config.data;
    let labels = match (r.split_sizes.train_anomaly, &d.known_anomaly_classes) {
        (0, _) => "no labelled anomaly".to_string(),
        (n, None) => format!(
            "anomaly ratio {} ({n} labelled anomalies from all nine anomaly classes for {} normals)",
            d.anomaly_ratio, r.split_sizes.train_normal
        ),
        (n, Some(_)) => {
            let share = crate::data::split::labelled_share(r.split_sizes.train_normal, r.split_sizes.train_pollution, n);
            format!("γ_l = {share:.4} ({n} labelled anomalies of one known anomaly class, each of the other nine in turn)")
        }
    };
    let training = match (r.split_sizes.validation, r.split_sizes.train_pollution) {
        (0, 0) => format!("all {} training normals, no validation set", r.split_sizes.train_normal),
        (0, p) => format!(
            "all {} training normals polluted by {p} unlabelled anomalies of all nine classes (γ_p = {}), no validation set",
            r.split_sizes.train_normal, d.pollution
        ),
        (v, _) => format!("{} training normals, {v} validation images held out", r.split_sizes.train_normal),
    };
    let mean = if pairs {
        "mean over the normal classes of each one's mean over its pairs and seeds (the mean over the pairs where every class has all nine); \
         per class ± sd over its pairs"
    } else {
        "mean ± sample sd over seeds"
    };
    format!(
        "{} protocol: test AUROC on the full Fashion-MNIST test split (1,000 normal, 9,000 anomalies), one class normal; {training}; {labels}; \
         profile {}; GAN recipe {}{}; reported epoch: the last of each run's fixed schedule, for every method (no label chooses it); {mean}",
        crate::experiments::protocol::name(&r.config),
        r.profile.as_deref().unwrap_or("custom"),
        r.config.recipe.name(),
        changed_gan_score(records).map(|s| format!(", scored by {s} instead of its own score")).unwrap_or_default(),
    )
}

/// The GAN runs' score in words where it is not the one their recipe gives them in their
/// profile (a score study's sweep): two GAN rows of one protocol must say how they differ.
fn changed_gan_score(records: &[RunRecord]) -> Option<String> {
    let gan = records.iter().find(|r| r.method == Method::Gan)?;
    let profile = <Profile as clap::ValueEnum>::from_str(gan.profile.as_deref()?, true).ok()?;
    let mut recipe = Config::recipe(gan.config.recipe, profile);
    recipe.set_anomaly_ratio(gan.config.data.anomaly_ratio); // normal-only drops the heads' scores
    (gan.config.eval.score != recipe.eval.score).then(|| gan.config.eval.score.describe())
}

/// Writes summary.csv, runs.csv, summary.html and summary.json (mean ± sd per class and method,
/// every run's headline numbers and provenance), and anomaly_classes.md (each method's AUROC
/// against each anomaly class alone) into `out`. `missing` names the planned runs absent.
pub fn write_summary(out: &Path, records: &[RunRecord], missing: &[GridItem]) -> Result<polars::prelude::DataFrame> {
    use crate::reports::tables;
    let refs: Vec<&RunRecord> = records.iter().collect();
    let summary = tables::summary_table(&refs)?;
    tables::write_csv(&summary, &out.join("summary.csv"))?;
    tables::write_csv(&tables::runs_table(&refs)?, &out.join("runs.csv"))?;
    let wide = tables::summary_wide(records)?;
    crate::system::atomic::write_bytes(&out.join("summary.html"), tables::HtmlTable(wide.clone()).to_html().as_bytes())?;
    let protocol = protocol(records);
    let markdown = format!("Test AUROC of each run's last epoch, mean ± sd.\n\n{}\nProtocol: {protocol}.\n", tables::to_markdown(&wide));
    crate::system::atomic::write_bytes(&out.join("summary.md"), markdown.as_bytes())?;
    let by_anomaly = by_anomaly_class(records)?;
    let mut anomalies = String::from(
        "Test AUROC of each normal class's detector against each anomaly class alone, from each run's test_scores.parquet \
         (the epoch the run reports, which its config's train.checkpoint names), mean over the runs.\n",
    );
    for (method, classes) in &by_anomaly {
        anomalies.push_str(&format!("\n### {method}\n\n{}", tables::to_markdown(&tables::anomaly_class_table(classes)?)));
    }
    crate::system::atomic::write_bytes(&out.join("anomaly_classes.md"), format!("{anomalies}\nProtocol: {protocol}.\n").as_bytes())?;
    if records.iter().any(|r| r.config.data.known_anomaly_classes.is_some()) {
        let mut pairs = String::from("Test AUROC (last epoch) of each (normal class, known anomaly class) pair, mean over seeds.\n");
        for (method, table) in by_pair(records) {
            pairs.push_str(&format!("\n### {method}\n\n{}", tables::to_markdown(&tables::anomaly_class_table(&table)?)));
        }
        crate::system::atomic::write_bytes(&out.join("pairs.md"), format!("{pairs}\nProtocol: {protocol}.\n").as_bytes())?;
    }
    let json = serde_json::json!({
        "provenance": crate::experiments::run::Provenance::now(),
        "protocol": protocol,
        "profile": records.first().and_then(|r| r.profile.clone()),
        "anomaly_ratio": records.first().map(|r| r.anomaly_ratio),
        "methods": summarise(records),
        "auroc_by_anomaly_class": by_anomaly,
        "missing": missing.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        "runs": records.iter().map(|r| serde_json::json!({
            "dir": run_dir_name(r),
            "method": r.method.name(),
            "normal_class": r.normal_class,
            "known_anomaly_classes": r.config.data.known_anomaly_classes,
            "seed": r.seed,
            "anomaly_ratio": r.anomaly_ratio,
            "labelled_anomalies": r.split_sizes.train_anomaly,
            "test_auroc": reported_auroc(r),
            "test_auroc_reported_by_run": r.evaluation.test.auroc,
            "checkpoint": r.config.train.checkpoint,
            "test_auroc_best_validation": best_validation_auroc(r),
            "test_average_precision": r.evaluation.test.average_precision,
            "validation_auroc": r.evaluation.validation.as_ref().map(|v| v.auroc),
            "best_epoch": r.best_epoch,
            "train_s": r.timings.train_s,
            "commit": r.provenance.commit,
            "dirty": r.provenance.dirty,
            "device": r.device,
            "precision": r.precision,
        })).collect::<Vec<_>>(),
    });
    crate::system::atomic::write_json(&out.join("summary.json"), &json)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::score::ScoreConfig;

    fn committed(run: &str) -> RunRecord {
        RunRecord::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../results").join(run)).expect("a committed run")
    }

    #[test]
    fn the_protocol_line_names_a_gan_score_that_is_not_the_recipes_own() {
        let fused = committed("deep-sad-protocol/class0-known1-seed0-gan");
        assert!(!protocol(std::slice::from_ref(&fused)).contains("scored by"));
        // Normal-only runs score without the heads that need labels: still the recipe's own score.
        assert!(!protocol(&[committed("one-class/class0-seed0-gan")]).contains("scored by"));
        let mut rotation = fused;
        rotation.config.eval.score = ScoreConfig { reconstruction: 0.0, rotation: 1.0, ..ScoreConfig::default() };
        let line = protocol(&[committed("deep-sad-protocol/class0-known1-seed0-deep-sad"), rotation]);
        assert!(line.contains("GAN recipe ganad, scored by rotation alone instead of its own score;"), "{line}");
    }
}
