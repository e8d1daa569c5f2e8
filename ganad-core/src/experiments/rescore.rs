//! A finished GAN run's weights scored again under another score config, written as a run of
//! its own: score studies without retraining.
//!
//! Where a run reports its last epoch, nothing in training reads the score (it only ranks the
//! epochs on validation), so the rescored run holds the weights, test scores and metrics that
//! training with the changed config would have produced. A run that reports its best epoch on
//! validation is refused: its score chose that epoch.

use crate::config::score::ScoreConfig;
use crate::config::CheckpointRule;
use crate::error::{Error, Result};
use crate::evaluation::evaluate::evaluate;
use crate::experiments::experiment;
use crate::experiments::run::{Method, Provenance, RescoredFrom, RunRecord};
use std::path::Path;
use std::time::Instant;

/// `score` with the fields of the JSON object `changes` replaced (unknown fields are errors).
pub fn changed_score(score: &ScoreConfig, changes: &str) -> Result<ScoreConfig> {
    let bad = |what: String| Error::config("eval.score", what);
    let changes: serde_json::Value = serde_json::from_str(changes).map_err(|e| bad(format!("{changes:?} is not JSON: {e}")))?;
    let serde_json::Value::Object(changes) = changes else {
        return Err(bad(format!("{changes} is not a JSON object like {{\"anomaly_head\": 0}}")));
    };
    let mut merged = serde_json::to_value(score).expect("a score config serialises");
    for (field, value) in changes {
        merged[field] = value;
    }
    serde_json::from_value(merged).map_err(|e| bad(format!("{e} (the fields are those of eval.score in config.json)")))
}

/// Scores the weights of the finished GAN run in `source` under `score` and writes the result
/// into `out` as a run whose config carries `score` and whose `rescored_from` names `source`.
/// Its epochs and step history are the source's training (their validation AUROCs under the
/// source's score); its best-on-validation epoch is not recorded.
pub fn rescore(source: &Path, score: ScoreConfig, out: &Path) -> Result<RunRecord> {
    let original = RunRecord::load(source)?;
    if original.method != Method::Gan {
        return Err(Error::config(
            "method",
            format!("{} is a {} run: only a GAN run's score has components to reweigh", source.display(), original.method.name()),
        ));
    }
    if original.config.train.checkpoint != CheckpointRule::Last {
        return Err(Error::config(
            "train.checkpoint",
            format!(
                "{} reports its best epoch on validation, which its score chose; rescore runs that report their last epoch",
                source.display()
            ),
        ));
    }
    if out.join(RunRecord::FILE).exists() {
        return Err(Error::config("--out", format!("{} already holds a finished run; choose another --out, or delete it", out.display())));
    }
    let _lock = crate::system::lock::RunLock::take(out)?;
    let mut cfg = original.config.clone();
    cfg.eval.score = score;
    cfg.validate()?;
    let data = experiment::prepare(&cfg)?;
    let (_, _, model) = experiment::load_reported(source, data.device())?;
    let started = Instant::now();
    let scorer = model.scorer(&cfg, &data.train_normal);
    let (evaluation, validation_scores, test_scores) =
        evaluate(scorer.as_ref(), &data, cfg.eval.threshold_rule, cfg.train.eval_batch_size)?;
    let rescored_from = RescoredFrom {
        run: source.display().to_string(),
        commit: original.provenance.commit.clone(),
        score: original.config.eval.score.clone(),
        test_auroc: original.evaluation.test.auroc,
    };
    let mut record = RunRecord {
        config: cfg.clone(),
        provenance: Provenance::now(),
        device: crate::system::device::describe(data.device()),
        best_validation_epoch: None,
        rescored_from: Some(rescored_from),
        validation_scores,
        test_scores,
        ..original
    };
    record.timings.data_s = data.prepare_s;
    record.timings.evaluate_s = started.elapsed().as_secs_f64();
    if let Some(last) = record.last_epoch.as_mut() {
        last.test_auroc = evaluation.test.auroc;
    }
    record.evaluation = evaluation;
    crate::system::atomic::write_json(&out.join("config.json"), &cfg)?;
    record.save(out)?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_changes_replace_fields_and_refuse_unknown_ones() {
        let score = ScoreConfig { anomaly_head: 2.0, rotation: 1.0, ..ScoreConfig::default() };
        let changed = changed_score(&score, r#"{"anomaly_head": 0, "neighbours": 9}"#).unwrap();
        assert_eq!(changed, ScoreConfig { anomaly_head: 0.0, neighbours: 9, ..score.clone() });
        let err = changed_score(&score, r#"{"rotaton": 0}"#).unwrap_err().to_string();
        assert!(err.contains("eval.score") && err.contains("rotaton"), "{err}");
        assert!(changed_score(&score, "[1]").unwrap_err().to_string().contains("not a JSON object"));
        assert!(changed_score(&score, "{").unwrap_err().to_string().contains("not JSON"));
    }
}
