//! The levers ganad adds to the paper's recipe, each one change of config fields. The ablation
//! (`ganad ablation`, results/ablation) measures each alone on top of the paper's recipe; the
//! `ganad` recipe is the paper's with every adopted lever, so the two cannot drift apart.

use crate::config::{AugmentConfig, Config, Schedule};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Lever {
    /// Horizontal flips (p 0.5) of the normals and the labelled anomalies.
    Flip,
    /// An anomaly head on the encoder, trained by the classification term (λ 5) on the labelled
    /// anomalies, whose logit joins the score with weight 2: of the first three pieces of evidence
    /// it is the strongest alone (validation, classes 1 and 6, seed 0: λ 1 → 5 and weight 1 → 2
    /// each raised the fused validation AUROC).
    AnomalyHead,
    /// The distance from E(x) to the nearest training normals joins the score.
    NearestNormals,
    /// A moving average of G's weights (decay 0.99, about the last 100 steps) scores in G's place.
    Ema,
    /// BatchNorm's running statistics follow the normal batches only.
    NormalStatistics,
    /// The learning rate decays along a cosine to 0 by the last step.
    CosineSchedule,
    /// An anomaly head on D_N, trained by its own classification term (λ 1, beside D_N's
    /// adversarial term at 1) on the labelled anomalies, whose logit joins the score with
    /// weight 2, as the encoder head's does (results/leads/discriminator-head: Sandal 0.9885 →
    /// 0.9931, Shirt 0.8964 → 0.8975 over seeds 0–2).
    DiscriminatorHead,
    /// A rotation head on D_N, trained (λ 1, beside D_N's other terms) to tell which of four
    /// rotations turned each normal, so D_N's trunk learns the normal class's shape from the
    /// normals alone; its loss on the image's four rotations joins the score with weight 1
    /// (Golan & El-Yaniv, NeurIPS 2018). It needs no label: with none (ratio 0) it lifts the
    /// ten-class mean from 0.920 to 0.941 (results/sweep-ratio0); with 54 it is about neutral.
    /// Training turns a quarter of each normal batch (`train.rotation_share` 0.25): turning all
    /// of it measured the same AUROC and took a fifth longer (README, "Ten classes").
    Rotation,
}

impl Lever {
    pub const ALL: [Lever; 8] = [
        Lever::Flip,
        Lever::AnomalyHead,
        Lever::NearestNormals,
        Lever::Ema,
        Lever::NormalStatistics,
        Lever::CosineSchedule,
        Lever::DiscriminatorHead,
        Lever::Rotation,
    ];

    /// The levers of the `ganad` recipe: those that measured better than the paper's recipe
    /// without them (results/ablation).
    pub const ADOPTED: [Lever; 6] =
        [Lever::Flip, Lever::AnomalyHead, Lever::NearestNormals, Lever::Ema, Lever::DiscriminatorHead, Lever::Rotation];

    pub fn name(self) -> &'static str {
        match self {
            Lever::Flip => "flip",
            Lever::AnomalyHead => "anomaly_head",
            Lever::NearestNormals => "nearest_normals",
            Lever::Ema => "ema",
            Lever::NormalStatistics => "normal_statistics",
            Lever::CosineSchedule => "cosine_schedule",
            Lever::DiscriminatorHead => "discriminator_head",
            Lever::Rotation => "rotation",
        }
    }

    /// Sets this lever's fields in `cfg` (and only those).
    pub fn apply(self, cfg: &mut Config) {
        match self {
            Lever::Flip => cfg.train.augment = AugmentConfig { flip: 0.5, ..cfg.train.augment.clone() },
            Lever::AnomalyHead => {
                cfg.model.anomaly_head = true;
                cfg.loss.classification = 5.0;
                cfg.eval.score.anomaly_head = 2.0;
            }
            Lever::NearestNormals => cfg.eval.score.nearest_normals = 1.0,
            Lever::Ema => cfg.train.ema_decay = 0.99,
            Lever::NormalStatistics => cfg.train.normal_statistics = true,
            Lever::CosineSchedule => cfg.train.schedule = Schedule::Cosine,
            Lever::DiscriminatorHead => {
                cfg.model.discriminator_anomaly_head = true;
                cfg.loss.discriminator_classification = 1.0;
                cfg.eval.score.discriminator_head = 2.0;
            }
            Lever::Rotation => {
                cfg.model.rotation_head = true;
                cfg.loss.rotation = 1.0;
                cfg.eval.score.rotation = 1.0;
                cfg.train.rotation_share = 0.25;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Profile, Recipe};

    #[test]
    fn each_lever_changes_the_paper_recipe_and_ganad_is_paper_plus_the_adopted_ones() {
        let paper = Config::recipe(Recipe::Paper, Profile::Default);
        for lever in Lever::ALL {
            let mut c = paper.clone();
            lever.apply(&mut c);
            assert_ne!(c, paper, "{} changes nothing", lever.name());
            c.validate().unwrap();
        }
        let mut by_hand = paper.clone();
        for lever in Lever::ADOPTED {
            lever.apply(&mut by_hand);
        }
        by_hand.recipe = Recipe::Ganad;
        assert_eq!(by_hand, Config::recipe(Recipe::Ganad, Profile::Default));
    }
}
