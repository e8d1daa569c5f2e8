//! Checkpoints: one safetensors file per network (`{name}.safetensors`) and per optimizer
//! (`adam.{name}.safetensors`), plus `state.json`, in a directory that is written whole under a
//! temporary name and then renamed into place, so a crash mid-save leaves the previous
//! checkpoint intact.

use crate::error::{Error, Result};
use crate::system::atomic;
use crate::training::adam::Adam;
use crate::training::model::Model;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::Tensor;

const STATE: &str = "state.json";

fn broken(path: &Path, what: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        what: what.into(),
        fix: "delete this checkpoint directory and train again (drop --resume), or point to another run".into(),
    }
}

fn optimizer_file(name: &str) -> String {
    format!("adam.{name}.safetensors")
}

/// Writes the networks of `model`, the optimizers and `state` to `dir` atomically.
pub fn save<S: Serialize>(dir: &Path, model: &Model, optimizers: &[(&'static str, Adam)], state: &S) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let tmp = with_suffix(dir, &format!("tmp-{}", std::process::id()));
    let old = with_suffix(dir, "old");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    for (name, vs) in model.stores() {
        vs.save(tmp.join(format!("{name}.safetensors")))?;
    }
    for (name, adam) in optimizers {
        Tensor::write_safetensors(&adam.state(), tmp.join(optimizer_file(name)))?;
    }
    atomic::write_json(&tmp.join(STATE), state)?;
    // Swap: the old copy stays readable (as `.old`) until the new one is in place.
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

fn with_suffix(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

/// The directory to read: `dir`, or its `.old` twin if a crash hit between the two renames.
fn readable(dir: &Path) -> Result<PathBuf> {
    let old = with_suffix(dir, "old");
    if dir.join(STATE).is_file() {
        Ok(dir.to_path_buf())
    } else if old.join(STATE).is_file() {
        Ok(old)
    } else {
        Err(broken(dir, "no checkpoint here (state.json missing)"))
    }
}

/// Loads the weights in `dir` into `model` and returns the saved state.
pub fn load<S: DeserializeOwned>(dir: &Path, model: &mut Model) -> Result<S> {
    let dir = readable(dir)?;
    for (name, vs) in model.stores_mut() {
        let file = dir.join(format!("{name}.safetensors"));
        if !file.is_file() {
            return Err(broken(&file, "missing (was the run made with another config?)"));
        }
        vs.load(&file).map_err(|e| broken(&file, format!("unreadable weights: {e}")))?;
    }
    atomic::read_json(&dir.join(STATE)).map_err(|e| broken(&dir.join(STATE), e.to_string()))
}

/// Restores the optimizers' state saved in `dir` (for an exact resume).
pub fn load_optimizers(dir: &Path, optimizers: &mut [(&'static str, Adam)]) -> Result<()> {
    let dir = readable(dir)?;
    for (name, adam) in optimizers {
        let file = dir.join(optimizer_file(name));
        let named: HashMap<String, Tensor> =
            Tensor::read_safetensors(&file).map_err(|e| broken(&file, format!("unreadable optimizer state: {e}")))?.into_iter().collect();
        adam.load_state(named, &file.display().to_string()).map_err(|e| broken(&file, e.to_string()))?;
    }
    Ok(())
}

/// Whether `dir` holds a checkpoint.
pub fn exists(dir: &Path) -> bool {
    readable(dir).is_ok()
}
