//! Which evidence the GAN's anomaly score fuses, and with which weights (the fusion itself is
//! in `gan::score`).

use serde::{Deserialize, Serialize};

/// The score components, in the order of [`ScoreConfig::weights`].
pub const COMPONENTS: [&str; 6] =
    ["reconstruction", "anomaly_head", "nearest_normals", "discriminator_head", "rotation", "discriminator_nearest_normals"];
/// How many components there are.
pub const N: usize = COMPONENTS.len();

/// How the GAN's score weighs each kind of evidence (0 = unused). With one component the score
/// is that component as it is (the paper's recipe: mean ℓ1 alone); with several, each is
/// standardised by its mean and sd over the training normals, weighted, and summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreConfig {
    /// Mean ℓ1(x, G(x)) per image (its log when fused: errors are skewed).
    pub reconstruction: f64,
    /// The encoder head's anomaly logit (needs `model.anomaly_head`).
    pub anomaly_head: f64,
    /// Minus the mean cosine similarity of E(x) to its `neighbours` nearest training normals.
    pub nearest_normals: f64,
    /// k of both nearest-normal distances.
    pub neighbours: usize,
    /// D_N's anomaly logit (needs `model.discriminator_anomaly_head`).
    pub discriminator_head: f64,
    /// D_N's rotation loss on the image's four rotations: a normal's shape is one D_N learnt
    /// to orient (needs `model.rotation_head`).
    pub rotation: f64,
    /// Minus the mean cosine similarity of D_N's last map of x to the maps of its `neighbours`
    /// nearest training normals: the normals as D_N sees them, a net trained to tell real
    /// images from reconstructions (and, with `model.rotation_head`, their rotations apart)
    /// rather than to rebuild them.
    pub discriminator_nearest_normals: f64,
    /// Each image is also scored mirrored, and every component averaged over the two views
    /// (the nearest-normal term compares the two views' mean bottleneck). The networks train
    /// on flips, so the mirror is a second look at the same garment. Uses no label.
    pub flip_average: bool,
}

impl Default for ScoreConfig {
    /// The paper's score: reconstruction error alone.
    fn default() -> Self {
        ScoreConfig {
            reconstruction: 1.0,
            anomaly_head: 0.0,
            nearest_normals: 0.0,
            neighbours: 5,
            discriminator_head: 0.0,
            rotation: 0.0,
            discriminator_nearest_normals: 0.0,
            flip_average: false,
        }
    }
}

impl ScoreConfig {
    pub fn weights(&self) -> [f64; N] {
        [
            self.reconstruction,
            self.anomaly_head,
            self.nearest_normals,
            self.discriminator_head,
            self.rotation,
            self.discriminator_nearest_normals,
        ]
    }

    /// How many components take part.
    pub fn components(&self) -> usize {
        self.weights().iter().filter(|&&w| w > 0.0).count()
    }

    /// The index (in [`COMPONENTS`] order) of the only component that takes part, if one alone does.
    pub fn sole_component(&self) -> Option<usize> {
        (self.components() == 1).then(|| self.weights().iter().position(|&w| w > 0.0)).flatten()
    }

    /// The score in words: "rotation alone", or the fused components with their weights.
    pub fn describe(&self) -> String {
        let used: Vec<(&str, f64)> = COMPONENTS.iter().copied().zip(self.weights()).filter(|&(_, w)| w > 0.0).collect();
        let mut text = match used.as_slice() {
            [(name, _)] => format!("{name} alone"),
            _ => format!("fused ({})", used.iter().map(|(name, w)| format!("{name} {w}")).collect::<Vec<_>>().join(", ")),
        };
        if self.flip_average {
            text.push_str(", averaged with the mirrored image");
        }
        text
    }

    pub fn validate(&self) -> crate::Result<()> {
        for (name, w) in COMPONENTS.iter().zip(self.weights()) {
            if !(w.is_finite() && w >= 0.0) {
                return Err(crate::Error::config(&format!("eval.score.{name}"), format!("{w} must be finite and ≥ 0")));
            }
        }
        if self.components() == 0 {
            return Err(crate::Error::config("eval.score", "every weight is 0: give at least one component a weight"));
        }
        if (self.nearest_normals > 0.0 || self.discriminator_nearest_normals > 0.0) && self.neighbours == 0 {
            return Err(crate::Error::config("eval.score.neighbours", "must be ≥ 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_describes_its_components() {
        let rotation = ScoreConfig { reconstruction: 0.0, rotation: 1.0, ..ScoreConfig::default() };
        assert_eq!(rotation.describe(), "rotation alone");
        let fused = ScoreConfig { anomaly_head: 2.0, flip_average: true, ..ScoreConfig::default() };
        assert_eq!(fused.describe(), "fused (reconstruction 1, anomaly_head 2), averaged with the mirrored image");
    }
}
