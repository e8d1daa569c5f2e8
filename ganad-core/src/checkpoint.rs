//! Checkpoints: one safetensors file per network plus `state.json`, in a directory that is
//! written whole under a temporary name and then renamed into place, so a crash mid-save
//! leaves the previous checkpoint intact.

use crate::atomic;
use crate::error::{Error, Result};
use crate::gan::Gan;
use serde::{de::DeserializeOwned, Serialize};
use std::path::{Path, PathBuf};

const STATE: &str = "state.json";

fn broken(path: &Path, what: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        what: what.into(),
        fix: "delete this checkpoint directory and train again (drop --resume), or point to another run".into(),
    }
}

/// Writes the networks of `gan` and `state` to `dir` atomically.
pub fn save<S: Serialize>(dir: &Path, gan: &Gan, state: &S) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let tmp = with_suffix(dir, &format!("tmp-{}", std::process::id()));
    let old = with_suffix(dir, "old");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    for (name, vs) in gan.stores() {
        vs.save(tmp.join(format!("{name}.safetensors")))?;
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

/// Loads the weights in `dir` into `gan` and returns the saved state.
pub fn load<S: DeserializeOwned>(dir: &Path, gan: &mut Gan) -> Result<S> {
    let dir = readable(dir)?;
    for (name, vs) in gan.stores_mut() {
        let file = dir.join(format!("{name}.safetensors"));
        if !file.is_file() {
            return Err(broken(&file, "missing (was the run made with another anomaly ratio?)"));
        }
        vs.load(&file).map_err(|e| broken(&file, format!("unreadable weights: {e}")))?;
    }
    atomic::read_json(&dir.join(STATE)).map_err(|e| broken(&dir.join(STATE), e.to_string()))
}

/// Whether `dir` holds a checkpoint.
pub fn exists(dir: &Path) -> bool {
    readable(dir).is_ok()
}
