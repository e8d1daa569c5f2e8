//! Evaluation, written once for every scorer: validation picks the threshold, the test split
//! gives the reported numbers, and every test score is kept so anyone can recompute them.

use crate::data::{ImageSet, SplitData, NUM_CLASSES};
use crate::error::Result;
use crate::metrics::{self, Confusion, ThresholdRule};
use crate::score::{score_set, Scorer};
use serde::{Deserialize, Serialize};

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
    pub validation: SetMetrics,
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

/// Metrics from saved scores: validation picks the threshold, test is measured at it.
pub fn evaluate_scores(scorer: &str, validation: &[ScoreRecord], test: &[ScoreRecord], rule: ThresholdRule) -> Result<Evaluation> {
    let validation_scores: Vec<f32> = validation.iter().map(|r| r.score).collect();
    let validation_labels: Vec<bool> = validation.iter().map(|r| r.label == 1).collect();
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
        threshold: Threshold { rule, value },
        validation: SetMetrics::new(&validation_scores, &validation_labels, value)?,
        test: SetMetrics::new(&test_scores, &test_labels, value)?,
        per_class,
    })
}

/// Scores validation and test with `scorer` and evaluates. Returns both sets' score records too.
pub fn evaluate(scorer: &dyn Scorer, data: &SplitData, rule: ThresholdRule, batch_size: usize) -> Result<(Evaluation, Vec<ScoreRecord>, Vec<ScoreRecord>)> {
    let validation = score_records(&data.validation, &score_set(scorer, &data.validation, batch_size));
    let test = score_records(&data.test, &score_set(scorer, &data.test, batch_size));
    let evaluation = evaluate_scores(scorer.name(), &validation, &test, rule)?;
    Ok((evaluation, validation, test))
}
