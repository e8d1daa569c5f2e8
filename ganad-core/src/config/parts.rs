//! The model's optional parts (D_A and three heads) and what each needs. A part exists because
//! a `model` field says so, never because of a loss weight: `validate` refuses a loss or score
//! weight on a part the model lacks, a part that no term trains, and a part that learns from
//! labelled anomalies in a protocol that has none.

use crate::config::Config;
use crate::error::{Error, Result};

/// One optional part, borrowed from a config with the weights that belong to it.
struct Part<'a> {
    /// Its `model` field.
    field: &'static str,
    present: &'a mut bool,
    /// Whether it learns from labelled anomalies only.
    needs_labels: bool,
    /// The loss terms that train it (or that G trains against it), by name.
    terms: Vec<(&'static str, &'a mut f64)>,
    /// Its score component, if it has one.
    score: Option<(&'static str, &'a mut f64)>,
}

impl Config {
    fn parts(&mut self) -> [Part<'_>; 4] {
        let Config { model, loss, eval, .. } = self;
        let score = &mut eval.score;
        [
            Part {
                field: "anomaly_discriminator",
                present: &mut model.anomaly_discriminator,
                needs_labels: true,
                terms: vec![
                    ("anomaly_discriminator", &mut loss.anomaly_discriminator),
                    ("anomaly_adversarial", &mut loss.anomaly_adversarial),
                ],
                score: None,
            },
            Part {
                field: "anomaly_head",
                present: &mut model.anomaly_head,
                needs_labels: true,
                terms: vec![("classification", &mut loss.classification)],
                score: Some(("anomaly_head", &mut score.anomaly_head)),
            },
            Part {
                field: "discriminator_anomaly_head",
                present: &mut model.discriminator_anomaly_head,
                needs_labels: true,
                terms: vec![("discriminator_classification", &mut loss.discriminator_classification)],
                score: Some(("discriminator_head", &mut score.discriminator_head)),
            },
            Part {
                field: "rotation_head",
                present: &mut model.rotation_head,
                needs_labels: false,
                terms: vec![("rotation", &mut loss.rotation)],
                score: Some(("rotation", &mut score.rotation)),
            },
        ]
    }

    /// Sets `data.anomaly_ratio`; at 0 (normal-only) also removes the parts that learn from
    /// labelled anomalies, as [`Self::without_labelled_parts`] does. `--anomaly-ratio`,
    /// `--labelled-share` and the ablation's ratio set it this way.
    pub fn set_anomaly_ratio(&mut self, ratio: f64) {
        self.data.anomaly_ratio = ratio;
        if ratio == 0.0 {
            self.without_labelled_parts();
        }
    }

    /// Removes the parts that learn from labelled anomalies (D_A, the encoder's and D_N's
    /// anomaly heads) with the weights of their terms and score components: the model a
    /// protocol without labelled anomalies can train.
    pub fn without_labelled_parts(&mut self) {
        for part in self.parts() {
            if part.needs_labels {
                *part.present = false;
                for (_, w) in part.terms {
                    *w = 0.0;
                }
                if let Some((_, w)) = part.score {
                    *w = 0.0;
                }
            }
        }
    }

    /// Every part has what it needs, and no weight names a part the model lacks.
    pub(crate) fn check_parts(&self) -> Result<()> {
        let labelled = self.data.anomaly_ratio > 0.0;
        for part in self.clone().parts() {
            let field = format!("model.{}", part.field);
            let terms: Vec<String> = part.terms.iter().map(|(name, _)| format!("loss.{name}")).collect();
            if *part.present {
                if part.needs_labels && !labelled {
                    return Err(Error::config(
                        &field,
                        "learns from labelled anomalies, and this protocol has none (data.anomaly_ratio = 0): set it to false with \
                         the weights of its terms and score, as --anomaly-ratio 0 (Config::without_labelled_parts) does",
                    ));
                }
                if part.terms.iter().all(|(_, w)| **w == 0.0) {
                    return Err(Error::config(
                        &field,
                        format!("nothing trains it ({} = 0): give it a weight, or set {field} = false", terms.join(" and ")),
                    ));
                }
            } else {
                let weighted = part.terms.iter().map(|(name, w)| (format!("loss.{name}"), **w));
                let scored = part.score.iter().map(|(name, w)| (format!("eval.score.{name}"), **w));
                if let Some((name, w)) = weighted.chain(scored).find(|(_, w)| *w > 0.0) {
                    return Err(Error::config(
                        &name,
                        format!("{w} belongs to {field}, which this model does not have: set {field} = true, or the weight to 0"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Profile, Recipe};

    fn refusal(c: &Config) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn a_weight_needs_its_part_and_a_part_needs_a_term() {
        let mut c = Config::recipe(Recipe::Ganad, Profile::Quick);
        c.validate().unwrap();
        c.model.anomaly_head = false;
        assert!(refusal(&c).contains("loss.classification"), "{}", refusal(&c));
        c.loss.classification = 0.0;
        assert!(refusal(&c).contains("eval.score.anomaly_head"), "{}", refusal(&c));
        c.eval.score.anomaly_head = 0.0;
        c.validate().unwrap();
        c.model.rotation_head = true;
        c.loss.rotation = 0.0;
        assert!(refusal(&c).contains("nothing trains it"), "{}", refusal(&c));
        let mut paper = Config::recipe(Recipe::Paper, Profile::Quick);
        paper.model.anomaly_discriminator = false;
        assert!(refusal(&paper).contains("loss.anomaly_discriminator"), "{}", refusal(&paper));
    }

    #[test]
    fn without_labels_the_labelled_parts_are_refused_until_removed() {
        let mut c = Config::recipe(Recipe::Ganad, Profile::Quick);
        c.data.anomaly_ratio = 0.0;
        let err = refusal(&c);
        assert!(err.contains("model.anomaly_discriminator") && err.contains("--anomaly-ratio 0"), "{err}");
        c.without_labelled_parts();
        c.validate().unwrap();
        let m = &c.model;
        assert_eq!((m.anomaly_discriminator, m.anomaly_head, m.discriminator_anomaly_head, m.rotation_head), (false, false, false, true));
        assert_eq!((c.loss.classification, c.eval.score.anomaly_head, c.loss.rotation), (0.0, 0.0, 1.0));
        let mut set = Config::recipe(Recipe::Ganad, Profile::Quick);
        set.set_anomaly_ratio(0.0);
        assert_eq!(set, c, "setting the ratio to 0 removes the same parts");
        set.set_anomaly_ratio(0.02);
        assert_eq!((set.data.anomaly_ratio, set.model.anomaly_head), (0.02, false), "a ratio above 0 adds no part back");
    }
}
