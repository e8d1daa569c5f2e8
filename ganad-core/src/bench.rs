//! `ganad bench`: speed measured in one run against references on the same inputs — the GAN
//! training step against a PyTorch eager twin (bench/torch_reference.py, after checking both
//! compute the same eight losses on the same weights), scoring throughput, AUROC against
//! scikit-learn, and model FLOPs against the machine's measured matmul rate.

use crate::config::{Config, Profile};
use crate::error::{Error, Result};
use crate::gan::Gan;
use crate::losses::LossParts;
use crate::score::{score_set, ReconstructionScorer};
use crate::train::Optimizers;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Largest allowed difference between a loss computed here and by PyTorch.
pub const LOSS_TOLERANCE: f64 = 1e-4;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub quick: bool,
    /// The venv's python (torch, scikit-learn, safetensors).
    pub python: PathBuf,
    /// bench/torch_reference.py
    pub reference: PathBuf,
}

/// Median, min and max of timings, in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub runs: usize,
}

impl Timing {
    pub fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        let median = if n % 2 == 1 { samples[n / 2] } else { (samples[n / 2 - 1] + samples[n / 2]) / 2.0 };
        Timing { median_s: median, min_s: samples[0], max_s: samples[n - 1], runs: n }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepBench {
    pub batch: i64,
    pub anomaly_batch: i64,
    pub ganad: Timing,
    pub pytorch: Timing,
    /// PyTorch median / ganad median: > 1 means ganad is faster.
    pub speedup: f64,
    pub max_loss_difference: f64,
    pub forward_backward_gflop: f64,
    pub ganad_gflops: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AurocBench {
    pub n: usize,
    pub ganad: Timing,
    pub sklearn: Timing,
    pub speedup: f64,
    pub abs_difference: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub provenance: crate::run::Provenance,
    pub machine: String,
    pub threads: i32,
    pub profile: String,
    pub base_width: i64,
    pub matmul_gflops: f64,
    pub steps: Vec<StepBench>,
    pub scoring_images_per_s: f64,
    pub auroc: Vec<AurocBench>,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown cpu".into())
}

fn time_runs(runs: usize, mut f: impl FnMut()) -> Timing {
    f(); // warm-up
    Timing::of((0..runs).map(|_| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    }).collect())
}

/// Multiply-accumulates of one convolution producing `hw_out`² pixels. A transposed convolution
/// costs the same as the convolution it inverts, so it is counted with its input size.
fn conv_macs(hw_out: i64, c_in: i64, c_out: i64, k: i64) -> i64 {
    hw_out * hw_out * c_in * c_out * k * k
}

/// One forward pass of the encoder half (4 strided 4×4 convolutions, 32 → 2 px).
fn encoder_macs(w: i64) -> i64 {
    conv_macs(16, 1, w, 4) + conv_macs(8, w, 2 * w, 4) + conv_macs(4, 2 * w, 4 * w, 4) + conv_macs(2, 4 * w, 8 * w, 4)
}

/// One forward pass of the U-Net: the encoder, and the decoder whose inputs carry the skips.
fn generator_macs(w: i64) -> i64 {
    encoder_macs(w) + conv_macs(2, 8 * w, 4 * w, 4) + conv_macs(4, 8 * w, 2 * w, 4) + conv_macs(8, 4 * w, w, 4) + conv_macs(16, 2 * w, 1, 4)
}

fn discriminator_macs(w: i64) -> i64 {
    conv_macs(16, 1, w, 4) + conv_macs(8, w, 2 * w, 4) + conv_macs(4, 2 * w, 4 * w, 4) + conv_macs(4, 4 * w, 8 * w, 3) + conv_macs(4, 8 * w, 1, 3) + conv_macs(1, 8 * w, 1, 4)
}

/// FLOPs of one training step with all eight terms, taking backward ≈ 2 × forward.
pub fn step_flops(cfg: &Config, batch: i64, anomaly_batch: i64) -> f64 {
    let (g, d) = (cfg.model.base_width, cfg.model.discriminator_width);
    // G on normals + E(x̂) + D_N thrice (x̂, x, x̂ detached); G on anomalies + D_A thrice.
    let macs = batch * (generator_macs(g) + encoder_macs(g) + 3 * discriminator_macs(d)) + anomaly_batch * (generator_macs(g) + 3 * discriminator_macs(d));
    3.0 * 2.0 * macs as f64
}

fn matmul_gflops() -> f64 {
    let n = 1024;
    let a = Tensor::randn([n, n], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([n, n], (Kind::Float, Device::Cpu));
    let t = time_runs(10, || {
        let _ = a.matmul(&b);
    });
    2.0 * (n * n * n) as f64 / t.median_s / 1e9
}

fn python_json(python: &Path, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new(python).args(args).output().map_err(|e| Error::io(python, e))?;
    if !out.status.success() {
        return Err(Error::Config {
            field: "bench".into(),
            what: format!("{} {} failed: {}", python.display(), args.join(" "), String::from_utf8_lossy(&out.stderr)),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("");
    serde_json::from_str(last).map_err(|e| Error::Config { field: "bench".into(), what: format!("unreadable reference output {last:?}: {e}") })
}

/// The largest |ours − reference| over the eight losses; an error naming the term when one
/// differs by more than [`LOSS_TOLERANCE`] or is missing.
pub fn compare_losses(ours: &LossParts<f64>, reference: &serde_json::Value, batch: i64) -> Result<f64> {
    let mut max_diff = 0f64;
    for (name, v) in LossParts::<f64>::NAMES.iter().zip(ours.terms()) {
        let theirs = reference[name].as_f64().ok_or_else(|| Error::Metric(format!("the PyTorch reference lacks loss {name}")))?;
        let diff = (v.copied().unwrap_or(f64::NAN) - theirs).abs();
        if !(diff <= LOSS_TOLERANCE) {
            return Err(Error::Metric(format!(
                "loss-equivalence check failed at batch {batch}: {name} is {v:?} here and {theirs} in PyTorch (|Δ| {diff:.3e} > {LOSS_TOLERANCE:e})"
            )));
        }
        max_diff = max_diff.max(diff);
    }
    Ok(max_diff)
}

fn step_bench(cfg: &Config, batch: i64, anomaly_batch: i64, runs: usize, opts: &BenchOptions, dir: &Path) -> Result<StepBench> {
    tch::manual_seed(cfg.seed as i64);
    let gan = Gan::new(cfg, Device::Cpu);
    let normals = Tensor::rand([batch, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let anomalies = Tensor::rand([anomaly_batch, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;

    // The shared starting point: weights, inputs and settings in one safetensors file.
    let mut named: Vec<(String, Tensor)> = Vec::new();
    for (net, vs) in gan.stores() {
        for (k, v) in vs.variables() {
            named.push((format!("{net}.{k}"), v));
        }
    }
    named.push(("normals".into(), normals.shallow_clone()));
    named.push(("anomalies".into(), anomalies.shallow_clone()));
    let scalar = |v: f64| Tensor::from(v);
    for (name, v) in [
        ("width", cfg.model.base_width as f64),
        ("disc_width", cfg.model.discriminator_width as f64),
        ("window", cfg.patch.window as f64),
        ("stride", cfg.patch.stride as f64),
        ("top_k", cfg.patch.top_k as f64),
        ("learning_rate", cfg.train.learning_rate),
        ("threads", tch::get_num_threads() as f64),
    ] {
        named.push((name.into(), scalar(v)));
    }
    for (name, v) in LossParts::<f64>::NAMES.iter().zip(cfg.loss.values()) {
        named.push((format!("weight.{name}"), scalar(v)));
    }
    let file = dir.join(format!("bench-b{batch}.safetensors"));
    Tensor::write_safetensors(&named, &file)?;

    // Same losses at the same weights, before anything trains.
    let ours = gan.losses(&cfg.loss, &cfg.patch, &normals, Some(&anomalies)).values();
    let reference = python_json(&opts.python, &[&opts.reference.to_string_lossy(), &file.to_string_lossy(), &runs.to_string()])?;
    let max_diff = compare_losses(&ours, &reference["losses"], batch)?;
    let samples: Vec<f64> = reference["step_s"].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
    if samples.is_empty() {
        return Err(Error::Metric("the PyTorch reference reported no step times".into()));
    }
    let pytorch = Timing::of(samples);

    let mut optimizers = Optimizers::new(&gan, &cfg.train)?;
    let ganad = time_runs(runs, || {
        let parts = gan.losses(&cfg.loss, &cfg.patch, &normals, Some(&anomalies));
        optimizers.update(&parts, &cfg.loss);
    });
    let flops = step_flops(cfg, batch, anomaly_batch);
    Ok(StepBench {
        batch,
        anomaly_batch,
        speedup: pytorch.median_s / ganad.median_s,
        max_loss_difference: max_diff,
        forward_backward_gflop: flops / 1e9,
        ganad_gflops: flops / ganad.median_s / 1e9,
        ganad,
        pytorch,
    })
}

fn auroc_bench(n: usize, runs: usize, opts: &BenchOptions, dir: &Path) -> Result<AurocBench> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
    // Scores on a grid of 10⁴ levels: realistic ties.
    let scores: Vec<f32> = (0..n).map(|_| rng.gen_range(0..10_000) as f32 / 10_000.0).collect();
    let labels: Vec<bool> = (0..n).map(|i| rng.gen_bool(0.9) || i == 0).collect();
    let (sp, lp) = (dir.join(format!("scores-{n}.f32")), dir.join(format!("labels-{n}.u8")));
    std::fs::write(&sp, scores.iter().flat_map(|s| s.to_le_bytes()).collect::<Vec<u8>>()).map_err(|e| Error::io(&sp, e))?;
    std::fs::write(&lp, labels.iter().map(|&l| l as u8).collect::<Vec<u8>>()).map_err(|e| Error::io(&lp, e))?;
    let mut value = 0.0;
    let ganad = time_runs(runs, || value = crate::metrics::auroc(&scores, &labels).unwrap_or(f64::NAN));
    let script = format!(
        "import json, time, numpy as np\nfrom sklearn.metrics import roc_auc_score\ns = np.fromfile('{}', dtype='<f4'); l = np.fromfile('{}', dtype=np.uint8)\nv = roc_auc_score(l, s); t = []\nfor _ in range({runs}):\n    t0 = time.perf_counter(); roc_auc_score(l, s); t.append(time.perf_counter() - t0)\nprint(json.dumps({{'auroc': float(v), 'times': t}}))",
        sp.display(),
        lp.display()
    );
    let reference = python_json(&opts.python, &["-c", &script])?;
    let sklearn = Timing::of(reference["times"].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default());
    let theirs = reference["auroc"].as_f64().unwrap_or(f64::NAN);
    Ok(AurocBench { n, speedup: sklearn.median_s / ganad.median_s, abs_difference: (value - theirs).abs(), ganad, sklearn })
}

/// Runs every measurement (on the CPU, with the default profile's networks).
pub fn run_bench(opts: &BenchOptions) -> Result<BenchReport> {
    let dir = tempfile_dir()?;
    let cfg = Config::preset(Profile::Default);
    let runs = if opts.quick { 5 } else { 20 };
    let mut steps = Vec::new();
    for (batch, anomaly_batch) in [(64, 16), (1, 1)] {
        steps.push(step_bench(&cfg, batch, anomaly_batch, runs, opts, &dir)?);
    }
    // Scoring: the generator over a test-sized set of random images.
    let gan = Gan::new(&cfg, Device::Cpu);
    let n = if opts.quick { 2_000 } else { 10_000 };
    let set = crate::data::ImageSet {
        images: Tensor::rand([n, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0,
        classes: vec![0; n as usize],
        labels: vec![false; n as usize],
        indices: (0..n as usize).collect(),
    };
    let scorer = ReconstructionScorer { generator: &gan.generator };
    let scoring = time_runs(3, || {
        score_set(&scorer, &set, cfg.train.eval_batch_size);
    });
    let sizes: &[usize] = if opts.quick { &[10_000, 100_000] } else { &[10_000, 100_000, 1_000_000] };
    let auroc = sizes.iter().map(|&n| auroc_bench(n, if n >= 1_000_000 { 5 } else { runs }, opts, &dir)).collect::<Result<Vec<_>>>()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BenchReport {
        provenance: crate::run::Provenance::now(),
        machine: format!("{}, {} CPUs", cpu_model(), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        threads: tch::get_num_threads(),
        profile: if opts.quick { "quick".into() } else { "full".into() },
        base_width: cfg.model.base_width,
        matmul_gflops: matmul_gflops(),
        steps,
        scoring_images_per_s: n as f64 / scoring.median_s,
        auroc,
    })
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("ganad-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

impl BenchReport {
    /// The table printed by `ganad bench`.
    pub fn table(&self) -> String {
        let mut s = format!("machine: {} ({} libtorch threads); matmul 1024² {:.1} GFLOP/s\n", self.machine, self.threads, self.matmul_gflops);
        s.push_str("training step (8 losses, G + D_N + D_A, width 32)  ganad median   PyTorch median   PyTorch/ganad   max |Δloss|   GFLOP/step  ganad GFLOP/s\n");
        for b in &self.steps {
            s.push_str(&format!(
                "  batch {:>2} + {:>2} anomalies                          {:>9.2} ms   {:>11.2} ms   {:>11.2}x   {:>10.1e}   {:>9.3}   {:>9.1}\n",
                b.batch, b.anomaly_batch, b.ganad.median_s * 1e3, b.pytorch.median_s * 1e3, b.speedup, b.max_loss_difference, b.forward_backward_gflop, b.ganad_gflops
            ));
        }
        s.push_str(&format!("scoring: {:.0} images/s\n", self.scoring_images_per_s));
        s.push_str("AUROC            ganad median   sklearn median   sklearn/ganad   |Δ|\n");
        for a in &self.auroc {
            s.push_str(&format!("  n = {:>9}  {:>9.3} ms   {:>11.3} ms   {:>11.1}x   {:.1e}\n", a.n, a.ganad.median_s * 1e3, a.sklearn.median_s * 1e3, a.speedup, a.abs_difference));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_equivalence_fails_loudly() {
        let ours = LossParts { reconstruction: Some(0.5), patch: Some(1.0), latent: Some(0.1), normal_adversarial: Some(0.7),
            abc: Some(2.0), anomaly_adversarial: Some(0.6), normal_discriminator: Some(0.69), anomaly_discriminator: Some(0.68) };
        let mut reference = serde_json::to_value(&ours).unwrap();
        for v in reference.as_object_mut().unwrap().values_mut() {
            *v = serde_json::json!(v.as_f64().unwrap() + 5e-5);
        }
        assert!(compare_losses(&ours, &reference, 64).unwrap() < 1e-4);
        reference["abc"] = serde_json::json!(2.001);
        let err = compare_losses(&ours, &reference, 64).unwrap_err().to_string();
        assert!(err.contains("loss-equivalence check failed") && err.contains("abc"), "{err}");
        let missing = compare_losses(&LossParts { latent: None, ..ours.clone() }, &reference, 1).unwrap_err().to_string();
        assert!(missing.contains("latent"), "{missing}");
    }

    #[test]
    fn flops_are_linear_in_the_batches() {
        let cfg = Config::preset(Profile::Default);
        let (normal, anomaly) = (step_flops(&cfg, 1, 0), step_flops(&cfg, 0, 1));
        assert!(normal > anomaly && anomaly > 0.0, "the normal branch also encodes x̂");
        assert_eq!(step_flops(&cfg, 64, 16), 64.0 * normal + 16.0 * anomaly);
        // A 1×1×4×4 → 32 conv: 16·16·32·16 MACs.
        assert_eq!(conv_macs(16, 1, 32, 4), 131_072);
    }
}
