//! One-vs-rest splits: one normal class, a few labelled anomalies, validation from train only.
//!
//! Training holds the normal class's training images (less the validation share) and
//! `round(anomaly_ratio × normals)` labelled anomalies, spread evenly over the known anomaly
//! classes (all nine other classes unless the protocol names some). A pollution share mixes
//! unlabelled anomalies, drawn from all nine other classes, into the training normals: every
//! method must take them for normal. Validation mirrors the test set's 1:9 prevalence: the
//! held-out normals plus as many images of each other class, all disjoint from the training
//! images; a validation share of 0 trains on every normal and has no validation set. Test is
//! the whole test split. Everything is drawn with a seeded ChaCha8 generator, so a seed fixes
//! the split.

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
    /// The classes the labelled anomalies come from; `None` = all nine other classes.
    pub known_anomaly_classes: Option<Vec<u8>>,
    /// Share of the unlabelled training images that are anomalies (Deep SAD's γ_p).
    pub pollution: f64,
    pub validation_share: f64,
    pub max_train_normals: Option<usize>,
    pub seed: u64,
}

/// Indices into the training split (train_*, validation) and the test split (test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub normal_class: u8,
    pub train_normal: Vec<usize>,
    /// Unlabelled anomalies trained on as if they were normal (the pollution).
    #[serde(default)]
    pub train_pollution: Vec<usize>,
    pub train_anomaly: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

/// The number of labelled anomalies a ratio asks for.
pub fn anomaly_count(ratio: f64, normals: usize) -> usize {
    (ratio * normals as f64).round() as usize
}

/// The number of unlabelled anomalies that make `pollution` of the unlabelled training images
/// when `normals` of them are normal: ⌊γ_p / (1 − γ_p) · normals⌋, truncated as Deep SAD's
/// `create_semisupervised_setting` truncates (6,000 normals at γ_p = 0.1: 666).
pub fn pollution_count(pollution: f64, normals: usize) -> usize {
    (pollution / (1.0 - pollution) * normals as f64 + 1e-9).floor() as usize
}

/// The anomaly ratio (labelled anomalies per normal training image) that gives Deep SAD's γ_l.
///
/// Deep SAD counts its labelled anomalies as a share of *all* training images, themselves and
/// the polluting ones included (`ratio_known_outlier`: n_l = γ_l · (n + n_p + n_l)); with the
/// pollution n_p = γ_p/(1 − γ_p) · n, that is n_l = γ_l / ((1 − γ_l)(1 − γ_p)) · n. At 6,000
/// normals, γ_l = 0.01 and γ_p = 0.1 both give 67 labelled anomalies; at γ_p = 0 ganad rounds
/// 60.6 to 61 where Deep SAD truncates to 60.
pub fn ratio_for_labelled_share(labelled_share: f64, pollution: f64) -> f64 {
    labelled_share / ((1.0 - labelled_share) * (1.0 - pollution))
}

/// Deep SAD's γ_l of a split: labelled anomalies as a share of all training images.
pub fn labelled_share(normals: usize, pollution: usize, labelled: usize) -> f64 {
    let total = normals + pollution + labelled;
    if total == 0 {
        0.0
    } else {
        labelled as f64 / total as f64
    }
}

pub fn check_ratio(ratio: f64) -> Result<()> {
    if !ratio.is_finite() || ratio < 0.0 {
        return Err(Error::config(
            "anomaly_ratio",
            format!("{ratio} must be a finite number ≥ 0 (labelled anomalies per normal training image; 0 = normal-only)"),
        ));
    }
    Ok(())
}

/// The protocol fields of a split, each checked with a message that says what to change.
pub fn check_protocol(spec: &SplitSpec) -> Result<()> {
    let normal_class = check_class(spec.normal_class as i64)?;
    check_ratio(spec.anomaly_ratio)?;
    if !(0.0..1.0).contains(&spec.validation_share) {
        return Err(Error::config(
            "data.validation_share",
            format!("{} must lie in [0, 1) (0 = train on every normal, no validation set)", spec.validation_share),
        ));
    }
    if !(0.0..0.5).contains(&spec.pollution) {
        return Err(Error::config(
            "data.pollution",
            format!(
                "{} must lie in [0, 0.5) (the share of unlabelled training images that are anomalies; Deep SAD uses 0.1)",
                spec.pollution
            ),
        ));
    }
    if let Some(known) = &spec.known_anomaly_classes {
        if known.is_empty() {
            return Err(Error::config(
                "data.known_anomaly_classes",
                "is empty: name at least one anomaly class, or leave it out for all nine",
            ));
        }
        for (i, &k) in known.iter().enumerate() {
            check_class(k as i64).map_err(|_| Error::config("data.known_anomaly_classes", format!("{k} is not a class; use 0..9")))?;
            if k == normal_class {
                return Err(Error::config(
                    "data.known_anomaly_classes",
                    format!("{k} is the normal class; a known anomaly class must be another one"),
                ));
            }
            if known[..i].contains(&k) {
                return Err(Error::config("data.known_anomaly_classes", format!("{k} is listed twice")));
            }
        }
    }
    Ok(())
}

impl Split {
    pub fn new(train: &LabelledImages, test: &LabelledImages, spec: &SplitSpec) -> Result<Self> {
        check_protocol(spec)?;
        let normal_class = spec.normal_class;
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut normals = train.indices_of(normal_class);
        normals.shuffle(&mut rng);
        let n_val = if spec.validation_share > 0.0 { ((spec.validation_share * normals.len() as f64).round() as usize).max(1) } else { 0 };
        let mut validation = normals[..n_val].to_vec();
        let mut train_normal = normals[n_val..].to_vec();
        if let Some(cap) = spec.max_train_normals {
            train_normal.truncate(cap);
        }

        // Per other class: the first n_val shuffled images validate, the rest may be labelled
        // (if the class is a known one) or pollute.
        let mut pools = Vec::with_capacity(NUM_CLASSES - 1);
        for class in (0..NUM_CLASSES as u8).filter(|&c| c != normal_class) {
            let mut idx = train.indices_of(class);
            idx.shuffle(&mut rng);
            let take = n_val.min(idx.len());
            validation.extend_from_slice(&idx[..take]);
            pools.push((class, idx[take..].to_vec()));
        }
        let known: Vec<usize> = match &spec.known_anomaly_classes {
            None => (0..pools.len()).collect(),
            Some(classes) => (0..pools.len()).filter(|&p| classes.contains(&pools[p].0)).collect(),
        };

        let wanted = anomaly_count(spec.anomaly_ratio, train_normal.len());
        let available: usize = known.iter().map(|&p| pools[p].1.len()).sum();
        if wanted > available {
            return Err(Error::config(
                "anomaly_ratio",
                format!(
                    "{} × {} normals asks for {wanted} labelled anomalies, only {available} exist outside validation; \
                     use a ratio ≤ {:.3}",
                    spec.anomaly_ratio,
                    train_normal.len(),
                    available as f64 / train_normal.len().max(1) as f64
                ),
            ));
        }
        // Even spread over the known classes; the remainder goes to randomly chosen ones.
        let mut quotas = vec![wanted / known.len(); known.len()];
        let mut order: Vec<usize> = (0..known.len()).collect();
        order.shuffle(&mut rng);
        for &c in order.iter().take(wanted % known.len()) {
            quotas[c] += 1;
        }
        let mut train_anomaly = Vec::with_capacity(wanted);
        for (&p, quota) in known.iter().zip(quotas) {
            let pool = &mut pools[p].1;
            if quota > pool.len() {
                return Err(Error::config("anomaly_ratio", format!("needs {quota} anomalies of one class, it has {}", pool.len())));
            }
            train_anomaly.extend(pool.drain(..quota));
        }

        // Pollution: unlabelled anomalies of all nine classes, drawn at random from what is left
        // (Deep SAD draws them from every anomaly class, not evenly).
        let n_pollution = pollution_count(spec.pollution, train_normal.len());
        let mut train_pollution = Vec::new();
        if n_pollution > 0 {
            let mut rest: Vec<usize> = pools.iter().flat_map(|(_, pool)| pool.iter().copied()).collect();
            if n_pollution > rest.len() {
                return Err(Error::config(
                    "data.pollution",
                    format!("needs {n_pollution} unlabelled anomalies, only {} are left", rest.len()),
                ));
            }
            rest.sort_unstable();
            rest.shuffle(&mut rng);
            train_pollution = rest[..n_pollution].to_vec();
        }

        train_normal.sort_unstable();
        train_pollution.sort_unstable();
        train_anomaly.sort_unstable();
        validation.sort_unstable();
        Ok(Split { normal_class, train_normal, train_pollution, train_anomaly, validation, test: (0..test.len()).collect() })
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
        SplitSpec {
            normal_class: 0,
            anomaly_ratio: ratio,
            known_anomaly_classes: None,
            pollution: 0.0,
            validation_share: 0.1,
            max_train_normals: None,
            seed,
        }
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
        for (known, what) in [(vec![], "is empty"), (vec![0], "normal class"), (vec![3, 3], "twice"), (vec![12], "use 0..9")] {
            let bad = SplitSpec { known_anomaly_classes: Some(known), ..spec(0.1, 0) };
            let msg = Split::new(&train, &train, &bad).unwrap_err().to_string();
            assert!(msg.contains("data.known_anomaly_classes") && msg.contains(what), "{msg}");
        }
        for (share, pollution, field) in [
            (1.0, 0.0, "data.validation_share"),
            (-0.1, 0.0, "data.validation_share"),
            (0.1, 0.5, "data.pollution"),
            (0.1, -0.01, "data.pollution"),
        ] {
            let bad = SplitSpec { validation_share: share, pollution, ..spec(0.0, 0) };
            assert!(Split::new(&train, &train, &bad).unwrap_err().to_string().contains(field), "{field}");
        }
    }

    /// Deep SAD's semi-supervised setting: labelled anomalies of one known class, the whole
    /// normal class in training, unlabelled anomalies of every class polluting it.
    #[test]
    fn a_known_class_pollution_and_no_validation_make_deep_sads_setting() {
        let train = fake(600);
        let deep_sad = SplitSpec {
            anomaly_ratio: ratio_for_labelled_share(0.01, 0.1),
            known_anomaly_classes: Some(vec![3]),
            pollution: 0.1,
            validation_share: 0.0,
            ..spec(0.0, 4)
        };
        let s = Split::new(&train, &fake(1), &deep_sad).unwrap();
        assert_eq!(s.train_normal.len(), 600, "every normal trains");
        assert!(s.validation.is_empty());
        assert_eq!(s.train_pollution.len(), pollution_count(0.1, 600));
        assert_eq!(s.train_pollution.len(), 66, "⌊0.1 / 0.9 · 600⌋");
        assert_eq!(s.train_anomaly.len(), 7, "round(0.01 / 0.99 · (600 + 66.7))");
        assert!(s.train_anomaly.iter().all(|&i| train.labels[i] == 3), "only the known class is labelled");
        let polluting: std::collections::BTreeSet<u8> = s.train_pollution.iter().map(|&i| train.labels[i]).collect();
        assert!(polluting.len() > 3 && !polluting.contains(&0), "pollution comes from many anomaly classes: {polluting:?}");
        assert!(s.train_pollution.iter().all(|i| !s.train_anomaly.contains(i)), "no image is both labelled and unlabelled");
        assert!((labelled_share(600, 66, 7) - 7.0 / 673.0).abs() < 1e-12);
        // Deep SAD's own count at its scale: 6,000 normals, γ_l = 0.01, γ_p = 0.1 → 666 and 67.
        assert_eq!(pollution_count(0.1, 6000), 666);
        assert_eq!(anomaly_count(ratio_for_labelled_share(0.01, 0.1), 6000), 67);
        // Two known classes share the quota evenly.
        let two = SplitSpec { known_anomaly_classes: Some(vec![2, 5]), anomaly_ratio: 0.02, ..spec(0.0, 1) };
        let s = Split::new(&train, &fake(1), &two).unwrap();
        let per_class = |k: u8| s.train_anomaly.iter().filter(|&&i| train.labels[i] == k).count();
        assert_eq!(s.train_anomaly.len(), 11, "round(0.02 · 540)");
        assert!([(5, 6), (6, 5)].contains(&(per_class(2), per_class(5))), "evenly, the odd one to a random class");
    }
}
