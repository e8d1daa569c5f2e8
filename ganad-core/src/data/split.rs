//! One-vs-rest splits: one normal class, a few labelled anomalies, validation from train only.
//!
//! Training holds the normal class's training images (less the validation share) and
//! `round(anomaly_ratio × normals)` labelled anomalies, spread evenly over the nine other
//! classes. Validation mirrors the test set's 1:9 prevalence: the held-out normals plus as many
//! images of each other class, all disjoint from the labelled anomalies. Test is the whole test
//! split. Everything is drawn with a seeded ChaCha8 generator, so a seed fixes the split.

use super::fashion_mnist::{check_class, LabelledImages, NUM_CLASSES};
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What to split, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    pub normal_class: u8,
    pub anomaly_ratio: f64,
    pub validation_share: f64,
    pub max_train_normals: Option<usize>,
    pub seed: u64,
}

/// Indices into the training split (train_*, validation) and the test split (test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub normal_class: u8,
    pub train_normal: Vec<usize>,
    pub train_anomaly: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

/// The number of labelled anomalies a ratio asks for.
pub fn anomaly_count(ratio: f64, normals: usize) -> usize {
    (ratio * normals as f64).round() as usize
}

pub fn check_ratio(ratio: f64) -> Result<()> {
    if !ratio.is_finite() || ratio < 0.0 {
        return Err(Error::config("anomaly_ratio", format!("{ratio} must be a finite number ≥ 0 (labelled anomalies per normal training image; 0 = normal-only)")));
    }
    Ok(())
}

impl Split {
    pub fn new(train: &LabelledImages, test: &LabelledImages, spec: &SplitSpec) -> Result<Self> {
        let normal_class = check_class(spec.normal_class as i64)?;
        check_ratio(spec.anomaly_ratio)?;
        if !(spec.validation_share > 0.0 && spec.validation_share < 1.0) {
            return Err(Error::config("validation_share", format!("{} must lie in (0, 1)", spec.validation_share)));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut normals = train.indices_of(normal_class);
        normals.shuffle(&mut rng);
        let n_val = ((spec.validation_share * normals.len() as f64).round() as usize).max(1);
        let mut validation = normals[..n_val].to_vec();
        let mut train_normal = normals[n_val..].to_vec();
        if let Some(cap) = spec.max_train_normals {
            train_normal.truncate(cap);
        }

        // Per other class: the first n_val shuffled images validate, the rest may be labelled.
        let mut pools = Vec::with_capacity(NUM_CLASSES - 1);
        for class in (0..NUM_CLASSES as u8).filter(|&c| c != normal_class) {
            let mut idx = train.indices_of(class);
            idx.shuffle(&mut rng);
            let take = n_val.min(idx.len());
            validation.extend_from_slice(&idx[..take]);
            pools.push(idx[take..].to_vec());
        }

        let wanted = anomaly_count(spec.anomaly_ratio, train_normal.len());
        let available: usize = pools.iter().map(Vec::len).sum();
        if wanted > available {
            return Err(Error::config(
                "anomaly_ratio",
                format!("{} × {} normals asks for {wanted} labelled anomalies, only {available} exist outside validation; use a ratio ≤ {:.3}",
                    spec.anomaly_ratio, train_normal.len(), available as f64 / train_normal.len() as f64),
            ));
        }
        // Even spread; the remainder goes to randomly chosen classes.
        let mut quotas = vec![wanted / pools.len(); pools.len()];
        let mut order: Vec<usize> = (0..pools.len()).collect();
        order.shuffle(&mut rng);
        for &c in order.iter().take(wanted % pools.len()) {
            quotas[c] += 1;
        }
        let mut train_anomaly = Vec::with_capacity(wanted);
        for (pool, quota) in pools.iter().zip(quotas) {
            if quota > pool.len() {
                return Err(Error::config("anomaly_ratio", format!("needs {quota} anomalies of one class, it has {}", pool.len())));
            }
            train_anomaly.extend_from_slice(&pool[..quota]);
        }

        train_normal.sort_unstable();
        train_anomaly.sort_unstable();
        validation.sort_unstable();
        Ok(Split { normal_class, train_normal, train_anomaly, validation, test: (0..test.len()).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::IdxImages;

    /// `per_class` black images per class, classes interleaved: nothing here depends on pixels.
    fn fake(per_class: usize) -> LabelledImages {
        let n = per_class * NUM_CLASSES;
        let labels: Vec<u8> = (0..n).map(|i| (i % NUM_CLASSES) as u8).collect();
        LabelledImages { images: IdxImages { count: n, rows: 28, cols: 28, pixels: vec![0; n * 784] }, labels }
    }

    fn spec(ratio: f64, seed: u64) -> SplitSpec {
        SplitSpec { normal_class: 0, anomaly_ratio: ratio, validation_share: 0.1, max_train_normals: None, seed }
    }

    #[test]
    fn labelled_anomalies_are_stratified_and_disjoint_from_validation() {
        let train = fake(600);
        let s = Split::new(&train, &fake(10), &spec(0.1, 7)).unwrap();
        assert_eq!(s.train_normal.len(), 540);
        assert_eq!(s.train_anomaly.len(), 54);
        let mut per_class = [0; NUM_CLASSES];
        for &i in &s.train_anomaly {
            per_class[train.labels[i] as usize] += 1;
        }
        assert_eq!(per_class, [0, 6, 6, 6, 6, 6, 6, 6, 6, 6]);
        assert!(s.train_anomaly.iter().all(|i| !s.validation.contains(i)));
        assert!(s.train_normal.iter().all(|i| !s.validation.contains(i)));
        assert_eq!(s.validation.len(), 60 * 10, "validation mirrors the test prevalence");
        assert_eq!(s.test.len(), 100);
    }

    #[test]
    fn the_seed_fixes_the_split() {
        let train = fake(600);
        let a = Split::new(&train, &fake(1), &spec(0.05, 1)).unwrap();
        assert_eq!(a, Split::new(&train, &fake(1), &spec(0.05, 1)).unwrap());
        assert_ne!(a.train_anomaly, Split::new(&train, &fake(1), &spec(0.05, 2)).unwrap().train_anomaly);
    }

    #[test]
    fn invalid_requests_say_what_to_change() {
        let train = fake(100);
        let mut bad = spec(0.0, 0);
        bad.normal_class = 10;
        assert!(Split::new(&train, &train, &bad).unwrap_err().to_string().contains("use 0..9"));
        assert!(Split::new(&train, &train, &spec(-0.5, 0)).unwrap_err().to_string().contains("≥ 0"));
        let msg = Split::new(&train, &train, &spec(20.0, 0)).unwrap_err().to_string();
        assert!(msg.contains("only 810 exist") && msg.contains("ratio ≤ 9.000"), "{msg}");
        let normal_only = Split::new(&train, &train, &spec(0.0, 0)).unwrap();
        assert!(normal_only.train_anomaly.is_empty());
    }
}
