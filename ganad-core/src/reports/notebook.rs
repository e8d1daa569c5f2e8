//! Notebook support: CUDA in cell libraries, panics that fail headless runs, a compact
//! progress view, the config as changes to its recipe, and where runs go. Interactive runs go
//! to a scratch directory that git ignores (`runs/notebooks/` at the repository's root); only
//! `make run` and `make all-classes` point `GANAD_RESULTS` into `results/`, and a notebook
//! refuses to replace a finished run there unless asked to (`GANAD_REPLACE_RUNS=1`).

use crate::config::{Config, Profile};
use crate::error::{Error, Result};
use crate::training::train::{EpochRecord, StepRecord};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// True when notebooks run unattended (`GANAD_HEADLESS=1`, or `CI` set).
pub fn headless() -> bool {
    std::env::var("GANAD_HEADLESS").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| !v.is_empty())
}

/// Call once in a notebook's first cell. Loads libtorch's CUDA backend (a cell's library is not
/// linked with `--no-as-needed`), and when headless makes a panic abort the kernel: evcxr
/// reports a panicking cell as "ok", and nbconvert would then exit 0 on a broken notebook.
pub fn init() {
    crate::system::device::load_cuda();
    if headless() {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("ganad: a cell panicked while running headless, aborting so the run fails: {info}");
            std::process::abort();
        }));
    }
}

/// Unwraps a result for a notebook cell, panicking with the error's message (not its Debug form).
pub fn must<T>(result: Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// One line per epoch: its time, its validation AUROC and the epoch's mean of the few losses
/// that say whether training is sound (the generator's weighted total, each discriminator's
/// loss, Deep SAD's objective). The per-step losses are in the run's `history.parquet`, and
/// `plots::loss_curves` charts them.
#[derive(Default)]
pub struct LineProgress {
    steps: RefCell<Vec<StepRecord>>,
    /// The training clock at the end of the previous epoch.
    previous: std::cell::Cell<Option<f64>>,
}

impl LineProgress {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn step(&self, r: &StepRecord) {
        self.steps.borrow_mut().push(r.clone());
    }

    pub fn epoch(&self, e: &EpochRecord) {
        let steps = std::mem::take(&mut *self.steps.borrow_mut());
        // A fresh run's clock starts at 0; a resumed one's first epoch starts near its first step.
        let start = self.previous.get().unwrap_or(if e.epoch == 0 { 0.0 } else { steps.first().map_or(0.0, |s| s.wall_s) });
        self.previous.set(Some(e.wall_s));
        println!("{}", epoch_line(e, &steps, e.wall_s - start));
    }
}

/// The line [`LineProgress`] prints for an epoch, its steps and the seconds it took (training
/// and validation).
pub fn epoch_line(e: &EpochRecord, steps: &[StepRecord], seconds: f64) -> String {
    let mean = |f: &dyn Fn(&StepRecord) -> Option<f64>| {
        let v: Vec<f64> = steps.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let mut line = format!("epoch {}: {} steps, {:.1} s", e.epoch, e.steps, seconds);
    line.push_str(&match e.validation_auroc {
        Some(v) => format!(", validation AUROC {v:.4}"),
        None => ", no validation set".to_string(),
    });
    type Term<'a> = (&'a str, &'a dyn Fn(&StepRecord) -> Option<f64>);
    let losses: [Term; 5] = [
        ("G", &|r| r.generator_total),
        ("D_N", &|r| r.losses.normal_discriminator),
        ("D_A", &|r| r.losses.anomaly_discriminator),
        ("pretraining", &|r| r.losses.deep_sad_pretraining),
        ("Deep SAD", &|r| r.losses.deep_sad),
    ];
    let shown: Vec<String> = losses.iter().filter_map(|(name, f)| mean(f).map(|m| format!("{name} {m:.4}"))).collect();
    if !shown.is_empty() {
        line.push_str(&format!("; mean loss {}", shown.join(", ")));
    }
    line
}

/// The fields of `cfg` that differ from its recipe in `profile`, as "path: recipe → cfg" lines.
pub fn config_changes(cfg: &Config, profile: Profile) -> Vec<String> {
    fn walk(path: &str, base: &serde_json::Value, ours: &serde_json::Value, out: &mut Vec<String>) {
        match (base, ours) {
            (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
                let keys: std::collections::BTreeSet<&String> = b.keys().chain(o.keys()).collect();
                for k in keys {
                    let null = serde_json::Value::Null;
                    let next = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&next, b.get(k).unwrap_or(&null), o.get(k).unwrap_or(&null), out);
                }
            }
            (b, o) if b != o => out.push(format!("{path}: {b} → {o}")),
            _ => {}
        }
    }
    let recipe = Config::recipe(cfg.recipe, profile);
    let (base, ours) = (serde_json::to_value(&recipe).expect("serialisable"), serde_json::to_value(cfg).expect("serialisable"));
    let mut out = Vec::new();
    walk("", &base, &ours, &mut out);
    out
}

/// What the config cell prints: the recipe and profile it starts from, and only the fields that
/// differ from them. The whole config is one call away:
/// `serde_json::to_string_pretty(&cfg)`.
pub fn show_config(cfg: &Config, profile: Profile) -> String {
    let changes = config_changes(cfg, profile);
    let head = format!("recipe {} in the {} profile", cfg.recipe.name(), profile.name());
    if changes.is_empty() {
        format!("{head}, unchanged")
    } else {
        format!("{head}, with {} change{}:\n  {}", changes.len(), if changes.len() == 1 { "" } else { "s" }, changes.join("\n  "))
    }
}

/// The compute profile for this notebook run (`GANAD_PROFILE`, default `default`).
pub fn profile() -> crate::config::Profile {
    must(crate::config::Profile::from_env())
}

/// The method recipe for this notebook run (`GANAD_RECIPE`, default `ganad`).
pub fn recipe() -> crate::config::Recipe {
    must(crate::config::Recipe::from_env())
}

/// The normal class for this notebook run (`GANAD_CLASS`, default 0).
pub fn normal_class() -> u8 {
    let raw = std::env::var("GANAD_CLASS").unwrap_or_else(|_| "0".into());
    let class = raw.parse::<i64>().unwrap_or(-1);
    must(crate::data::fashion_mnist::check_class(class))
}

/// The repository the crate was built from (notebooks build it from `../ganad-core`).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where notebooks write their runs: `GANAD_RESULTS`, else the scratch directory
/// `runs/notebooks/` at the repository's root, which git ignores.
pub fn results_dir() -> PathBuf {
    std::env::var_os("GANAD_RESULTS").map(Into::into).unwrap_or_else(|| repository().join("runs").join("notebooks"))
}

/// The directory for the run `name` (e.g. `gan-class0`) under [`results_dir`], ready to train
/// into. A finished run already there is replaced in the scratch directory (that is what
/// rerunning a cell means), and said so; anywhere else, under the committed `results/` above
/// all, it is refused unless `GANAD_REPLACE_RUNS=1` (which `make run` sets).
pub fn run_dir(name: &str) -> Result<PathBuf> {
    let dir = results_dir().join("runs").join(name);
    if !dir.join(crate::experiments::run::RunRecord::FILE).exists() {
        return Ok(dir);
    }
    let scratch = std::env::var_os("GANAD_RESULTS").is_none();
    let asked = std::env::var("GANAD_REPLACE_RUNS").is_ok_and(|v| v == "1");
    if !scratch && !asked {
        return Err(Error::config(
            "GANAD_RESULTS",
            format!(
                "{} already holds a finished run; this notebook would replace it. Fix: unset GANAD_RESULTS to explore in the scratch directory {}, \
                 or set GANAD_REPLACE_RUNS=1 to replace it on purpose (make run does)",
                dir.display(),
                repository().join("runs").join("notebooks").display()
            ),
        ));
    }
    println!("replacing the finished run in {}", dir.display());
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_cell_shows_what_differs_from_the_recipe() {
        let mut cfg = Config::recipe(crate::config::Recipe::Ganad, Profile::Quick);
        assert_eq!(show_config(&cfg, Profile::Quick), "recipe ganad in the quick profile, unchanged");
        cfg.loss.abc = 1.0;
        cfg.data.known_anomaly_classes = Some(vec![3]);
        let text = show_config(&cfg, Profile::Quick);
        assert!(
            text.contains("2 changes") && text.contains("loss.abc: 3.0 → 1.0") && text.contains("data.known_anomaly_classes: null → [3]"),
            "{text}"
        );
    }

    #[test]
    fn an_epoch_is_one_line_of_the_numbers_that_matter() {
        let step = |s: usize, g: f64| StepRecord {
            epoch: 0,
            step: s,
            losses: crate::gan::losses::LossParts { normal_discriminator: Some(0.5), ..Default::default() },
            generator_total: Some(g),
            wall_s: s as f64,
        };
        let e = EpochRecord { epoch: 0, steps: 3, validation_auroc: Some(0.91234), component_aurocs: Default::default(), wall_s: 3.0 };
        let line = epoch_line(&e, &[step(1, 1.0), step(2, 2.0), step(3, 3.0)], 3.0);
        assert_eq!(line, "epoch 0: 3 steps, 3.0 s, validation AUROC 0.9123; mean loss G 2.0000, D_N 0.5000");
    }
}
