//! Where a config starts, in three layers with one home each: the struct defaults (each field's
//! default stands on the field: the paper's values), a profile's sizes, and a named recipe's
//! changes on top (the paper's recipe changes nothing; ganad's applies every adopted
//! [`Lever`](crate::config::lever::Lever)). Apart from `config`, so that the levers can change a
//! config without the config depending on them.

use crate::config::terms::LossWeights;
use crate::config::{Config, DataConfig, EvalConfig, ModelConfig, PatchConfig, Profile, Recipe, TrainConfig};

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
                // Half the paper's width, six epochs: a class in minutes on 2 CPU cores.
                c.model.base_width = 32;
                c.model.discriminator_width = 32;
                c.train.epochs = 6;
            }
            Profile::Full => {
                c.train.epochs = 30;
            }
        }
        if recipe == Recipe::Ganad {
            for lever in crate::config::lever::Lever::ADOPTED {
                lever.apply(&mut c);
            }
        }
        c.recipe = recipe;
        c
    }
}
