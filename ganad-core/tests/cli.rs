//! The `ganad` binary end to end on the real dataset, in the quick profile.

use ganad_core::run::RunRecord;
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

/// `ok` for owned arguments.
fn ok_owned(args: &[String]) -> String {
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
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

/// Where build.rs found tcmalloc, it serves the process's `malloc`: linked before libc, not
/// merely loaded beside it.
#[test]
fn the_weight_flag_lists_every_loss_term() {
    let help = ok(&["train", "--help"]);
    for name in ganad_core::losses::LossWeights::NAMES {
        assert!(help.contains(name), "--weight's help does not list {name}:\n{help}");
    }
}

/// A reader that stops early (`ganad doctor | head -1`) ends the output quietly, not with a panic.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ganad")).arg("doctor").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn doctor_names_the_allocator_the_binary_links() {
    let out = ok(&["doctor"]);
    let want = if cfg!(tcmalloc) { "allocator: libtcmalloc_minimal.so.4" } else { "allocator: libc.so.6" };
    assert!(out.lines().any(|l| l.starts_with(want)), "{out}");
}

#[test]
fn bad_input_gets_a_clear_error() {
    let empty = ganad_core::tempdir::TempDir::new("test").unwrap();
    let err = fails(&["data", "check", "--data-dir", empty.path().to_str().unwrap()]);
    assert!(err.contains("lacks") && err.contains("fix:"), "{err}");
    let out = ganad_core::tempdir::TempDir::new("test").unwrap();
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
    // A part that learns from labelled anomalies, in a protocol without them: refused, with the fix.
    std::fs::write(&cfg, r#"{"data": {"anomaly_ratio": 0.0}}"#).unwrap();
    let err = fails(&["train", "--normal-class", "0", "--config", cfg.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(err.contains("model.anomaly_discriminator") && err.contains("--anomaly-ratio 0"), "{err}");
    let quick = |extra: &[&str]| -> Vec<String> {
        ["train", "--normal-class", "0", "--profile", "quick", "--out", dir.to_str().unwrap()]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let fails_owned = |args: Vec<String>| fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let err = fails_owned(quick(&["--known-anomaly-classes", "0"]));
    assert!(err.contains("data.known_anomaly_classes") && err.contains("normal class"), "{err}");
    assert!(fails_owned(quick(&["--pollution", "0.7"])).contains("data.pollution"));
    let err = fails_owned(quick(&["--validation-share", "0", "--checkpoint", "best-validation"]));
    assert!(err.contains("needs a validation set"), "{err}");
    assert!(fails_owned(quick(&["--labelled-share", "1.5"])).contains("--labelled-share"));
}

/// Deep SAD's protocol end to end: its baseline on one pair, and the grid over the pairs.
#[test]
fn the_deep_sad_protocol_runs_its_baseline_and_its_pairs() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let protocol = ["--labelled-share", "0.01", "--pollution", "0.1", "--validation-share", "0", "--profile", "quick"];
    let run = tmp.path().join("deep-sad");
    let args: Vec<&str> =
        ["baseline", "--kind", "deep-sad", "--normal-class", "1", "--known-anomaly-classes", "4", "--out", run.to_str().unwrap()]
            .into_iter()
            .chain(protocol)
            .collect();
    let out = ok(&args);
    assert!(out.contains("Deep SAD protocol: normal class 1 Trouser") && out.contains("from known class 4 Coat"), "{out}");
    let r = RunRecord::load(&run).unwrap();
    assert_eq!((r.split_sizes.train_normal, r.split_sizes.train_pollution, r.split_sizes.validation), (1024, 113, 0));
    assert_eq!(r.evaluation.threshold.chosen_on, "training");
    assert!(r.evaluation.test.auroc > 0.5, "{}", r.evaluation.test.auroc);
    assert_eq!(r.last_epoch.as_ref().unwrap().test_auroc, r.evaluation.test.auroc, "the last epoch is the reported one");
    assert!(r.history.iter().any(|h| h.losses.deep_sad_pretraining.is_some()) && r.history.last().unwrap().losses.deep_sad.is_some());
    assert!(r.epochs.iter().all(|e| e.validation_auroc.is_none()));

    let sweep = tmp.path().join("pairs");
    let args: Vec<&str> = ["sweep", "--pairs", "--classes", "3", "--methods", "random", "--out", sweep.to_str().unwrap()]
        .into_iter()
        .chain(protocol)
        .collect();
    ok(&args);
    let summary: Value = serde_json::from_slice(&std::fs::read(sweep.join("summary.json")).unwrap()).unwrap();
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 9, "class 3 with each of its nine anomaly classes");
    assert!(sweep.join("class3-known0-seed0-random").join("run.json").is_file());
    assert!(summary["protocol"].as_str().unwrap().starts_with("Deep SAD protocol"), "{}", summary["protocol"]);
    let pairs = std::fs::read_to_string(sweep.join("pairs.md")).unwrap();
    assert!(pairs.contains("| 3 Dress |"), "{pairs}");
}

#[test]
fn quick_training_is_complete_and_reproducible() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let t = Instant::now();
    ok(&["train", "--normal-class", "0", "--profile", "quick", "--out", a.to_str().unwrap()]);
    eprintln!("quick train took {:.1} s", t.elapsed().as_secs_f64());
    ok(&["train", "--normal-class", "0", "--profile", "quick", "--out", b.to_str().unwrap()]);
    let (ra, rb) = (RunRecord::load(&a).unwrap(), RunRecord::load(&b).unwrap());
    assert!(!ra.history.is_empty());
    for record in &ra.history {
        // The default recipe computes every GAN term, the classification term included.
        let names = ganad_core::losses::LossParts::<f64>::NAMES;
        let gan_terms = names.iter().zip(record.losses.terms()).filter(|(n, _)| !n.starts_with("deep_sad"));
        assert!(gan_terms.clone().all(|(_, v)| v.is_some_and(|v| v.is_finite())), "a term is missing: {:?}", record.losses);
    }
    assert_eq!(ra.test_scores.len(), 10_000);
    assert_eq!(ra.config.seed, 0);
    assert_ne!(ra.provenance.commit, "unknown");
    let size = std::fs::metadata(a.join("run.json")).unwrap().len();
    assert!(size < 100_000, "run.json is {size} bytes: per-image data belongs in Parquet");
    let auroc = ra.evaluation.test.auroc;
    assert!(auroc > 0.5, "quick GAN no better than chance: {auroc}");
    assert_eq!(auroc, rb.evaluation.test.auroc, "same seed, different AUROC");
    assert_eq!(ra.test_scores, rb.test_scores);
    assert!(ra.last_epoch.as_ref().is_some_and(|l| l.test_auroc.is_finite()));

    // `ganad eval` recomputes the metrics from the Parquet scores, and from the checkpoint.
    let out = ok(&["eval", a.to_str().unwrap()]);
    assert!(out.contains(&format!("test AUROC {auroc:.5}")), "{out}");
    let out = ok(&["eval", a.to_str().unwrap(), "--rescore"]);
    assert!(out.contains(&format!("test AUROC {auroc:.5}")), "{out}");
    // A finished run is not overwritten.
    assert!(fails(&["train", "--normal-class", "0", "--profile", "quick", "--out", a.to_str().unwrap()]).contains("already holds"));

    // `ganad rescore` writes a run of its own: unchanged, it is the run; changed, it records both.
    let (same, reconstruction) = (tmp.path().join("same"), tmp.path().join("reconstruction"));
    ok(&["rescore", a.to_str().unwrap(), "--score", "{}", "--out", same.to_str().unwrap()]);
    let rs = RunRecord::load(&same).unwrap();
    assert_eq!((rs.test_scores.clone(), rs.evaluation.test.auroc), (ra.test_scores.clone(), auroc));
    assert_eq!(rs.rescored_from.as_ref().unwrap().run, a.to_str().unwrap());
    let only = r#"{"anomaly_head": 0, "nearest_normals": 0, "discriminator_head": 0, "rotation": 0}"#;
    ok(&["rescore", a.to_str().unwrap(), "--score", only, "--out", reconstruction.to_str().unwrap()]);
    let rr = RunRecord::load(&reconstruction).unwrap();
    assert_eq!(rr.config.eval.score.components(), 1);
    assert_eq!(rr.rescored_from.as_ref().unwrap().score, ra.config.eval.score);
    assert_eq!(rr.rescored_from.as_ref().unwrap().test_auroc, auroc);
    assert_eq!(rr.last_epoch.as_ref().unwrap().test_auroc, rr.evaluation.test.auroc);
    assert_ne!(rr.test_scores, ra.test_scores, "the reconstruction error alone is another score");
    assert_eq!(rr.history, ra.history, "the training is the source's");
    let err = fails(&["rescore", a.to_str().unwrap(), "--score", r#"{"rotaton": 0}"#, "--out", tmp.path().join("typo").to_str().unwrap()]);
    assert!(err.contains("rotaton"), "{err}");
    assert!(fails(&["rescore", a.to_str().unwrap(), "--score", "{}", "--out", same.to_str().unwrap()]).contains("already holds"));
}

#[test]
fn random_baseline_is_at_chance() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let out = ok(&["baseline", "--kind", "random", "--normal-class", "0", "--profile", "quick", "--out", tmp.path().to_str().unwrap()]);
    let auroc = run_json(tmp.path())["evaluation"]["test"]["auroc"].as_f64().unwrap();
    assert!((0.45..=0.55).contains(&auroc), "{auroc}\n{out}");
    let rescored = tmp.path().join("rescored");
    let err = fails(&["rescore", tmp.path().to_str().unwrap(), "--score", "{}", "--out", rescored.to_str().unwrap()]);
    assert!(err.contains("only a GAN run"), "{err}");
}

/// Regression: the checkpoint dropped Adam's moments, so a run killed and resumed
/// drifted from the uninterrupted one. Kills a real `ganad train` process mid-epoch.
#[test]
fn a_run_killed_mid_epoch_resumes_to_the_uninterrupted_numbers() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let (straight, killed) = (tmp.path().join("straight"), tmp.path().join("killed"));
    let args = |dir: &Path| -> Vec<String> {
        ["train", "--normal-class", "1", "--profile", "quick", "--epochs", "3", "--seed", "5", "--out", dir.to_str().unwrap()]
            .map(String::from)
            .to_vec()
    };
    ok_owned(&args(&straight));

    let mut child = Command::new(env!("CARGO_BIN_EXE_ganad"))
        .args(args(&killed))
        .env_remove("GANAD_PROFILE")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = killed.join("checkpoints/last/state.json");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !state.exists() {
        assert!(Instant::now() < deadline, "no checkpoint after 300 s");
        assert!(child.try_wait().unwrap().is_none(), "finished before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Killed as soon as the first epoch's checkpoint is in place, so inside the second epoch.
    // Where inside it does not matter (the resume restarts the epoch from its checkpoint). A
    // wait of a tenth of the first epoch's time once let a run finish its third epoch on CI:
    // parallel tests had slowed the first epoch, then finished and left the rest fast.
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(!killed.join("run.json").exists(), "finished before the kill");
    let done: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!((1..3).contains(&done["epochs_done"].as_u64().unwrap()), "{done}");

    let mut resumed = args(&killed);
    resumed.push("--resume".into());
    ok_owned(&resumed);
    let (a, b) = (RunRecord::load(&straight).unwrap(), RunRecord::load(&killed).unwrap());
    let per_epoch = |r: &RunRecord| r.epochs.iter().map(|e| (e.epoch, e.validation_auroc)).collect::<Vec<_>>();
    assert_eq!(per_epoch(&a), per_epoch(&b));
    assert_eq!(a.evaluation.test.auroc, b.evaluation.test.auroc);
    assert_eq!(a.test_scores, b.test_scores);
    let losses = |r: &RunRecord| r.history.iter().map(|h| (h.step, h.generator_total)).collect::<Vec<_>>();
    assert_eq!(losses(&a), losses(&b));
}

/// Starts `ganad train` with `args`, waits until `ready` exists, and sends SIGTERM; returns the
/// exit status and stderr. The run stops with a checkpoint at the step it reached.
fn terminate_when(args: &[String], ready: &Path) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ganad"))
        .args(args)
        .env_remove("GANAD_PROFILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "{} did not appear in 300 s", ready.display());
        assert!(child.try_wait().unwrap().is_none(), "finished before it could be stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// What a scheduler does to a job: SIGTERM at its time limit, before or after the run's first
/// epoch checkpoint; the same command with --resume then reaches the uninterrupted numbers.
#[test]
fn sigterm_checkpoints_the_step_it_reached_and_resume_continues_exactly() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let args = |dir: &Path| -> Vec<String> {
        ["train", "--normal-class", "3", "--profile", "quick", "--epochs", "2", "--seed", "2", "--out", dir.to_str().unwrap()]
            .map(String::from)
            .to_vec()
    };
    let straight = tmp.path().join("straight");
    ok_owned(&args(&straight));
    let a = RunRecord::load(&straight).unwrap();
    let same = |dir: &Path| {
        let b = RunRecord::load(dir).unwrap();
        assert_eq!(
            a.epochs.iter().map(|e| e.validation_auroc).collect::<Vec<_>>(),
            b.epochs.iter().map(|e| e.validation_auroc).collect::<Vec<_>>()
        );
        assert_eq!(a.test_scores, b.test_scores, "{}", dir.display());
        let losses = |r: &RunRecord| r.history.iter().map(|h| (h.step, h.generator_total)).collect::<Vec<_>>();
        assert_eq!(losses(&a), losses(&b));
    };
    for (name, ready) in [("before", "config.json"), ("after", "checkpoints/last/state.json")] {
        let dir = tmp.path().join(name);
        let (status, err) = terminate_when(&args(&dir), &dir.join(ready));
        assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{name}: {err}");
        assert!(err.contains("stopped by SIGTERM") && err.contains("run the same command again"), "{name}: {err}");
        assert!(!dir.join("run.json").exists() && !dir.join(ganad_core::lock::FILE).exists(), "{name}");
        let state: Value = serde_json::from_slice(&std::fs::read(dir.join("checkpoints/last/state.json")).unwrap()).unwrap();
        assert!(state["epochs_done"].as_u64().unwrap() < 2, "{name}: {state}");
        let mut resumed = args(&dir);
        resumed.push("--resume".into());
        ok_owned(&resumed);
        same(&dir);
    }
    // Killed before any checkpoint: --resume starts from step 0, and says so.
    let bare = tmp.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    let mut resumed = args(&bare);
    resumed.push("--resume".into());
    assert!(ok_owned(&resumed).contains("starting the run from step 0"));
    same(&bare);
}

/// Two processes started on one run directory (a resubmitted job beside the old one): exactly
/// one trains, the other is told which process holds the directory.
#[test]
fn two_processes_cannot_train_into_one_directory() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let dir = tmp.path().join("run");
    let args = ["train", "--normal-class", "4", "--profile", "quick", "--out", dir.to_str().unwrap()];
    let mut first = Command::new(env!("CARGO_BIN_EXE_ganad"))
        .args(args)
        .env_remove("GANAD_PROFILE")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.join(ganad_core::lock::FILE);
    let deadline = Instant::now() + Duration::from_secs(300);
    while !lock.exists() {
        assert!(Instant::now() < deadline && first.try_wait().unwrap().is_none(), "the first process never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = fails(&args);
    assert!(err.contains(&format!("being trained into by process {}", first.id())), "{err}");
    assert!(first.wait().unwrap().success(), "the first process trains on");
    assert!(dir.join("run.json").exists() && !lock.exists());
}

/// A sweep beside another process that holds one of its cells trains the rest and leaves that one.
#[test]
fn a_sweep_skips_the_cell_another_process_trains() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let held = tmp.path().join("class1-seed0-random");
    std::fs::create_dir_all(&held).unwrap();
    // This test's own process stands in for the other one: it is alive.
    std::fs::write(held.join(ganad_core::lock::FILE), std::process::id().to_string()).unwrap();
    let out = ok(&["sweep", "--classes", "0,1", "--methods", "random", "--profile", "quick", "--out", tmp.path().to_str().unwrap()]);
    assert!(out.contains(&format!("class1-seed0-random: process {} trains it, skipped", std::process::id())), "{out}");
    assert!(tmp.path().join("class0-seed0-random/run.json").is_file() && !held.join("run.json").exists());
}

/// Two shards run as two processes, then `--collect`, give the unsharded sweep's summary.
#[test]
fn sharded_sweep_and_collect_equal_the_whole_sweep() {
    let tmp = ganad_core::tempdir::TempDir::new("test").unwrap();
    let (whole, sharded) = (tmp.path().join("whole"), tmp.path().join("sharded"));
    let grid = ["sweep", "--classes", "0,1", "--seeds", "1", "--methods", "gan,classifier,random", "--profile", "quick"];
    let with = |extra: &[&str]| -> Vec<String> { grid.iter().chain(extra).map(|s| s.to_string()).collect() };
    ok_owned(&with(&["--out", whole.to_str().unwrap()]));

    ok_owned(&with(&["--out", sharded.to_str().unwrap(), "--shard", "1/2"]));
    let partial = ganad(&["sweep", "--collect", sharded.to_str().unwrap()]);
    assert!(partial.status.success());
    let missing = String::from_utf8_lossy(&partial.stderr);
    assert!(missing.contains("missing 3 of the plan's runs") && missing.contains("class1-seed0-classifier"), "{missing}");
    ok_owned(&with(&["--out", sharded.to_str().unwrap(), "--shard", "2/2"]));
    ok(&["sweep", "--collect", sharded.to_str().unwrap()]);

    let read = |d: &Path| std::fs::read_to_string(d.join("summary.csv")).unwrap();
    assert_eq!(read(&whole), read(&sharded));
    assert_eq!(read(&whole).lines().count(), 1 + 2 * 3, "one row per class and method");
    let summary: Value = serde_json::from_slice(&std::fs::read(sharded.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["missing"].as_array().unwrap().len(), 0);
    assert_eq!(summary["methods"]["gan"]["per_class"].as_object().unwrap().len(), 2);
    let md = std::fs::read_to_string(sharded.join("summary.md")).unwrap();
    assert!(
        md.contains("| method | 0 T-shirt/top | 1 Trouser | mean | seeds | mean, best epoch on validation (extra) |")
            && md.contains("| classifier |"),
        "{md}"
    );
    assert!(fails(&["sweep", "--out", "x", "--shard", "3/2"]).contains("K/N"));
}
