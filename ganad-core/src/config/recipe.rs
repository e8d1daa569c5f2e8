//! Where a config starts: a profile's sizes, and a named recipe's method settings on top. The
//! paper's recipe is the struct defaults; ganad's is the paper's with every adopted
//! [`Lever`](crate::config::lever::Lever). Apart from `config`, so that the levers can change a config
//! without the config depending on them.

use crate::config::score::ScoreConfig;
use crate::config::terms::LossWeights;
use crate::config::{AugmentConfig, Config, DataConfig, EvalConfig, ModelConfig, PatchConfig, Profile, Recipe, Schedule, TrainConfig};

impl Default for Config {
    fn default() -> Self {
        Config::preset(Profile::Default)
    }
}

impl Config {
    /// The default recipe in a profile.
    pub fn preset(profile: Profile) -> Self {
        Self::recipe(Recipe::default(), profile)
    }

    /// A named recipe in a profile. `full` is the paper's width; the others are sized for 2 CPU cores.
    pub fn recipe(recipe: Recipe, profile: Profile) -> Self {
        let mut c = Config {
            recipe: Recipe::Paper,
            seed: 0,
            data: DataConfig::default(),
            model: ModelConfig::default(),
            loss: LossWeights::default(),
            patch: PatchConfig::default(),
            train: TrainConfig::default(),
            eval: EvalConfig::default(),
            deep_sad: None,
        };
        match profile {
            Profile::Quick => {
                c.model.base_width = 16;
                c.model.discriminator_width = 16;
                c.data.max_train_normals = Some(1024);
                c.data.validation_share = 0.05;
                c.train.epochs = 1;
            }
            Profile::Default => {
                // ~25 s per epoch on 2 CPU cores; validation AUROC still moves between epochs,
                // and the best epoch is kept.
                c.model.base_width = 32;
                c.model.discriminator_width = 32;
                c.train.epochs = 6;
            }
            Profile::Full => {
                c.train.epochs = 30;
            }
        }
        c.apply_recipe(recipe);
        c
    }

    /// Sets the method's fields of `recipe` (the profile's sizes stay). The paper's are the
    /// struct defaults; ganad's are the paper's with every adopted [`Lever`](crate::config::lever::Lever).
    pub fn apply_recipe(&mut self, recipe: Recipe) {
        self.recipe = recipe;
        self.loss = LossWeights::default();
        let parts = ModelConfig::default();
        self.model.anomaly_discriminator = parts.anomaly_discriminator;
        self.model.anomaly_head = parts.anomaly_head;
        self.model.discriminator_anomaly_head = parts.discriminator_anomaly_head;
        self.model.rotation_head = parts.rotation_head;
        self.eval.score = ScoreConfig::default();
        self.train.augment = AugmentConfig::default();
        self.train.schedule = Schedule::Constant;
        self.train.ema_decay = 0.0;
        self.train.normal_statistics = false;
        self.train.rotation_share = 1.0;
        if recipe == Recipe::Ganad {
            for lever in crate::config::lever::Lever::ADOPTED {
                lever.apply(self);
            }
        }
    }
}
