//! Evaluation, written once for every scorer: validation picks the threshold, the test split
//! gives the reported numbers, and every test score is kept so anyone can recompute them.
//! Where the protocol holds no validation set, the training images pick the threshold, with
//! the labels the protocol gives them (unlabelled = normal), so no label outside its budget is
//! used; with no labelled anomaly there either, the threshold needs no label
//! ([`ThresholdRule::NormalQuantile95`]).

use crate::data::{ImageSet, SplitData, NUM_CLASSES};
use crate::error::Result;
use crate::evaluation::metrics::{self, Confusion, ThresholdRule};
use crate::evaluation::scoring::{score_set, Scorer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One image's score, with what it really was.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// Index in the Fashion-MNIST split the image came from (test, or train for validation).
    pub index: usize,
    pub class: u8,
    /// 1 = anomaly (class ≠ normal class).
    pub label: u8,
    pub score: f32,
}

/// For one true class: how many test images, and how many were flagged anomalous.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassDetection {
    pub class: u8,
    pub name: String,
    pub count: usize,
    pub flagged: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub rule: ThresholdRule,
    /// Scores ≥ this are flagged anomalous.
    pub value: f32,
    /// The images that chose it: "validation", or "training" where there is no validation set.
    #[serde(default = "validation_name")]
    pub chosen_on: String,
}

fn validation_name() -> String {
    "validation".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetMetrics {
    pub auroc: f64,
    pub average_precision: f64,
    pub confusion: Confusion,
    pub f1: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub scorer: String,
    pub threshold: Threshold,
    /// On the images that chose the threshold; `None` where they hold one class only.
    pub validation: Option<SetMetrics>,
    pub test: SetMetrics,
    pub per_class: Vec<ClassDetection>,
}

impl SetMetrics {
    pub fn new(scores: &[f32], labels: &[bool], threshold: f32) -> Result<Self> {
        let confusion = Confusion::at(scores, labels, threshold);
        Ok(SetMetrics {
            auroc: metrics::auroc(scores, labels)?,
            average_precision: metrics::average_precision(scores, labels)?,
            f1: confusion.f1(),
            accuracy: confusion.accuracy(),
            confusion,
        })
    }
}

/// Scores as records, in the set's order.
pub fn score_records(set: &ImageSet, scores: &[f32]) -> Vec<ScoreRecord> {
    (0..set.len())
        .map(|i| ScoreRecord { index: set.indices[i], class: set.classes[i], label: set.labels[i] as u8, score: scores[i] })
        .collect()
}

/// Metrics from saved scores: `validation` (the images named by `chosen_on`) picks the
/// threshold, test is measured at it. A rule that needs both classes falls back to
/// [`ThresholdRule::NormalQuantile95`] where `validation` holds no anomaly.
pub fn evaluate_scores(
    scorer: &str,
    validation: &[ScoreRecord],
    test: &[ScoreRecord],
    rule: ThresholdRule,
    chosen_on: &str,
) -> Result<Evaluation> {
    let validation_scores: Vec<f32> = validation.iter().map(|r| r.score).collect();
    let validation_labels: Vec<bool> = validation.iter().map(|r| r.label == 1).collect();
    let both = validation_labels.iter().any(|&l| l) && validation_labels.iter().any(|&l| !l);
    let rule = if both { rule } else { ThresholdRule::NormalQuantile95 };
    let value = metrics::select_threshold(&validation_scores, &validation_labels, rule)?;
    let test_scores: Vec<f32> = test.iter().map(|r| r.score).collect();
    let test_labels: Vec<bool> = test.iter().map(|r| r.label == 1).collect();
    let classes: Vec<u8> = test.iter().map(|r| r.class).collect();
    let per_class = metrics::flagged_per_class(&test_scores, &classes, value, NUM_CLASSES)
        .into_iter()
        .enumerate()
        .map(|(c, (count, flagged))| ClassDetection { class: c as u8, name: crate::data::CLASS_NAMES[c].into(), count, flagged })
        .collect();
    Ok(Evaluation {
        scorer: scorer.to_string(),
        threshold: Threshold { rule, value, chosen_on: chosen_on.to_string() },
        validation: both.then(|| SetMetrics::new(&validation_scores, &validation_labels, value)).transpose()?,
        test: SetMetrics::new(&test_scores, &test_labels, value)?,
        per_class,
    })
}

/// AUROC of the normal images against each anomaly class alone, by that class: which anomalies
/// a detector takes for normal. Every anomaly class has the same test count, so the overall
/// AUROC is the mean of these.
pub fn auroc_by_anomaly_class(records: &[ScoreRecord]) -> Result<BTreeMap<u8, f64>> {
    let normal: Vec<f32> = records.iter().filter(|r| r.label == 0).map(|r| r.score).collect();
    let mut anomalies: BTreeMap<u8, Vec<f32>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.label == 1) {
        anomalies.entry(r.class).or_default().push(r.score);
    }
    anomalies
        .into_iter()
        .map(|(class, scores)| {
            let labels: Vec<bool> = (0..normal.len() + scores.len()).map(|i| i >= normal.len()).collect();
            Ok((class, metrics::auroc(&[normal.as_slice(), &scores].concat(), &labels)?))
        })
        .collect()
}

/// The scores of the images that pick the threshold, and their name: the validation set, or
/// where there is none the training images, labelled as the protocol labels them (the
/// unlabelled ones, pollution included, as normal; the labelled anomalies as anomalies).
pub fn threshold_set(scorer: &dyn Scorer, data: &SplitData, batch_size: usize) -> (Vec<ScoreRecord>, &'static str) {
    if !data.validation.is_empty() {
        return (score_records(&data.validation, &score_set(scorer, &data.validation, batch_size)), "validation");
    }
    let mut records = Vec::with_capacity(data.train_normal.len() + data.train_anomaly.len());
    for (set, label) in [(&data.train_normal, 0u8), (&data.train_anomaly, 1u8)] {
        let scores = score_set(scorer, set, batch_size);
        records.extend(score_records(set, &scores).into_iter().map(|r| ScoreRecord { label, ..r }));
    }
    (records, "training")
}

/// Scores the threshold's images and the test split with `scorer` and evaluates. Returns both
/// sets' score records too.
pub fn evaluate(
    scorer: &dyn Scorer,
    data: &SplitData,
    rule: ThresholdRule,
    batch_size: usize,
) -> Result<(Evaluation, Vec<ScoreRecord>, Vec<ScoreRecord>)> {
    let (validation, chosen_on) = threshold_set(scorer, data, batch_size);
    let test = score_records(&data.test, &score_set(scorer, &data.test, batch_size));
    let evaluation = evaluate_scores(scorer.name(), &validation, &test, rule, chosen_on)?;
    Ok((evaluation, validation, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_anomaly_class_is_ranked_against_the_normals_alone() {
        let record = |class: u8, score: f32| ScoreRecord { index: 0, class, label: (class != 6) as u8, score };
        // Normals at 1 and 2; class 0 above them all, class 2 below them all, class 4 between.
        let records = [
            record(6, 1.0),
            record(6, 2.0),
            record(0, 3.0),
            record(0, 4.0),
            record(2, 0.0),
            record(2, 0.5),
            record(4, 1.5),
            record(4, 1.5),
        ];
        let by_class = auroc_by_anomaly_class(&records).unwrap();
        assert_eq!(by_class, BTreeMap::from([(0, 1.0), (2, 0.0), (4, 0.5)]));
        let scores: Vec<f32> = records.iter().map(|r| r.score).collect();
        let labels: Vec<bool> = records.iter().map(|r| r.label == 1).collect();
        let overall = metrics::auroc(&scores, &labels).unwrap();
        assert!((overall - by_class.values().sum::<f64>() / 3.0).abs() < 1e-12, "equal class sizes: the overall AUROC is their mean");
    }

    #[test]
    fn a_threshold_set_of_one_class_needs_no_label() {
        let record = |label: u8, score: f32| ScoreRecord { index: 0, class: label, label, score };
        let normals: Vec<ScoreRecord> = (0..20).map(|i| record(0, i as f32)).collect();
        let test = [record(0, 1.0), record(1, 19.5), record(1, 3.0)];
        let e = evaluate_scores("x", &normals, &test, ThresholdRule::BestF1, "training").unwrap();
        assert_eq!(
            (e.threshold.rule, e.threshold.value, e.threshold.chosen_on.as_str()),
            (ThresholdRule::NormalQuantile95, 18.0, "training")
        );
        assert!(e.validation.is_none(), "no AUROC of one class");
        assert_eq!(e.test.confusion.true_anomaly, 1);
        let mut both = normals.clone();
        both.push(record(1, 30.0));
        let e = evaluate_scores("x", &both, &test, ThresholdRule::BestF1, "validation").unwrap();
        assert_eq!((e.threshold.rule, e.threshold.value), (ThresholdRule::BestF1, 30.0));
        assert_eq!(e.validation.unwrap().auroc, 1.0);
    }
}
