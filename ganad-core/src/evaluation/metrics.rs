//! Detection metrics over plain slices (no tch): anomalies are the positive class.
//!
//! AUROC is the Mann–Whitney statistic with mid-ranks for ties, which equals the trapezoidal
//! area under the ROC curve that scikit-learn's `roc_auc_score` computes. Inputs with NaN, or
//! with one class only, are errors (an AUROC of one class is undefined, not 0.5).
//! Everything is O(n log n): one sort, then linear sweeps.

pub use crate::config::ThresholdRule;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

fn check(scores: &[f32], labels: &[bool]) -> Result<(usize, usize)> {
    if scores.len() != labels.len() {
        return Err(Error::Metric(format!("{} scores but {} labels", scores.len(), labels.len())));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(Error::Metric(format!("score {i} is NaN")));
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(Error::Metric(format!("need both classes, got {positives} anomalies and {negatives} normals: AUROC is undefined")));
    }
    Ok((positives, negatives))
}

/// Indices sorted by descending score.
fn descending(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// Area under the ROC curve. sklearn: `roc_auc_score(labels, scores)`.
pub fn auroc(scores: &[f32], labels: &[bool]) -> Result<f64> {
    let (pos, neg) = check(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, mid-ranked) ranks of the positives.
    let mut rank_sum = 0.0f64;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mid_rank = (start + end + 1) as f64 / 2.0;
        let tied_pos = order[start..end].iter().filter(|&&i| labels[i]).count();
        rank_sum += mid_rank * tied_pos as f64;
        start = end;
    }
    let u = rank_sum - (pos as f64) * (pos as f64 + 1.0) / 2.0;
    Ok(u / (pos as f64 * neg as f64))
}

/// One point of the ROC curve: flagging every score ≥ `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub threshold: f32,
    pub fpr: f64,
    pub tpr: f64,
    pub tp: usize,
    pub fp: usize,
}

/// ROC curve at every distinct score, from the highest threshold down (plus the (0, 0) start
/// at threshold +∞). sklearn: `roc_curve(labels, scores, drop_intermediate=False)`.
pub fn roc_curve(scores: &[f32], labels: &[bool]) -> Result<Vec<RocPoint>> {
    let (pos, neg) = check(scores, labels)?;
    let order = descending(scores);
    let mut points = vec![RocPoint { threshold: f32::INFINITY, fpr: 0.0, tpr: 0.0, tp: 0, fp: 0 }];
    let (mut tp, mut fp) = (0, 0);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = k + 1 == order.len() || scores[order[k + 1]] != scores[i];
        if last_of_tie {
            points.push(RocPoint { threshold: scores[i], fpr: fp as f64 / neg as f64, tpr: tp as f64 / pos as f64, tp, fp });
        }
    }
    Ok(points)
}

/// Average precision, Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds. sklearn: `average_precision_score(labels, scores)`.
pub fn average_precision(scores: &[f32], labels: &[bool]) -> Result<f64> {
    let points = roc_curve(scores, labels)?;
    let mut ap = 0.0;
    for w in points.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        let precision = cur.tp as f64 / (cur.tp + cur.fp) as f64;
        ap += (cur.tpr - prev.tpr) * precision;
    }
    Ok(ap)
}

/// The score above which a share `1 − q` of `scores` lies: the ⌈q·n⌉-th smallest (so at least
/// a share q of the scores is ≤ it). Empty input gives +∞ (nothing is flagged).
pub fn quantile(scores: &[f32], q: f64) -> f32 {
    if scores.is_empty() {
        return f32::INFINITY;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_unstable_by(f32::total_cmp);
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// The threshold (flag scores ≥ it) that maximises `rule`; exact ties go to the higher
/// threshold. Both rules are compared as exact fractions, so ties are real ties.
pub fn select_threshold(scores: &[f32], labels: &[bool], rule: ThresholdRule) -> Result<f32> {
    if rule == ThresholdRule::NormalQuantile95 {
        let normal: Vec<f32> = scores.iter().zip(labels).filter(|(_, &l)| !l).map(|(&s, _)| s).collect();
        return Ok(quantile(&normal, 0.95));
    }
    let (pos, neg) = check(scores, labels)?;
    // value = num / den
    let fraction = |p: &RocPoint| -> (i128, i128) {
        let (tp, fp, pos, neg) = (p.tp as i128, p.fp as i128, pos as i128, neg as i128);
        match rule {
            ThresholdRule::BestF1 => (2 * tp, tp + fp + pos),
            ThresholdRule::Youden => (tp * neg - fp * pos, pos * neg),
            ThresholdRule::NormalQuantile95 => unreachable!("answered above"),
        }
    };
    let mut best: Option<((i128, i128), f32)> = None;
    for p in roc_curve(scores, labels)?.iter().skip(1) {
        let (num, den) = fraction(p);
        if best.is_none_or(|((bn, bd), _)| num * bd > bn * den) {
            best = Some(((num, den), p.threshold));
        }
    }
    Ok(best.map(|b| b.1).expect("both classes present, so the curve has points"))
}

/// 2×2 confusion counts with anomaly = positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub true_normal: usize,
    pub false_anomaly: usize,
    pub missed_anomaly: usize,
    pub true_anomaly: usize,
}

impl Confusion {
    /// Counts of flagging every score ≥ `threshold`.
    pub fn at(scores: &[f32], labels: &[bool], threshold: f32) -> Self {
        let mut c = Confusion { true_normal: 0, false_anomaly: 0, missed_anomaly: 0, true_anomaly: 0 };
        for (&s, &l) in scores.iter().zip(labels) {
            match (l, s >= threshold) {
                (false, false) => c.true_normal += 1,
                (false, true) => c.false_anomaly += 1,
                (true, false) => c.missed_anomaly += 1,
                (true, true) => c.true_anomaly += 1,
            }
        }
        c
    }

    pub fn accuracy(&self) -> f64 {
        let total = self.true_normal + self.false_anomaly + self.missed_anomaly + self.true_anomaly;
        (self.true_normal + self.true_anomaly) as f64 / total.max(1) as f64
    }

    pub fn f1(&self) -> f64 {
        let tp = self.true_anomaly as f64;
        2.0 * tp / (2.0 * tp + self.false_anomaly as f64 + self.missed_anomaly as f64).max(1.0)
    }
}

/// For each true class: how many images, and how many were flagged anomalous.
pub fn flagged_per_class(scores: &[f32], classes: &[u8], threshold: f32, num_classes: usize) -> Vec<(usize, usize)> {
    let mut out = vec![(0, 0); num_classes];
    for (&s, &c) in scores.iter().zip(classes) {
        out[c as usize].0 += 1;
        out[c as usize].1 += (s >= threshold) as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The definition: P(score_pos > score_neg) + ½ P(equal), over all pairs. O(n²).
    fn pairwise_auroc(scores: &[f32], labels: &[bool]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            for (j, &lj) in labels.iter().enumerate() {
                if li && !lj {
                    pairs += 1.0;
                    wins += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        wins / pairs
    }

    #[test]
    fn auroc_matches_the_pairwise_definition_on_random_tied_inputs() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        for case in 0..3000 {
            let n = rng.gen_range(2..60);
            let levels = if case % 3 == 0 { 3 } else { 1000 }; // heavy ties in a third of cases
            let scores: Vec<f32> = (0..n).map(|_| rng.gen_range(0..levels) as f32 / 7.0).collect();
            let mut labels: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.3)).collect();
            labels[0] = true;
            labels[1] = false;
            let fast = auroc(&scores, &labels).unwrap();
            let slow = pairwise_auroc(&scores, &labels);
            assert!((fast - slow).abs() < 1e-12, "case {case}: {fast} vs {slow}");
        }
    }

    #[test]
    fn known_values() {
        // sklearn: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.75
        assert_eq!(auroc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap(), 0.75);
        // sklearn: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.8333…
        let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((ap - 5.0 / 6.0).abs() < 1e-12);
        // Constant scores: every pair is a tie.
        assert_eq!(auroc(&[1.0; 4], &[false, true, true, false]).unwrap(), 0.5);
    }

    #[test]
    fn degenerate_inputs_are_errors_not_nan() {
        assert!(auroc(&[0.1, 0.2], &[true, true]).unwrap_err().to_string().contains("need both classes"));
        assert!(auroc(&[], &[]).is_err());
        assert!(auroc(&[f32::NAN, 0.2], &[true, false]).unwrap_err().to_string().contains("NaN"));
        assert!(auroc(&[0.1], &[true, false]).unwrap_err().to_string().contains("1 scores but 2 labels"));
    }

    #[test]
    fn thresholds_and_confusion() {
        let scores = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
        let labels = [false, false, true, false, true, true];
        // F1 at ≥0.3: tp 3, fp 1 → 6/7, the best; Youden at ≥0.8: 2/3 − 0 vs ≥0.3: 1 − 1/3: tie → higher.
        assert_eq!(select_threshold(&scores, &labels, ThresholdRule::BestF1).unwrap(), 0.3);
        assert_eq!(select_threshold(&scores, &labels, ThresholdRule::Youden).unwrap(), 0.8);
        let c = Confusion::at(&scores, &labels, 0.3);
        assert_eq!(c, Confusion { true_normal: 2, false_anomaly: 1, missed_anomaly: 0, true_anomaly: 3 });
        assert!((c.f1() - 6.0 / 7.0).abs() < 1e-12);
        let per_class = flagged_per_class(&scores, &[0, 0, 1, 0, 2, 2], 0.3, 3);
        assert_eq!(per_class, vec![(3, 1), (1, 1), (2, 2)]);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.95), 4.0);
        assert_eq!(quantile(&[], 0.95), f32::INFINITY);
        // The normals score 0.1, 0.2 and 0.7: 95 % of three is all three, so the largest.
        assert_eq!(select_threshold(&scores, &labels, ThresholdRule::NormalQuantile95).unwrap(), 0.7);
        let roc = roc_curve(&scores, &labels).unwrap();
        assert_eq!((roc[0].fpr, roc[0].tpr), (0.0, 0.0));
        assert_eq!((roc.last().unwrap().fpr, roc.last().unwrap().tpr), (1.0, 1.0));
    }
}
