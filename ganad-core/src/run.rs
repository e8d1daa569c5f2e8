//! The run record: everything one run produced, saved as `run.json` (serde_json), with the
//! config, seed, commit and device that made it and every test score, so anyone can recompute
//! the metrics.

use crate::atomic;
use crate::config::Config;
use crate::error::Result;
use crate::evaluate::{Evaluation, ScoreRecord};
use crate::train::{EpochRecord, StepRecord};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which detector a run trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Kim et al.'s GAN (U-Net generator, two discriminators, 8 losses).
    Gan,
    /// Baseline: the generator's shape without skips, ℓ1 on normals only.
    #[value(name = "ae")]
    Autoencoder,
    /// Baseline: seeded uniform random scores.
    Random,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Gan => "gan",
            Method::Autoencoder => "ae",
            Method::Random => "random",
        }
    }
}

/// Where a result came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub commit: String,
    /// Tracked files outside `results/` differed from `commit` when the run started.
    pub dirty: bool,
    pub ganad_version: String,
    pub libtorch_version: String,
    pub created_unix: u64,
    pub host_cpus: usize,
}

impl Provenance {
    pub fn now() -> Self {
        let repo = env!("CARGO_MANIFEST_DIR");
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(repo)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        Provenance {
            commit: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
            // Results are outputs, not code: rewriting them does not make a run "dirty".
            dirty: git(&["status", "--porcelain", "--untracked-files=no", "--", ":/", ":(exclude,top)results"]).is_some_and(|s| !s.is_empty()),
            ganad_version: env!("CARGO_PKG_VERSION").into(),
            libtorch_version: libtorch_version().unwrap_or_else(|| "unknown".into()),
            created_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            host_cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        }
    }
}

/// libtorch's version, read from the `torch/version.py` beside the library we were built against.
pub fn libtorch_version() -> Option<String> {
    let lib = crate::device::libtorch_lib_dir()?;
    let text = std::fs::read_to_string(Path::new(&lib).join("..").join("version.py")).ok()?;
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    Some(line.split(['\'', '"']).nth(1)?.to_string())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Loading, verifying and splitting the dataset (shared by the runs on one split).
    pub data_s: f64,
    pub train_s: f64,
    pub evaluate_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSizes {
    pub train_normal: usize,
    pub train_anomaly: usize,
    pub validation: usize,
    pub test: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub method: Method,
    pub profile: Option<String>,
    pub seed: u64,
    pub normal_class: u8,
    pub anomaly_ratio: f64,
    pub config: Config,
    pub provenance: Provenance,
    pub device: String,
    pub timings: Timings,
    pub split_sizes: SplitSizes,
    pub epochs: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    /// One record per optimisation step, with all 8 loss terms (null = not computed).
    pub history: Vec<StepRecord>,
    pub evaluation: Evaluation,
    pub validation_scores: Vec<f32>,
    pub validation_labels: Vec<u8>,
    pub test_scores: Vec<ScoreRecord>,
}

impl RunRecord {
    pub const FILE: &'static str = "run.json";

    pub fn save(&self, dir: &Path) -> Result<()> {
        atomic::write_json(&dir.join(Self::FILE), self)
    }

    /// Test scores and labels (true = anomaly), in test-split order.
    pub fn test_scores_and_labels(&self) -> (Vec<f32>, Vec<bool>) {
        self.test_scores.iter().map(|s| (s.score, s.label == 1)).unzip()
    }

    /// The test ROC curve, named "method (AUROC x.xxxx)" for charts.
    pub fn test_roc(&self) -> Result<(String, Vec<crate::metrics::RocPoint>)> {
        let (scores, labels) = self.test_scores_and_labels();
        let name = format!("{} (AUROC {:.4})", self.method.name(), self.evaluation.test.auroc);
        Ok((name, crate::metrics::roc_curve(&scores, &labels)?))
    }

    /// Reads `dir/run.json` (or `dir` itself if it is the file).
    pub fn load(dir: &Path) -> Result<Self> {
        let path = if dir.is_dir() { dir.join(Self::FILE) } else { dir.to_path_buf() };
        atomic::read_json(&path)
    }
}
