//! The `ganad` binary end to end on the real dataset, in the quick profile.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn ganad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ganad")).args(args).env_remove("GANAD_PROFILE").output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = ganad(args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "ganad {args:?} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

fn fails(args: &[&str]) -> String {
    let out = ganad(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "ganad {args:?} should fail");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "not a clean error:\n{err}");
    err
}

fn run_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap()
}

#[test]
fn data_check_counts_every_class() {
    let out = ok(&["data", "check"]);
    assert!(out.contains("verified"), "{out}");
    for name in ["T-shirt/top", "Shirt", "Ankle boot"] {
        let line = out.lines().find(|l| l.contains(name)).unwrap();
        assert!(line.ends_with("6000   1000"), "{line}");
    }
}

#[test]
fn bad_input_gets_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let err = fails(&["data", "check", "--data-dir", empty.path().to_str().unwrap()]);
    assert!(err.contains("lacks") && err.contains("fix:"), "{err}");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("x");
    let err = fails(&["train", "--normal-class", "10", "--profile", "quick", "--out", dir.to_str().unwrap()]);
    assert!(err.contains("use 0..9"), "{err}");
    let err = fails(&["train", "--normal-class", "0", "--anomaly-ratio", "-1", "--profile", "quick", "--out", dir.to_str().unwrap()]);
    assert!(err.contains("anomaly_ratio"), "{err}");
    let err = fails(&["train", "--normal-class", "0", "--weight", "abc=x", "--profile", "quick", "--out", dir.to_str().unwrap()]);
    assert!(err.contains("loss.abc"), "{err}");
    let cfg = out.path().join("bad.json");
    std::fs::write(&cfg, r#"{"train": {"epoch": 3}}"#).unwrap();
    let err = fails(&["train", "--normal-class", "0", "--config", cfg.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(err.contains("unknown field `epoch`"), "{err}");
}

#[test]
fn quick_training_is_complete_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let t = Instant::now();
    ok(&["train", "--normal-class", "0", "--profile", "quick", "--out", a.to_str().unwrap()]);
    eprintln!("quick train took {:.1} s", t.elapsed().as_secs_f64());
    ok(&["train", "--normal-class", "0", "--profile", "quick", "--out", b.to_str().unwrap()]);
    let (ra, rb) = (run_json(&a), run_json(&b));
    let history = ra["history"].as_array().unwrap();
    assert!(!history.is_empty());
    for record in history {
        let losses = record["losses"].as_object().unwrap();
        assert_eq!(losses.len(), 8, "{losses:?}");
        assert!(losses.values().all(|v| v.as_f64().is_some_and(f64::is_finite)), "a term is missing: {losses:?}");
    }
    assert_eq!(ra["test_scores"].as_array().unwrap().len(), 10_000);
    assert_eq!(ra["config"]["seed"], 0);
    assert!(ra["provenance"]["commit"].as_str().is_some());
    let auroc = ra["evaluation"]["test"]["auroc"].as_f64().unwrap();
    assert!(auroc > 0.5, "quick GAN no better than chance: {auroc}");
    assert_eq!(auroc, rb["evaluation"]["test"]["auroc"].as_f64().unwrap(), "same seed, different AUROC");
    assert_eq!(ra["test_scores"], rb["test_scores"]);

    // `ganad eval` recomputes the metrics from run.json, and from the checkpoint.
    let out = ok(&["eval", a.to_str().unwrap()]);
    assert!(out.contains(&format!("test AUROC {auroc:.5}")), "{out}");
    let out = ok(&["eval", a.to_str().unwrap(), "--rescore"]);
    assert!(out.contains(&format!("test AUROC {auroc:.5}")), "{out}");
    // A finished run is not overwritten.
    assert!(fails(&["train", "--normal-class", "0", "--profile", "quick", "--out", a.to_str().unwrap()]).contains("already holds"));
}

#[test]
fn random_baseline_is_at_chance() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(&["baseline", "--kind", "random", "--normal-class", "0", "--profile", "quick", "--out", tmp.path().to_str().unwrap()]);
    let auroc = run_json(tmp.path())["evaluation"]["test"]["auroc"].as_f64().unwrap();
    assert!((0.45..=0.55).contains(&auroc), "{auroc}\n{out}");
}

#[test]
fn a_killed_run_resumes_to_the_same_number_of_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let args = ["train", "--normal-class", "1", "--profile", "quick", "--epochs", "3", "--out", dir.to_str().unwrap()];
    let mut child = Command::new(env!("CARGO_BIN_EXE_ganad")).args(args).stdout(std::process::Stdio::null()).spawn().unwrap();
    let state = dir.join("checkpoints/last/state.json");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !state.exists() {
        assert!(Instant::now() < deadline, "no checkpoint after 300 s");
        assert!(child.try_wait().unwrap().is_none(), "finished before it could be killed");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("run.json").exists());
    let done: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let done = done["epochs_done"].as_u64().unwrap();
    assert!((1..3).contains(&done), "{done}");

    let mut resumed = args.to_vec();
    resumed.push("--resume");
    ok(&resumed);
    let record = run_json(&dir);
    let epochs: Vec<u64> = record["epochs"].as_array().unwrap().iter().map(|e| e["epoch"].as_u64().unwrap()).collect();
    assert_eq!(epochs, vec![0, 1, 2]);
}
