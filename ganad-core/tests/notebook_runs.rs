//! Where notebooks put their runs: rerunning a cell replaces a finished run in the scratch
//! directory, and refuses to replace one anywhere else (the committed `results/`) unless asked.
//! One test in its own binary: it sets environment variables.

use ganad_core::notebook::{results_dir, run_dir};

#[test]
fn a_finished_run_is_replaced_in_scratch_and_refused_elsewhere() {
    let finish = |dir: &std::path::Path| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("run.json"), "{}").unwrap();
    };
    std::env::remove_var("GANAD_RESULTS");
    std::env::remove_var("GANAD_REPLACE_RUNS");
    let scratch = results_dir();
    assert!(scratch.ends_with("runs/notebooks"), "{}", scratch.display());
    let name = format!("test-{}", std::process::id());
    let dir = run_dir(&name).unwrap();
    finish(&dir);
    assert_eq!(run_dir(&name).unwrap(), dir);
    assert!(!dir.exists(), "the scratch run is cleared for the new one");

    let committed = ganad_core::tempdir::TempDir::new("test").unwrap();
    std::env::set_var("GANAD_RESULTS", committed.path());
    let dir = run_dir("gan-class0").unwrap();
    finish(&dir);
    let err = run_dir("gan-class0").unwrap_err().to_string();
    assert!(err.contains("already holds a finished run") && err.contains("GANAD_REPLACE_RUNS=1"), "{err}");
    assert!(dir.join("run.json").exists(), "refused, and kept");
    std::env::set_var("GANAD_REPLACE_RUNS", "1");
    run_dir("gan-class0").unwrap();
    assert!(!dir.exists());
}
