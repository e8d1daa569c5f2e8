//! The protocol of a run in words: which images trained, with which labels, what validated,
//! and which epoch is reported. Every `run.json` and every summary carries it, so a number is
//! never read without the setting that made it.
//!
//! Three protocols recur (`docs/protocols.md`):
//! - ganad's own: labelled anomalies from all nine anomaly classes, 10 % of the normals held out
//!   with as many images of each other class to validate;
//! - Deep SAD's (Ruff et al., ICLR 2020): labelled anomalies from one known anomaly class at a
//!   share γ_l of the training images, unlabelled anomalies polluting the normals at γ_p, every
//!   training normal trained on, no validation set;
//! - the one-class protocol (GeoTrans, ARNet): every training normal, no anomaly of any kind.

use crate::config::{CheckpointRule, Config};
use crate::data::split::labelled_share;
use crate::data::CLASS_NAMES;
use crate::experiments::run::SplitSizes;

/// The protocol's short name: "one-class", "Deep SAD" or "all-nine".
pub fn name(cfg: &Config) -> &'static str {
    let d = &cfg.data;
    if d.anomaly_ratio == 0.0 && d.pollution == 0.0 && d.validation_share == 0.0 {
        "one-class"
    } else if d.known_anomaly_classes.is_some() || d.pollution > 0.0 {
        "Deep SAD"
    } else {
        "all-nine"
    }
}

/// One sentence on what trained and what was reported.
pub fn describe(cfg: &Config, sizes: &SplitSizes) -> String {
    let d = &cfg.data;
    let class = |k: u8| format!("{k} {}", CLASS_NAMES[k as usize]);
    let mut parts = vec![format!("{} protocol: normal class {}", name(cfg), class(d.normal_class))];
    parts.push(if sizes.validation == 0 {
        format!("{} training normals, none held out", sizes.train_normal)
    } else {
        format!("{} training normals ({} validation images held out)", sizes.train_normal, sizes.validation)
    });
    if sizes.train_pollution > 0 {
        parts.push(format!(
            "plus {} unlabelled anomalies of all nine classes trained on as normal (γ_p = {})",
            sizes.train_pollution, d.pollution
        ));
    }
    let from = match &d.known_anomaly_classes {
        None => "all nine anomaly classes".to_string(),
        Some(known) => format!("known class {}", known.iter().map(|&k| class(k)).collect::<Vec<_>>().join(", ")),
    };
    parts.push(if sizes.train_anomaly == 0 {
        "no labelled anomaly".to_string()
    } else {
        let share = labelled_share(sizes.train_normal, sizes.train_pollution, sizes.train_anomaly);
        format!("{} labelled anomalies from {from} (anomaly ratio {:.4}, γ_l = {share:.4})", sizes.train_anomaly, d.anomaly_ratio)
    });
    let epoch = match cfg.train.checkpoint {
        CheckpointRule::Last => format!("reported epoch: the last of {}", cfg.train.epochs),
        CheckpointRule::BestValidation => "reported epoch: the best on validation".to_string(),
    };
    parts.push(epoch);
    parts.push(format!("full test split ({} images)", sizes.test));
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_protocols_name_themselves() {
        let sizes = SplitSizes { train_normal: 6000, train_pollution: 666, train_anomaly: 67, validation: 0, test: 10000 };
        let mut cfg = Config::default();
        (cfg.data.known_anomaly_classes, cfg.data.pollution, cfg.data.validation_share) = (Some(vec![1]), 0.1, 0.0);
        let text = describe(&cfg, &sizes);
        assert!(text.starts_with("Deep SAD protocol: normal class 0 T-shirt/top"), "{text}");
        assert!(text.contains("666 unlabelled anomalies") && text.contains("67 labelled anomalies from known class 1 Trouser"), "{text}");
        assert!(text.contains("γ_l = 0.0100") && text.contains("the last of 6"), "{text}");
        let mut one_class = Config::default();
        (one_class.data.anomaly_ratio, one_class.data.validation_share) = (0.0, 0.0);
        assert_eq!(name(&one_class), "one-class");
        let text = describe(&one_class, &SplitSizes { train_pollution: 0, train_anomaly: 0, ..sizes.clone() });
        assert!(text.contains("no labelled anomaly") && text.contains("none held out"), "{text}");
        let ours = SplitSizes { train_normal: 5400, train_pollution: 0, train_anomaly: 54, validation: 6000, test: 10000 };
        let text = describe(&Config::default(), &ours);
        assert!(text.starts_with("all-nine protocol") && text.contains("from all nine anomaly classes"), "{text}");
    }
}
