//! One process at a time trains into a run directory: `.ganad-lock` holds the pid of the process
//! that does, and a second one gets an error that names it. A lock left by a process that died
//! (SIGKILL, a node lost) names a pid that no longer runs, and is taken over.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock's file name inside a run directory (git ignores it).
pub const FILE: &str = ".ganad-lock";

/// Held while alive; the file goes with it.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 sends nothing; it asks whether the process exists.
    pid > 0 && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

impl RunLock {
    /// Takes `dir`'s lock, creating `dir` if needed.
    pub fn take(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(FILE);
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: i32 = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
                    if alive(holder) {
                        return Err(Error::Locked { dir: dir.to_path_buf(), pid: holder });
                    }
                    // Stale: its process is gone. Two takers may both remove it; create_new lets one win.
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        let holder = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        Err(Error::Locked { dir: dir.to_path_buf(), pid: holder })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_and_stale_locks_are_taken_over() {
        let tmp = crate::system::tempdir::TempDir::new("test").unwrap();
        let dir = tmp.path().join("run");
        let lock = RunLock::take(&dir).unwrap();
        // This process holds it; a second taker (here the same pid) is refused and told who.
        let err = RunLock::take(&dir).unwrap_err().to_string();
        assert!(err.contains(&format!("process {}", std::process::id())) && err.contains(FILE), "{err}");
        drop(lock);
        assert!(!dir.join(FILE).exists(), "released with its holder");
        // A pid that runs no process: the lock is stale.
        std::fs::write(dir.join(FILE), "2147483000").unwrap();
        let _lock = RunLock::take(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(FILE)).unwrap(), std::process::id().to_string());
    }
}
