//! Atomic file writes: a crash or a full disk never leaves a half-written result or checkpoint.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Path of the temporary file written before the rename (same directory, so the rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Writes `bytes` to `path` through a temp file + fsync + rename.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(tmp, e))?;
        f.sync_all().map_err(|e| Error::io(tmp, e))
    })
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| Error::Json { path: path.to_path_buf(), source })?;
    write_bytes(path, &bytes)
}

/// Reads JSON written by [`write_json`].
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json { path: path.to_path_buf(), source })
}

/// Lets `write` fill a temp file (by path), then renames it onto `path`. The temp file is
/// removed on failure, so the previous `path` stays intact.
pub fn write_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temp_path(path);
    let written = write(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_previous_file() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let path = dir.path().join("a.json");
        write_json(&path, &vec![1, 2, 3]).unwrap();
        let failed = write_with(&path, |tmp| {
            std::fs::write(tmp, b"partial").unwrap();
            Err(Error::Metric("simulated crash".into()))
        });
        assert!(failed.is_err());
        let back: Vec<i32> = read_json(&path).unwrap();
        assert_eq!(back, vec![1, 2, 3]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temp file left behind");
    }
}
