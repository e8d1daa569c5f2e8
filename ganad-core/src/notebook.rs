//! Notebook support: CUDA in cell libraries, panics that fail headless runs, line progress.

use crate::error::Result;
use crate::train::{EpochRecord, StepRecord};

/// True when notebooks run unattended (`GANAD_HEADLESS=1`, or `CI` set).
pub fn headless() -> bool {
    std::env::var("GANAD_HEADLESS").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| !v.is_empty())
}

/// Call once in a notebook's first cell. Loads libtorch's CUDA backend (a cell's library is not
/// linked with `--no-as-needed`), and when headless makes a panic abort the kernel: evcxr
/// reports a panicking cell as "ok", and nbconvert would then exit 0 on a broken notebook.
pub fn init() {
    crate::device::load_cuda();
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

/// One line per `every` steps and per epoch: streams in notebooks and logs.
pub struct LineProgress {
    pub every: usize,
}

impl LineProgress {
    pub fn step(&self, r: &StepRecord) {
        if self.every > 0 && r.step % self.every == 0 {
            println!("{}", r.summary());
        }
    }

    pub fn epoch(&self, e: &EpochRecord) {
        println!("{}", e.summary());
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

/// Where notebooks write their runs (`GANAD_RESULTS`, default `../results/reports` from `notebooks/`).
pub fn results_dir() -> std::path::PathBuf {
    std::env::var_os("GANAD_RESULTS").map(Into::into).unwrap_or_else(|| "../results/reports".into())
}
