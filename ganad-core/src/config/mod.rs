//! The run configuration: one serde tree (`data`, `model`, `loss`, `patch`, `train`, `eval`),
//! named presets, and `validate()`. It is saved in the run directory before step 0, and
//! evaluation rebuilds models from it.

pub mod deep_sad;
pub mod lever;
pub mod method;
pub mod parts;
pub mod recipe;
pub mod score;
pub mod terms;

use crate::config::deep_sad::DeepSadConfig;
use crate::config::score::ScoreConfig;
use crate::config::terms::LossWeights;
pub use crate::data::augment::AugmentConfig;
use crate::data::split::{check_protocol, SplitSpec};
use crate::error::{Error, Result};
pub use crate::system::device::PrecisionChoice;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How much compute a run gets. Chosen by `--profile` or `GANAD_PROFILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Seconds to a couple of minutes on 2 CPU cores: tests and CI.
    Quick,
    /// One class to a meaningful AUROC on a laptop CPU in minutes.
    #[default]
    Default,
    /// Paper-scale width and epochs, meant for a CUDA GPU.
    Full,
}

/// A choice read from the environment variable `var` (its clap name, any case), else the default.
fn enum_from_env<T: clap::ValueEnum + Default>(var: &str) -> Result<T> {
    match std::env::var(var) {
        Ok(v) => <T as clap::ValueEnum>::from_str(&v, true).map_err(|_| {
            let names: Vec<String> =
                T::value_variants().iter().filter_map(|c| c.to_possible_value()).map(|p| p.get_name().to_string()).collect();
            Error::config(var, format!("{v:?} is not one of {}", names.join(", ")))
        }),
        Err(_) => Ok(T::default()),
    }
}

impl Profile {
    /// `GANAD_PROFILE` (quick|default|full), else `Default`.
    pub fn from_env() -> Result<Self> {
        enum_from_env("GANAD_PROFILE")
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Default => "default",
            Profile::Full => "full",
        }
    }
}

/// A named starting point for the method's settings. The fields of [`Config`] are what ran; the
/// recipe records where they started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum Recipe {
    /// Faithful to Kim et al.: the eight losses at the co-author's Fashion-MNIST weights, mean ℓ1
    /// as the score, no augmentation.
    Paper,
    /// ganad's detector: the paper's networks and losses plus the levers that measured best
    /// (results/ablation): see [`Config::recipe`].
    #[default]
    Ganad,
}

impl Recipe {
    /// `GANAD_RECIPE` (paper|ganad), else `Ganad`.
    pub fn from_env() -> Result<Self> {
        enum_from_env("GANAD_RECIPE")
    }

    pub fn name(self) -> &'static str {
        match self {
            Recipe::Paper => "paper",
            Recipe::Ganad => "ganad",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The named recipe these settings started from (a label: the fields are what ran).
    pub recipe: Recipe,
    /// Seeds the split, the initial weights, the batch order and the random baseline
    /// (`train.seed`, when set, takes over all but the split).
    pub seed: u64,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub loss: LossWeights,
    pub patch: PatchConfig,
    pub train: TrainConfig,
    pub eval: EvalConfig,
    /// The Deep SAD baseline's schedule (set in its runs only; see [`crate::baselines::deep_sad`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep_sad: Option<DeepSadConfig>,
}

/// The protocol: which images train, with which labels, and what validates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// The normal class, 0..9 (0 = T-shirt/top … 9 = Ankle boot); the other nine are anomalies.
    pub normal_class: u8,
    /// Labelled anomalies in training per normal training image (0.01 = 1 %; 0 = normal-only).
    ///
    /// Deep SAD's γ_l (`ratio_known_outlier`) counts them as a share of *all* training images,
    /// the labelled and polluting ones included: anomaly_ratio = γ_l / ((1 − γ_l)(1 − γ_p))
    /// ([`crate::data::split::ratio_for_labelled_share`]; `--labelled-share` converts), so
    /// γ_l = 0.01 at γ_p = 0.1 is a ratio of 0.01122: 67 labelled anomalies for 6,000 normals,
    /// as in their code.
    pub anomaly_ratio: f64,
    /// The anomaly classes the labelled anomalies are drawn from, evenly; `None` = all nine
    /// (ganad's protocol). Deep SAD's protocol names one ("known anomaly class"); the test
    /// split still holds all nine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_anomaly_classes: Option<Vec<u8>>,
    /// Deep SAD's γ_p: the share of the unlabelled training images that are anomalies of any of
    /// the nine classes, drawn at random and never labelled, so every method trains on them as
    /// if they were normal (0 = clean normals; Deep SAD's experiments use 0.1).
    #[serde(skip_serializing_if = "is_zero")]
    pub pollution: f64,
    /// Share of the normal class's training images held out for validation (per-epoch
    /// validation AUROC, the threshold), with as many images of each other class; 0 = train on
    /// every normal and hold out nothing (the one-class and Deep SAD protocols).
    pub validation_share: f64,
    /// Use at most this many normal training images (quick runs); `None` = all.
    pub max_train_normals: Option<usize>,
    /// Dataset directory; `None` = search (GANAD_DATA_DIR, Debian package, cache).
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Channels of the first layer; the encoder goes w → 2w → 4w → 8w (64 in the paper).
    pub base_width: i64,
    /// Channels of the discriminators' first layer.
    pub discriminator_width: i64,
    /// U-Net skip connections (off = plain autoencoder shape).
    pub skips: bool,
    /// The anomaly head also reads the encoder's 4×4 map (e3), the resolution a small
    /// classifier's features have, beside the 2×2 bottleneck.
    pub head_reads_e3: bool,
    /// The anomaly head learns this many times faster than the rest of G: its logit is
    /// s·(W′f + b′) with W′ and b′ started at the usual values / s, so each Adam step on them moves
    /// the head's effective weights s times as far (Adam's step does not grow with the gradient).
    pub head_lr_scale: f64,
    /// D_A, the paper's anomaly discriminator: it tells labelled anomalies from their
    /// reconstructions (`loss.anomaly_discriminator`) and G learns against it
    /// (`loss.anomaly_adversarial`). It learns from labelled anomalies only.
    pub anomaly_discriminator: bool,
    /// An anomaly logit: on G's encoder in the GAN, the network's one output in the classifier
    /// baseline; trained by `loss.classification` on the labelled anomalies, scored by
    /// `eval.score.anomaly_head`. Not in the paper.
    pub anomaly_head: bool,
    /// An anomaly logit on D_N's trunk, trained by `loss.discriminator_classification` on the
    /// labelled anomalies, scored by `eval.score.discriminator_head`. Not in the paper.
    pub discriminator_anomaly_head: bool,
    /// Rotation logits on D_N's trunk (which of four turns), trained by `loss.rotation` on the
    /// normals alone, scored by `eval.score.rotation`. Not in the paper.
    pub rotation_head: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatchConfig {
    /// Side of the square windows of the patch loss, in pixels (of 32).
    pub window: i64,
    /// Step between windows, in pixels.
    pub stride: i64,
    /// How many of the worst windows per image the patch loss averages.
    pub top_k: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the normal training images.
    pub epochs: usize,
    /// Normal images per step.
    pub batch_size: usize,
    /// Labelled anomalies per step (cycled: there are few of them).
    pub anomaly_batch_size: usize,
    /// Adam learning rate, all three networks.
    pub learning_rate: f64,
    /// Adam β1 (0.5 is the GAN custom: less momentum against a moving opponent).
    pub beta1: f64,
    /// Adam β2.
    pub beta2: f64,
    /// "auto" (CUDA if available), "cpu", "cuda" or "cuda:N".
    pub device: String,
    /// CPU threads for libtorch; `None` = libtorch's default.
    pub threads: Option<i32>,
    /// Images per forward pass when scoring.
    pub eval_batch_size: usize,
    /// Random flips and shifts of the training images (normals and labelled anomalies).
    pub augment: AugmentConfig,
    /// Learning rate over the run: constant, or a cosine decay to 0 by the last step.
    pub schedule: Schedule,
    /// Decay of an exponential moving average of G's weights that scores instead of G
    /// (0 = off; 0.999 ≈ the last thousand steps).
    pub ema_decay: f64,
    /// BatchNorm's running statistics (what evaluation normalises with) follow the normal
    /// batches only; labelled-anomaly batches are normalised by their own statistics and leave
    /// them alone. Off in the paper's recipe, where every batch moves them.
    pub normal_statistics: bool,
    /// The share of each normal batch that D_N's rotation term turns, each image by all four
    /// turns (1 = the whole batch). The batch order is shuffled, so the share is its first
    /// images: a random subset. Fewer turned images make a step cheaper.
    pub rotation_share: f64,
    /// Seeds the initial weights, the batch order and the augmentation; `None` = the run's
    /// `seed` (which also draws the split). Another value trains other networks on the same split.
    pub seed: Option<u64>,
    /// What the convolutions compute in: "auto" = bf16 on a CPU with native bf16 units
    /// (AVX-512 BF16 or AMX; `ganad doctor` says), fp32 elsewhere; or "fp32", "bf16".
    pub precision: PrecisionChoice,
    /// Which epoch's weights the run reports: the last of the fixed schedule (no label chooses
    /// it), or the best validation AUROC (then the validation set's labels choose it).
    /// Configs saved before this field existed reported the best epoch, and read back so.
    #[serde(default = "CheckpointRule::before_the_field")]
    pub checkpoint: CheckpointRule,
}

/// Which epoch a run reports (`train.checkpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointRule {
    /// The last epoch of the fixed schedule.
    #[default]
    Last,
    /// The epoch with the best validation AUROC.
    BestValidation,
}

impl CheckpointRule {
    fn before_the_field() -> Self {
        CheckpointRule::BestValidation
    }

    /// How the rule reads under a table.
    pub fn describe(self) -> &'static str {
        match self {
            CheckpointRule::Last => "the last epoch of the fixed schedule (no label chooses it)",
            CheckpointRule::BestValidation => "the epoch with the best validation AUROC",
        }
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The learning rate's course over the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    #[default]
    Constant,
    /// lr · ½(1 + cos(π · step / steps)): large early, small when the run's best epochs come.
    Cosine,
}

/// How a decision threshold is picked on validation scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdRule {
    /// Maximise F1 of the anomaly class.
    #[default]
    BestF1,
    /// Maximise Youden's J = TPR − FPR.
    Youden,
    /// Flag what scores above 95 % of the images taken for normal: needs no anomaly label (what
    /// the others fall back to where the threshold's set holds no anomaly).
    NormalQuantile95,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// How the decision threshold is picked on validation scores.
    pub threshold_rule: ThresholdRule,
    /// Which evidence the GAN's anomaly score fuses (the paper: reconstruction error alone).
    pub score: ScoreConfig,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            normal_class: 0,
            anomaly_ratio: 0.01,
            known_anomaly_classes: None,
            pollution: 0.0,
            validation_share: 0.1,
            max_train_normals: None,
            data_dir: None,
        }
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            base_width: 64,
            discriminator_width: 64,
            skips: true,
            head_reads_e3: false,
            head_lr_scale: 1.0,
            anomaly_discriminator: true,
            anomaly_head: false,
            discriminator_anomaly_head: false,
            rotation_head: false,
        }
    }
}

impl Default for PatchConfig {
    fn default() -> Self {
        // 8×8 windows every 4 px: 7×7 = 49 windows on 32×32; the 10 worst ≈ the worst fifth.
        PatchConfig { window: 8, stride: 4, top_k: 10 }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 15,
            batch_size: 64,
            anomaly_batch_size: 16,
            // The co-author's rate; 2e-4 (the DCGAN habit) gave 0.918 vs 0.961 test AUROC on
            // class 0 in the default profile (4 epochs, one seed).
            learning_rate: 1e-4,
            beta1: 0.5,
            beta2: 0.999,
            device: "auto".into(),
            threads: None,
            eval_batch_size: 500,
            augment: AugmentConfig::default(),
            schedule: Schedule::Constant,
            ema_decay: 0.0,
            normal_statistics: false,
            rotation_share: 1.0,
            seed: None,
            precision: PrecisionChoice::Auto,
            checkpoint: CheckpointRule::Last,
        }
    }
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig { threshold_rule: ThresholdRule::BestF1, score: ScoreConfig::default() }
    }
}

impl Config {
    /// Reads a config file, whole or partial: its fields laid over the default profile's config
    /// of the recipe it names (the `ganad` recipe if it names none), as `--config` lays a file
    /// over the profile and recipe it is given. A partial file resolves the same way wherever it
    /// is read, never against the struct defaults alone. Unknown fields are errors (a typo must
    /// not silently use a default).
    pub fn from_file(path: &Path) -> Result<Self> {
        let file: serde_json::Value = crate::system::atomic::read_json(path)?;
        let recipe = match file.get("recipe") {
            Some(r) => serde_json::from_value(r.clone()).map_err(|source| Error::Json { path: path.to_path_buf(), source })?,
            None => Recipe::default(),
        };
        let config =
            Config::recipe(recipe, Profile::Default).overlay(file).map_err(|source| Error::Json { path: path.to_path_buf(), source })?;
        config.validate()?;
        Ok(config)
    }

    /// `top`'s fields laid over this config, object by object (unknown fields are errors).
    pub fn overlay(&self, top: serde_json::Value) -> std::result::Result<Config, serde_json::Error> {
        fn merge(base: &mut serde_json::Value, top: serde_json::Value) {
            match (base, top) {
                (serde_json::Value::Object(b), serde_json::Value::Object(t)) => {
                    for (k, v) in t {
                        merge(b.entry(k).or_insert(serde_json::Value::Null), v);
                    }
                }
                (b, t) => *b = t,
            }
        }
        let mut merged = serde_json::to_value(self)?;
        merge(&mut merged, top);
        serde_json::from_value(merged)
    }

    pub fn validate(&self) -> Result<()> {
        check_protocol(&self.split_spec())?;
        if self.train.checkpoint == CheckpointRule::BestValidation && self.data.validation_share == 0.0 {
            return Err(Error::config(
                "train.checkpoint",
                "best_validation needs a validation set: set data.validation_share > 0, or report the last epoch",
            ));
        }
        if let Some(d) = &self.deep_sad {
            d.validate()?;
        }
        self.loss.validate()?;
        self.eval.score.validate()?;
        self.check_parts()?;
        if !(self.model.head_lr_scale.is_finite() && self.model.head_lr_scale > 0.0) {
            return Err(Error::config("model.head_lr_scale", format!("{} must be > 0", self.model.head_lr_scale)));
        }
        let a = &self.train.augment;
        if !(0.0..=1.0).contains(&a.flip) {
            return Err(Error::config("train.augment.flip", format!("{} must lie in [0, 1]", a.flip)));
        }
        for (field, shift) in [("train.augment.shift", a.shift), ("train.augment.anomaly_shift", a.for_anomalies().shift)] {
            if !(0..=8).contains(&shift) {
                return Err(Error::config(field, format!("{shift} must lie in 0..=8 pixels")));
            }
        }
        if !(self.train.rotation_share > 0.0 && self.train.rotation_share <= 1.0) {
            return Err(Error::config(
                "train.rotation_share",
                format!("{} must lie in (0, 1] (1 = every normal of the batch)", self.train.rotation_share),
            ));
        }
        if !(0.0..1.0).contains(&self.train.ema_decay) {
            return Err(Error::config("train.ema_decay", format!("{} must lie in [0, 1) (0 = off)", self.train.ema_decay)));
        }
        let positive = [
            ("model.base_width", self.model.base_width),
            ("model.discriminator_width", self.model.discriminator_width),
            ("patch.window", self.patch.window),
            ("patch.stride", self.patch.stride),
            ("patch.top_k", self.patch.top_k),
            ("train.epochs", self.train.epochs as i64),
            ("train.batch_size", self.train.batch_size as i64),
            ("train.anomaly_batch_size", self.train.anomaly_batch_size as i64),
            ("train.eval_batch_size", self.train.eval_batch_size as i64),
        ];
        for (field, v) in positive {
            if v <= 0 {
                return Err(Error::config(field, format!("{v} must be ≥ 1")));
            }
        }
        if self.patch.window > 32 {
            return Err(Error::config("patch.window", format!("{} is larger than the 32-px image", self.patch.window)));
        }
        let t = &self.train;
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            return Err(Error::config("train.learning_rate", format!("{} must be > 0", t.learning_rate)));
        }
        for (field, b) in [("train.beta1", t.beta1), ("train.beta2", t.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::config(field, format!("{b} must lie in [0, 1)")));
            }
        }
        crate::system::device::parse_device(&t.device)?;
        Ok(())
    }

    pub fn split_spec(&self) -> SplitSpec {
        SplitSpec {
            normal_class: self.data.normal_class,
            anomaly_ratio: self.data.anomaly_ratio,
            known_anomaly_classes: self.data.known_anomaly_classes.clone(),
            pollution: self.data.pollution,
            validation_share: self.data.validation_share,
            max_train_normals: self.data.max_train_normals,
            seed: self.seed,
        }
    }

    /// The seed of the initial weights, batch order and augmentation (see [`TrainConfig::seed`]).
    pub fn training_seed(&self) -> u64 {
        self.train.seed.unwrap_or(self.seed)
    }

    /// Whether labelled anomalies take part: they exist and a term uses them.
    pub fn uses_anomalies(&self) -> bool {
        self.data.anomaly_ratio > 0.0 && self.loss.uses_labelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_round_trip_through_json() {
        for p in [Profile::Quick, Profile::Default, Profile::Full] {
            let c = Config::preset(p);
            c.validate().unwrap();
            let back: Config = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let err = serde_json::from_str::<Config>(r#"{"loss": {"abcd": 1}}"#).unwrap_err().to_string();
        assert!(err.contains("abcd"), "{err}");
        let mut c = Config::default();
        c.data.normal_class = 12;
        assert!(c.validate().unwrap_err().to_string().contains("normal_class"));
        let mut c = Config::default();
        c.train.device = "tpu".into();
        assert!(c.validate().unwrap_err().to_string().contains("tpu"));
        let mut c = Config::default();
        c.train.beta1 = 1.5;
        assert!(c.validate().unwrap_err().to_string().contains("train.beta1"));
        let mut c = Config::default();
        c.train.rotation_share = 0.0;
        assert!(c.validate().unwrap_err().to_string().contains("train.rotation_share"));
        // Runs saved before the field existed turned the whole batch, and read back so; they
        // reported the best epoch on validation.
        let c: Config = serde_json::from_str(r#"{"train": {"epochs": 6}}"#).unwrap();
        assert_eq!(c.train.rotation_share, 1.0);
        assert_eq!(c.train.checkpoint, CheckpointRule::BestValidation);
        assert_eq!(Config::default().train.checkpoint, CheckpointRule::Last);
        let mut c = Config::default();
        (c.data.validation_share, c.train.checkpoint) = (0.0, CheckpointRule::BestValidation);
        assert!(c.validate().unwrap_err().to_string().contains("needs a validation set"));
        c.train.checkpoint = CheckpointRule::Last;
        c.validate().unwrap();
        c.data.known_anomaly_classes = Some(vec![0]);
        assert!(c.validate().unwrap_err().to_string().contains("data.known_anomaly_classes"));
        c.data.known_anomaly_classes = Some(vec![1]);
        c.data.pollution = 0.7;
        assert!(c.validate().unwrap_err().to_string().contains("data.pollution"));
        // The protocol fields stay out of the saved configs of the protocol before them.
        let json = serde_json::to_string(&Config::default()).unwrap();
        assert!(!json.contains("pollution") && !json.contains("known_anomaly_classes") && !json.contains("deep_sad"), "{json}");
        // Partial files fill the rest from defaults.
        let c: Config = serde_json::from_str(r#"{"data": {"normal_class": 6}}"#).unwrap();
        assert_eq!((c.data.normal_class, c.train.batch_size), (6, 64));
    }

    /// A partial config file resolves against its recipe's full config, as `--config` does,
    /// not against the struct defaults (the paper's training settings under ganad's losses).
    #[test]
    fn a_partial_file_resolves_against_its_recipe() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let path = dir.path().join("partial.json");
        std::fs::write(&path, r#"{"train": {"epochs": 4}}"#).unwrap();
        let from_file = Config::from_file(&path).unwrap();
        let mut want = Config::recipe(Recipe::Ganad, Profile::Default);
        want.train.epochs = 4;
        assert_eq!(from_file, want);
        assert_eq!(
            Config::recipe(Recipe::Ganad, Profile::Default).overlay(serde_json::json!({"train": {"epochs": 4}})).unwrap(),
            want,
            "the CLI's way"
        );
        std::fs::write(&path, r#"{"recipe": "paper", "loss": {"abc": 1.0}}"#).unwrap();
        let paper = Config::from_file(&path).unwrap();
        assert_eq!((paper.recipe, paper.loss.abc, paper.loss.classification, paper.model.base_width), (Recipe::Paper, 1.0, 0.0, 32));
        std::fs::write(&path, r#"{"train": {"epoch": 4}}"#).unwrap();
        assert!(Config::from_file(&path).unwrap_err().to_string().contains("epoch"));
    }

    #[test]
    fn the_anomalies_shift_by_their_own_setting_or_the_normals() {
        let mut a = AugmentConfig { flip: 0.5, shift: 1, anomaly_shift: None };
        assert_eq!(a.for_anomalies(), a);
        a.anomaly_shift = Some(3);
        assert_eq!(a.for_anomalies(), AugmentConfig { flip: 0.5, shift: 3, anomaly_shift: None });
        let mut c = Config::default();
        c.train.augment.anomaly_shift = Some(9);
        assert!(c.validate().unwrap_err().to_string().contains("train.augment.anomaly_shift"));
        // Unset, it is left out of saved configs, which stay as earlier runs wrote them.
        let json = serde_json::to_string(&Config::default()).unwrap();
        assert!(!json.contains("anomaly_shift"), "{json}");
    }
}
