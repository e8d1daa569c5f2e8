//! `ganad bench`: speed measured in one run against references on the same inputs — the GAN
//! training step of the paper's eight losses against a PyTorch eager twin
//! (bench/torch_reference.py, after checking both compute the same losses on the same weights),
//! a whole epoch and a whole class against the twin doing the same, scoring throughput, AUROC
//! against scikit-learn, and the step's FLOP rate against the machine's measured matmul rate.
//!
//! ganad runs as training runs it: in the precision `train.precision = auto` picks (bf16 on a
//! CPU with native bf16 units, else fp32), each discriminator once per reconstruction, gradients
//! only where needed, flat Adam. The twin is what a PyTorch user would write: plain eager fp32,
//! and where ganad trains in bf16, the same under `torch.autocast` bf16. The headline ratios
//! compare equal precisions: ganad fp32 against the fp32 twin, ganad bf16 against the autocast
//! twin. Every phase says on stderr what it times and how long it has run.

use crate::config::{Config, PrecisionChoice, Profile, Recipe};
use crate::data::{ImageSet, Split, SplitData};
use crate::error::{Error, Result};
use crate::experiments::run::Method;
use crate::gan::losses::LossParts;
use crate::gan::score::score_set;
use crate::nets::Precision;
use crate::training::model::Model;
use crate::training::train::Optimizers;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Largest allowed |Δ| between a loss computed here in fp32 and by PyTorch.
pub const LOSS_TOLERANCE: f64 = 1e-4;

/// Largest allowed |Δ| / max(1, |loss|) for the bf16 path: bfloat16 keeps 8 significant bits
/// (relative step 2⁻⁸ ≈ 0.4 %), and a loss goes through some twenty layers of them.
pub const BF16_LOSS_TOLERANCE: f64 = 3e-2;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub quick: bool,
    /// A python with torch, scikit-learn and safetensors ([`find_python`] by default).
    pub python: PathBuf,
    /// The PyTorch twin; `None` = the copy built into the binary ([`TWIN`]).
    pub reference: Option<PathBuf>,
}

/// The PyTorch twin, built into the binary so that `ganad bench` needs no checkout beside it.
pub const TWIN: &str = include_str!("../../../bench/torch_reference.py");

/// The python the bench runs the twin with: `$GANAD_VENV/bin/python`, else the cache's venv
/// (`$GANAD_CACHE`, default `~/.cache/ganad`), else `python3` on the PATH.
pub fn find_python() -> PathBuf {
    let venv = std::env::var_os("GANAD_VENV").map(PathBuf::from).or_else(|| {
        let cache = std::env::var_os("GANAD_CACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/ganad")))?;
        Some(cache.join("venv"))
    });
    venv.map(|v| v.join("bin/python")).filter(|p| p.is_file()).unwrap_or_else(|| "python3".into())
}

/// One line on stderr per phase: what it times, and the seconds since the bench began.
fn progress(started: Instant, what: &str) {
    eprintln!("bench [{:>5.1} s] {what}", started.elapsed().as_secs_f64());
}

/// Median, min and max of timings, in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub runs: usize,
}

/// The median of samples (at least one).
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

impl Timing {
    pub fn of(samples: Vec<f64>) -> Self {
        let (min, max) = samples.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        Timing { min_s: min, max_s: max, runs: samples.len(), median_s: median(samples) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepBench {
    pub batch: i64,
    pub anomaly_batch: i64,
    /// ganad as it trains (the precision `auto` picks; `ganad_fp32` itself where that is fp32).
    pub ganad: Timing,
    /// ganad forced to fp32.
    pub ganad_fp32: Timing,
    pub pytorch: Timing,
    /// The twin under `torch.autocast` bf16, where ganad trains in bf16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pytorch_autocast: Option<Timing>,
    /// The twin again with ganad's allocator preloaded (`LD_PRELOAD`), where ganad's is not
    /// glibc's: what of the speedup the allocator alone explains (not in the quick bench).
    pub pytorch_same_allocator: Option<Timing>,
    /// The headline: the twin at ganad's precision over ganad (fp32 twin / ganad fp32, or
    /// autocast twin / ganad bf16); > 1 means ganad is faster.
    pub speedup_equal_precision: f64,
    /// The fp32 twin over ganad as it trains (bf16 where the CPU has the units): unequal precisions.
    pub speedup: f64,
    pub speedup_same_allocator: Option<f64>,
    /// The fp32 twin over ganad fp32.
    pub speedup_fp32: f64,
    /// The autocast twin over ganad bf16.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup_bf16: Option<f64>,
    /// max |Δloss| against PyTorch, fp32 path (must be ≤ [`LOSS_TOLERANCE`]).
    pub max_loss_difference_fp32: f64,
    /// max |Δloss| / max(1, |loss|) of the precision ganad trains in (≤ [`BF16_LOSS_TOLERANCE`] for bf16).
    pub max_loss_difference: f64,
    pub forward_backward_gflop: f64,
    pub ganad_gflops: f64,
    pub pytorch_gflops: f64,
}

/// A longer stretch timed once on each side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseBench {
    pub what: String,
    pub ganad_s: f64,
    pub pytorch_s: f64,
    pub speedup: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AurocBench {
    pub n: usize,
    pub ganad: Timing,
    pub sklearn: Timing,
    pub speedup: f64,
    pub abs_difference: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    pub provenance: crate::experiments::run::Provenance,
    pub machine: String,
    /// Whether the CPU computes bf16 natively (AVX-512 BF16 / AMX), which `auto` precision uses.
    pub cpu_native_bf16: bool,
    pub precision: String,
    pub threads: i32,
    /// The library whose `malloc` ganad's process calls ([`crate::system::device::allocator`]).
    pub allocator: String,
    pub profile: String,
    pub base_width: i64,
    /// Median rate of 1024² fp32 matrix products, sampled between ganad's blocks of steps.
    pub matmul_gflops_fp32: f64,
    pub matmul_gflops_bf16: Option<f64>,
    /// ganad's rate at batch 64 over the fp32 matmul rate (the twin's precision).
    pub matmul_share_fp32: f64,
    /// ganad's rate at batch 64 in the precision it trains in over the matmul rate of that
    /// precision (fp32 or bf16).
    pub matmul_share: f64,
    pub steps: Vec<StepBench>,
    pub epoch: PhaseBench,
    /// A whole class against the twin (not in the quick bench).
    pub class: Option<PhaseBench>,
    /// Train + score of one class in the default (ganad) recipe on the same data: no twin,
    /// what the improved recipe costs beside the paper's (not in the quick bench).
    pub class_default_recipe_s: Option<f64>,
    pub scoring: PhaseBench,
    pub scoring_ganad_images_per_s: f64,
    pub scoring_pytorch_images_per_s: f64,
    pub auroc: Vec<AurocBench>,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown cpu".into())
}

/// Seconds of each of `runs` calls of `f`, after one warm-up call.
fn time_samples(runs: usize, mut f: impl FnMut()) -> Vec<f64> {
    f();
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect()
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
    conv_macs(16, 1, w, 4)
        + conv_macs(8, w, 2 * w, 4)
        + conv_macs(4, 2 * w, 4 * w, 4)
        + conv_macs(4, 4 * w, 8 * w, 3)
        + conv_macs(4, 8 * w, 1, 3)
        + conv_macs(1, 8 * w, 1, 4)
}

/// FLOPs of one training step with all eight terms, taking backward ≈ 2 × forward: what the
/// method needs, each discriminator once on the originals and once on the reconstructions (the
/// twin runs a third, detached pass that ganad does not; it is not counted for either side).
pub fn step_flops(cfg: &Config, batch: i64, anomaly_batch: i64) -> f64 {
    let (g, d) = (cfg.model.base_width, cfg.model.discriminator_width);
    // G on normals + E(x̂) + D_N twice (x̂, x); G on anomalies + D_A twice.
    let macs = batch * (generator_macs(g) + encoder_macs(g) + 2 * discriminator_macs(d))
        + anomaly_batch * (generator_macs(g) + 2 * discriminator_macs(d));
    3.0 * 2.0 * macs as f64
}

/// The rate (GFLOP/s) of each of `runs` products of two 1024² matrices, after a warm-up.
fn matmul_rates(kind: Kind, runs: usize) -> Vec<f64> {
    let n = 1024;
    let a = Tensor::randn([n, n], (Kind::Float, Device::Cpu)).to_kind(kind);
    let b = Tensor::randn([n, n], (Kind::Float, Device::Cpu)).to_kind(kind);
    let seconds = time_samples(runs, || {
        let _ = a.matmul(&b);
    });
    seconds.into_iter().map(|s| 2.0 * (n * n * n) as f64 / s / 1e9).collect()
}

/// Runs `python args…` (with `preload` as `LD_PRELOAD`, if given) and parses its last line.
fn python_json(python: &Path, preload: Option<&Path>, args: &[&str]) -> Result<serde_json::Value> {
    let mut command = Command::new(python);
    if let Some(lib) = preload {
        command.env("LD_PRELOAD", lib);
    }
    let out = command.args(args).output().map_err(|e| Error::io(python, e))?;
    if !out.status.success() {
        return Err(Error::Config {
            field: "bench".into(),
            what: format!("{} {} failed: {}", python.display(), args.join(" "), String::from_utf8_lossy(&out.stderr)),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("");
    serde_json::from_str(last)
        .map_err(|e| Error::Config { field: "bench".into(), what: format!("unreadable reference output {last:?}: {e}") })
}

/// The largest difference between our losses and the reference's: |Δ| for fp32, |Δ| / max(1,
/// |loss|) for bf16. An error naming the term when one exceeds the precision's tolerance
/// ([`LOSS_TOLERANCE`], [`BF16_LOSS_TOLERANCE`]) or is computed on one side only.
pub fn compare_losses(ours: &LossParts<f64>, reference: &serde_json::Value, batch: i64, precision: Precision) -> Result<f64> {
    let tolerance = match precision {
        Precision::Fp32 => LOSS_TOLERANCE,
        Precision::Bf16 => BF16_LOSS_TOLERANCE,
    };
    let mut max_diff = 0f64;
    for (name, v) in LossParts::<f64>::NAMES.iter().zip(ours.terms()) {
        let diff = match (v, reference[name].as_f64()) {
            (None, None) => continue,
            (Some(ours), Some(theirs)) => match precision {
                Precision::Fp32 => (ours - theirs).abs(),
                Precision::Bf16 => (ours - theirs).abs() / theirs.abs().max(1.0),
            },
            (ours, theirs) => {
                return Err(Error::Metric(format!(
                    "loss-equivalence check failed at batch {batch}: {name} is {ours:?} here and {theirs:?} in PyTorch"
                )))
            }
        };
        if diff.is_nan() || diff > tolerance {
            return Err(Error::Metric(format!(
                "loss-equivalence check failed at batch {batch} ({}): {name} is {v:?} here and {} in PyTorch \
                 (difference {diff:.3e} > {tolerance:e})",
                precision.name(),
                reference[name]
            )));
        }
        max_diff = max_diff.max(diff);
    }
    Ok(max_diff)
}

/// The shared starting point for both sides: weights, inputs and settings in one safetensors file.
fn write_inputs(file: &Path, model: &Model, cfg: &Config, normals: &Tensor, anomalies: &Tensor) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = Vec::new();
    for (net, vs) in model.stores() {
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
        ("eval_batch", cfg.train.eval_batch_size as f64),
        ("learning_rate", cfg.train.learning_rate),
        ("threads", tch::get_num_threads() as f64),
    ] {
        named.push((name.into(), scalar(v)));
    }
    for (name, v) in LossParts::<f64>::NAMES.iter().zip(cfg.loss.values()) {
        named.push((format!("weight.{name}"), scalar(v)));
    }
    Ok(Tensor::write_safetensors(&named, file)?)
}

/// The paper-recipe GAN in a precision, from the same seed (so the same weights).
fn gan_model(cfg: &Config, precision: PrecisionChoice) -> Result<(Config, Model)> {
    let mut cfg = cfg.clone();
    cfg.train.precision = precision;
    tch::manual_seed(cfg.seed as i64);
    let model = Model::new(Method::Gan, &cfg, Device::Cpu)?;
    Ok((cfg, model))
}

/// Training steps as the trainer takes them: every loss, their values (the trainer's one host
/// transfer), the gradients and the three Adam updates. Each [`Stepper::time`] continues the
/// same optimizers.
struct Stepper<'a> {
    cfg: &'a Config,
    model: &'a Model,
    optimizers: Optimizers,
}

impl<'a> Stepper<'a> {
    fn new(cfg: &'a Config, model: &'a Model) -> Self {
        Stepper { cfg, model, optimizers: Optimizers::new(model, cfg) }
    }

    /// One warm-up step, then `runs` timed ones.
    fn time(&mut self, normals: &Tensor, anomalies: &Tensor, runs: usize) -> Vec<f64> {
        let (cfg, model, optimizers) = (self.cfg, self.model, &mut self.optimizers);
        time_samples(runs, || {
            let parts = model.losses(cfg, normals, Some(anomalies));
            let _ = parts.values();
            optimizers.update(model, &parts, &cfg.loss, cfg.train.learning_rate, 0.0).expect("every network has its optimizer");
        })
    }
}

fn reference_samples(reference: &serde_json::Value, key: &str) -> Result<Vec<f64>> {
    let samples: Vec<f64> = reference[key].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
    if samples.is_empty() {
        return Err(Error::Metric(format!("the PyTorch reference reported no {key}")));
    }
    Ok(samples)
}

/// ganad and the twin take turns, `blocks` times `runs / blocks` steps each (the twin in a new
/// process each time), so a machine whose speed drifts during the bench slows both alike. The
/// fp32 matmul rate is sampled in each turn too, into `matmul`.
#[allow(clippy::too_many_arguments)]
fn step_bench(
    cfg: &Config,
    batch: i64,
    anomaly_batch: i64,
    runs: usize,
    blocks: usize,
    opts: &BenchOptions,
    dir: &Path,
    matmul: &mut Vec<f64>,
    started: Instant,
) -> Result<StepBench> {
    progress(
        started,
        &format!(
            "training steps at batch {batch} + {anomaly_batch}: losses checked against the twin, \
         then {runs} steps a side in {blocks} turn(s)"
        ),
    );
    let precision = crate::system::device::precision(PrecisionChoice::Auto, Device::Cpu)?;
    let bf16 = precision == Precision::Bf16;
    let (fp32_cfg, fp32) = gan_model(cfg, PrecisionChoice::Fp32)?;
    // Where ganad trains in fp32, the fp32 model is the one it trains: timed once, not twice.
    let bf16_model = if bf16 { Some(gan_model(cfg, PrecisionChoice::Auto)?) } else { None };
    let normals = Tensor::rand([batch, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let anomalies = Tensor::rand([anomaly_batch, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let file = dir.join(format!("bench-b{batch}.safetensors"));
    write_inputs(&file, &fp32, cfg, &normals, &anomalies)?;

    // Same losses at the same weights, before anything trains: fp32 at 1e-4, and the precision
    // ganad trains in at its own tolerance.
    let per_block = runs.div_ceil(blocks);
    let script = twin_script(opts, dir)?;
    let twin = |n: usize, preload: Option<&Path>, autocast: bool| {
        let mut args = vec![script.to_string_lossy().into_owned(), file.to_string_lossy().into_owned(), n.to_string()];
        if autocast {
            args.push("--autocast".into());
        }
        python_json(&opts.python, preload, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let reference = twin(per_block, None, false)?;
    let losses_of = |c: &Config, m: &Model| m.losses(c, &normals, Some(&anomalies)).values();
    let max_loss_difference_fp32 = compare_losses(&losses_of(&fp32_cfg, &fp32), &reference["losses"], batch, Precision::Fp32)?;
    let max_loss_difference = match &bf16_model {
        Some((c, m)) => compare_losses(&losses_of(c, m), &reference["losses"], batch, precision)?,
        None => max_loss_difference_fp32,
    };

    let (mut ganad_fp32_steps, mut ganad_fp32) = (Vec::new(), Stepper::new(&fp32_cfg, &fp32));
    let (mut ganad_bf16_steps, mut ganad_bf16) = (Vec::new(), bf16_model.as_ref().map(|(c, m)| Stepper::new(c, m)));
    let mut pytorch = reference_samples(&reference, "step_s")?;
    let preload = crate::system::device::allocator().filter(|lib| !opts.quick && !lib.to_string_lossy().contains("libc.so"));
    let (mut pytorch_same_allocator, mut pytorch_autocast) = (Vec::new(), Vec::new());
    for block in 0..blocks {
        if block > 0 {
            pytorch.extend(reference_samples(&twin(per_block, None, false)?, "step_s")?);
        }
        if bf16 {
            pytorch_autocast.extend(reference_samples(&twin(per_block, None, true)?, "step_s")?);
        }
        if let Some(lib) = &preload {
            pytorch_same_allocator.extend(reference_samples(&twin(per_block, Some(lib), false)?, "step_s")?);
        }
        ganad_fp32_steps.extend(ganad_fp32.time(&normals, &anomalies, per_block));
        if let Some(stepper) = ganad_bf16.as_mut() {
            ganad_bf16_steps.extend(stepper.time(&normals, &anomalies, per_block));
        }
        matmul.extend(matmul_rates(Kind::Float, 5));
        progress(started, &format!("  batch {batch}: turn {} of {blocks} done", block + 1));
    }
    let ganad_fp32 = Timing::of(ganad_fp32_steps);
    let (pytorch, ganad) = (Timing::of(pytorch), if bf16 { Timing::of(ganad_bf16_steps) } else { ganad_fp32.clone() });
    let pytorch_same_allocator = preload.map(|_| Timing::of(pytorch_same_allocator));
    let pytorch_autocast = bf16.then(|| Timing::of(pytorch_autocast));
    let speedup_fp32 = pytorch.median_s / ganad_fp32.median_s;
    let speedup_bf16 = pytorch_autocast.as_ref().map(|t| t.median_s / ganad.median_s);
    let flops = step_flops(cfg, batch, anomaly_batch);
    Ok(StepBench {
        batch,
        anomaly_batch,
        speedup_equal_precision: speedup_bf16.unwrap_or(speedup_fp32),
        speedup: pytorch.median_s / ganad.median_s,
        speedup_fp32,
        speedup_bf16,
        pytorch_autocast,
        speedup_same_allocator: pytorch_same_allocator.as_ref().map(|t| t.median_s / ganad.median_s),
        pytorch_same_allocator,
        max_loss_difference_fp32,
        max_loss_difference,
        forward_backward_gflop: flops / 1e9,
        ganad_gflops: flops / ganad.median_s / 1e9,
        pytorch_gflops: flops / pytorch.median_s / 1e9,
        ganad,
        ganad_fp32,
        pytorch,
    })
}

/// The twin's script: `--reference`, or the built-in copy written into the bench's scratch directory.
fn twin_script(opts: &BenchOptions, dir: &Path) -> Result<PathBuf> {
    if let Some(path) = &opts.reference {
        return Ok(path.clone());
    }
    let path = dir.join("torch_reference.py");
    if !path.is_file() {
        crate::system::atomic::write_bytes(&path, TWIN.as_bytes())?;
    }
    Ok(path)
}

/// Random images in [−1, 1] as a set whose labels alternate (so AUROCs are defined).
fn synthetic_set(n: usize) -> ImageSet {
    ImageSet {
        images: Tensor::rand([n as i64, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0,
        classes: (0..n).map(|i| (i % 2) as u8).collect(),
        labels: (0..n).map(|i| i % 2 == 1).collect(),
        indices: (0..n).collect(),
    }
}

/// A split of random images with the sizes of a real one (content does not change the time).
fn synthetic_split(cfg: &Config) -> SplitData {
    let spec = cfg.split_spec();
    let normals = 5400;
    let anomalies = crate::data::split::anomaly_count(spec.anomaly_ratio, normals);
    let (validation, test) = (6000, 10_000);
    SplitData {
        split: Split {
            normal_class: 0,
            train_normal: (0..normals).collect(),
            train_pollution: Vec::new(),
            train_anomaly: (0..anomalies).collect(),
            validation: (0..validation).collect(),
            test: (0..test).collect(),
        },
        train_normal: synthetic_set(normals),
        train_anomaly: synthetic_set(anomalies),
        validation: synthetic_set(validation),
        test: synthetic_set(test),
        prepare_s: 0.0,
    }
}

/// What [`phase_benches`] measures.
struct Phases {
    epoch: PhaseBench,
    class: Option<PhaseBench>,
    class_default_recipe_s: Option<f64>,
    scoring: PhaseBench,
    ganad_images_per_s: f64,
    pytorch_images_per_s: f64,
}

/// One epoch and (unless quick) one whole class (train + score) of the paper's recipe, ganad
/// against the fp32 twin, and ganad's default recipe on the same class.
fn phase_benches(cfg: &Config, opts: &BenchOptions, dir: &Path, started: Instant) -> Result<Phases> {
    let data = synthetic_split(cfg);
    let steps = data.train_normal.len().div_ceil(cfg.train.batch_size);
    let (batch, anomaly_batch) = (cfg.train.batch_size as i64, cfg.train.anomaly_batch_size as i64);
    let (val, test) = (data.validation.len(), data.test.len());
    let epochs = cfg.train.epochs;

    let (_, model) = gan_model(cfg, PrecisionChoice::Fp32)?;
    let file = dir.join("bench-phases.safetensors");
    write_inputs(
        &file,
        &model,
        cfg,
        &data.train_normal.images.narrow(0, 0, batch),
        &data.train_anomaly.images.narrow(0, 0, anomaly_batch),
    )?;
    let script = twin_script(opts, dir)?;
    let (epoch_arg, class_arg, test_arg) = (format!("{steps},{val}"), format!("{epochs},{steps},{val},{test}"), test.to_string());
    let mut args = vec![
        script.to_string_lossy().into_owned(),
        file.to_string_lossy().into_owned(),
        "1".into(),
        "--epoch".into(),
        epoch_arg,
        "--score".into(),
        test_arg,
    ];
    if !opts.quick {
        args.extend(["--class".to_string(), class_arg]);
    }
    progress(
        started,
        &format!(
            "the twin: one epoch ({steps} steps, then {val} validation scores){}, scoring {test} images",
            if opts.quick { "" } else { ", one class" }
        ),
    );
    let reference = python_json(&opts.python, None, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let number = |key: &str| reference[key].as_f64().ok_or_else(|| Error::Metric(format!("the PyTorch reference reported no {key}")));

    progress(started, "ganad: one epoch");
    let run_dir = crate::system::tempdir::TempDir::new("bench-run")?;
    let t = Instant::now();
    let mut trainer = crate::training::train::Trainer::new(Method::Gan, cfg, &data, run_dir.path())?;
    trainer.run_epoch(&mut |_| {})?;
    let epoch_s = t.elapsed().as_secs_f64();
    drop(trainer);

    let timed_class = |cfg: &Config| -> Result<f64> {
        let dir = crate::system::tempdir::TempDir::new("bench-class")?;
        let t = Instant::now();
        let hooks = crate::experiments::experiment::Hooks { on_step: &mut |_| {}, on_epoch: &mut |_| {} };
        crate::experiments::experiment::run(Method::Gan, cfg, None, &data, dir.path(), false, hooks)?;
        Ok(t.elapsed().as_secs_f64())
    };
    let (class_s, default_s) = if opts.quick {
        (None, None)
    } else {
        progress(started, "ganad: one class in the paper's recipe, then one in the default recipe");
        (Some(timed_class(cfg)?), Some(timed_class(&Config::preset(Profile::Default))?))
    };
    progress(started, "ganad: scoring");
    let scorer = crate::gan::score::ReconstructionScorer { generator: &model.gan().expect("a GAN").generator };
    let (_, auto) = gan_model(cfg, PrecisionChoice::Auto)?;
    let auto_scorer = crate::gan::score::ReconstructionScorer { generator: &auto.gan().expect("a GAN").generator };
    let _ = score_set(&scorer, &data.validation, cfg.train.eval_batch_size); // warm-up
    let t = Instant::now();
    score_set(&auto_scorer, &data.test, cfg.train.eval_batch_size);
    let ganad_ips = test as f64 / t.elapsed().as_secs_f64();
    let pytorch_ips = number("score_images_per_s")?;

    let phase = |what: String, ganad_s: f64, pytorch_s: f64| PhaseBench { what, ganad_s, pytorch_s, speedup: pytorch_s / ganad_s };
    let class = match class_s {
        Some(s) => Some(phase(format!("one class: {epochs} epochs, then {test} test scores"), s, number("class_s")?)),
        None => None,
    };
    Ok(Phases {
        epoch: phase(
            format!("one epoch: {steps} steps of {batch} + {anomaly_batch}, then {val} validation scores"),
            epoch_s,
            number("epoch_s")?,
        ),
        class,
        class_default_recipe_s: default_s,
        scoring: phase(
            format!("scoring {test} images (mean ℓ1, batches of {})", cfg.train.eval_batch_size),
            test as f64 / ganad_ips,
            test as f64 / pytorch_ips,
        ),
        ganad_images_per_s: ganad_ips,
        pytorch_images_per_s: pytorch_ips,
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
    let ganad = Timing::of(time_samples(runs, || value = crate::evaluation::metrics::auroc(&scores, &labels).unwrap_or(f64::NAN)));
    let script = format!(
        concat!(
            "import json, time, numpy as np\nfrom sklearn.metrics import roc_auc_score\n",
            "s = np.fromfile('{}', dtype='<f4'); l = np.fromfile('{}', dtype=np.uint8)\n",
            "v = roc_auc_score(l, s); t = []\nfor _ in range({runs}):\n",
            "    t0 = time.perf_counter(); roc_auc_score(l, s); t.append(time.perf_counter() - t0)\n",
            "print(json.dumps({{'auroc': float(v), 'times': t}}))"
        ),
        sp.display(),
        lp.display(),
        runs = runs,
    );
    let reference = python_json(&opts.python, None, &["-c", &script])?;
    let sklearn = Timing::of(reference["times"].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default());
    let theirs = reference["auroc"].as_f64().unwrap_or(f64::NAN);
    Ok(AurocBench { n, speedup: sklearn.median_s / ganad.median_s, abs_difference: (value - theirs).abs(), ganad, sklearn })
}

/// Runs every measurement (on the CPU, the paper's recipe at the default profile's width).
pub fn run_bench(opts: &BenchOptions) -> Result<BenchReport> {
    let started = Instant::now();
    crate::system::device::keep_freed_memory();
    let scratch = crate::system::tempdir::TempDir::new("bench")?;
    let dir = scratch.path().to_path_buf();
    let cfg = Config::recipe(Recipe::Paper, Profile::Default);
    let (runs, blocks) = if opts.quick { (5, 1) } else { (20, 4) };
    let (mut steps, mut matmul) = (Vec::new(), Vec::new());
    // A batch-1 step takes a fiftieth of a batch-64 one: five times the steps still time it
    // for only seconds.
    for (batch, anomaly_batch, runs) in [(64, 16, runs), (1, 1, 5 * runs)] {
        steps.push(step_bench(&cfg, batch, anomaly_batch, runs, blocks, opts, &dir, &mut matmul, started)?);
    }
    let phases = phase_benches(&cfg, opts, &dir, started)?;
    progress(started, "AUROC against scikit-learn");
    let sizes: &[usize] = if opts.quick { &[10_000, 100_000] } else { &[10_000, 100_000, 1_000_000] };
    let auroc = sizes.iter().map(|&n| auroc_bench(n, if n >= 1_000_000 { 5 } else { runs }, opts, &dir)).collect::<Result<Vec<_>>>()?;
    let native = crate::system::device::cpu_native_bf16();
    let matmul_gflops_fp32 = median(matmul);
    let matmul_gflops_bf16 = native.then(|| median(matmul_rates(Kind::BFloat16, 10)));
    let bf16 = steps[0].pytorch_autocast.is_some();
    let own_rate = if bf16 { matmul_gflops_bf16.unwrap_or(matmul_gflops_fp32) } else { matmul_gflops_fp32 };
    progress(started, "done");
    Ok(BenchReport {
        provenance: crate::experiments::run::Provenance::now(),
        machine: format!("{}, {} CPUs", cpu_model(), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        cpu_native_bf16: native,
        precision: crate::system::device::precision(PrecisionChoice::Auto, Device::Cpu)?.name().into(),
        threads: tch::get_num_threads(),
        allocator: crate::system::device::allocator_name(),
        profile: if opts.quick { "quick".into() } else { "full".into() },
        base_width: cfg.model.base_width,
        matmul_share_fp32: steps[0].ganad_gflops / matmul_gflops_fp32,
        matmul_share: steps[0].ganad_gflops / own_rate,
        matmul_gflops_fp32,
        matmul_gflops_bf16,
        steps,
        epoch: phases.epoch,
        class: phases.class,
        class_default_recipe_s: phases.class_default_recipe_s,
        scoring: phases.scoring,
        scoring_ganad_images_per_s: phases.ganad_images_per_s,
        scoring_pytorch_images_per_s: phases.pytorch_images_per_s,
        auroc,
    })
}

impl BenchReport {
    /// The table printed by `ganad bench`.
    pub fn table(&self) -> String {
        let mut s = format!(
            "machine: {} ({} libtorch threads); native bf16: {}; ganad trains in {}; allocator {}\nmatmul 1024²: {:.0} GFLOP/s fp32{}\n",
            self.machine,
            self.threads,
            self.cpu_native_bf16,
            self.precision,
            self.allocator,
            self.matmul_gflops_fp32,
            self.matmul_gflops_bf16.map(|g| format!(", {g:.0} GFLOP/s bf16")).unwrap_or_default()
        );
        s.push_str("training step, paper's 8 losses (G + D_N + D_A), width 32\n");
        s.push_str("                          fp32: ganad    twin      twin/ganad   bf16: ganad    twin (autocast)   twin/ganad");
        s.push_str("   max Δloss fp32 / bf16   GFLOP/step\n");
        for b in &self.steps {
            let bf16 = match (&b.pytorch_autocast, b.speedup_bf16) {
                (Some(t), Some(x)) => format!("{:>9.1} ms   {:>9.1} ms      {:>6.3}x", b.ganad.median_s * 1e3, t.median_s * 1e3, x),
                _ => format!("{:>9} {:>17} {:>12}", "—", "—", "—"),
            };
            // Where ganad trains in fp32 there is no bf16 loss to compare.
            let bf16_loss = if b.speedup_bf16.is_some() { format!("{:.1e}", b.max_loss_difference) } else { "—".to_string() };
            s.push_str(&format!(
                "  batch {:>2} + {:>2}   {:>9.1} ms {:>7.1} ms   {:>6.3}x   {bf16}   {:.1e} / {bf16_loss:<7}       {:>7.3}\n",
                b.batch,
                b.anomaly_batch,
                b.ganad_fp32.median_s * 1e3,
                b.pytorch.median_s * 1e3,
                b.speedup_fp32,
                b.max_loss_difference_fp32,
                b.forward_backward_gflop
            ));
        }
        for b in self.steps.iter().filter(|b| b.speedup_bf16.is_some()) {
            s.push_str(&format!(
                "  batch {:>2}: at equal precision {:.3}x (ganad as it trains against the fp32 twin: {:.3}x, unequal precisions)\n",
                b.batch, b.speedup_equal_precision, b.speedup
            ));
        }
        for b in &self.steps {
            if let (Some(t), Some(x)) = (&b.pytorch_same_allocator, b.speedup_same_allocator) {
                s.push_str(&format!(
                    "  batch {:>2}: the twin with ganad's allocator preloaded {:>7.1} ms, PyTorch/ganad {:.3}x\n",
                    b.batch,
                    t.median_s * 1e3,
                    x
                ));
            }
        }
        let fp32_share =
            if self.precision == "fp32" { String::new() } else { format!(" ({:.1} % of the fp32 rate)", self.matmul_share_fp32 * 100.0) };
        s.push_str(&format!(
            "ganad at batch 64 ({}): {:.1} % of the {} matmul rate{fp32_share}\n",
            self.precision,
            self.matmul_share * 100.0,
            self.precision,
        ));
        for p in [Some(&self.epoch), self.class.as_ref(), Some(&self.scoring)].into_iter().flatten() {
            s.push_str(&format!("{:<70} ganad {:>7.2} s   PyTorch fp32 {:>7.2} s   {:>5.2}x\n", p.what, p.ganad_s, p.pytorch_s, p.speedup));
        }
        s.push_str(&format!(
            "scoring: ganad {:.0} images/s, PyTorch {:.0} images/s\n",
            self.scoring_ganad_images_per_s, self.scoring_pytorch_images_per_s
        ));
        if let Some(t) = self.class_default_recipe_s {
            s.push_str(&format!("one class in ganad's default recipe (same data): {t:.1} s\n"));
        }
        s.push_str("AUROC            ganad median   sklearn median   sklearn/ganad   |Δ|\n");
        for a in &self.auroc {
            s.push_str(&format!(
                "  n = {:>9}  {:>9.3} ms   {:>11.3} ms   {:>11.1}x   {:.1e}\n",
                a.n,
                a.ganad.median_s * 1e3,
                a.sklearn.median_s * 1e3,
                a.speedup,
                a.abs_difference
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_equivalence_fails_loudly() {
        let ours = LossParts {
            reconstruction: Some(0.5),
            patch: Some(1.0),
            latent: Some(0.1),
            normal_adversarial: Some(0.7),
            abc: Some(2.0),
            anomaly_adversarial: Some(0.6),
            classification: None,
            normal_discriminator: Some(0.69),
            anomaly_discriminator: Some(0.68),
            discriminator_classification: None,
            rotation: None,
            ..Default::default()
        };
        let mut reference = serde_json::to_value(&ours).unwrap();
        reference.as_object_mut().unwrap().remove("classification");
        reference.as_object_mut().unwrap().remove("discriminator_classification");
        reference.as_object_mut().unwrap().remove("rotation");
        reference.as_object_mut().unwrap().remove("deep_sad_pretraining");
        reference.as_object_mut().unwrap().remove("deep_sad");
        for v in reference.as_object_mut().unwrap().values_mut() {
            *v = serde_json::json!(v.as_f64().unwrap() + 5e-5);
        }
        assert!(compare_losses(&ours, &reference, 64, Precision::Fp32).unwrap() < 1e-4);
        reference["abc"] = serde_json::json!(2.001);
        let err = compare_losses(&ours, &reference, 64, Precision::Fp32).unwrap_err().to_string();
        assert!(err.contains("loss-equivalence check failed") && err.contains("abc"), "{err}");
        // bf16 is held to its relative tolerance: 0.001 on 2.0 passes, 0.1 does not.
        assert!(compare_losses(&ours, &reference, 64, Precision::Bf16).unwrap() < BF16_LOSS_TOLERANCE);
        reference["abc"] = serde_json::json!(2.1);
        assert!(compare_losses(&ours, &reference, 64, Precision::Bf16).unwrap_err().to_string().contains("bf16"));
        let missing = compare_losses(&LossParts { latent: None, ..ours.clone() }, &reference, 1, Precision::Fp32).unwrap_err().to_string();
        assert!(missing.contains("latent"), "{missing}");
    }

    #[test]
    fn timings_give_the_median_and_the_range() {
        let t = Timing::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((t.median_s, t.min_s, t.max_s, t.runs), (2.0, 1.0, 3.0, 3));
        assert_eq!(Timing::of(vec![4.0, 1.0, 3.0, 2.0]).median_s, 2.5);
    }

    #[test]
    fn the_table_shows_bf16_only_where_ganad_trains_in_it() {
        let report = |name: &str| -> BenchReport {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results").join(name);
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
        };
        let fp32 = report("bench-amd-avx2.json");
        assert_eq!(fp32.precision, "fp32");
        let table = fp32.table();
        assert!(!table.contains("unequal precisions") && !table.contains("of the fp32 rate"), "{table}");
        assert!(table.contains("ganad at batch 64 (fp32)") && table.contains(" / —"), "{table}");
        let bf16 = report("bench-amx.json").table();
        assert!(bf16.contains("at equal precision") && bf16.contains("of the fp32 rate"), "{bf16}");
    }

    #[test]
    fn flops_are_linear_in_the_batches() {
        let cfg = Config::recipe(Recipe::Paper, Profile::Default);
        let (normal, anomaly) = (step_flops(&cfg, 1, 0), step_flops(&cfg, 0, 1));
        assert!(normal > anomaly && anomaly > 0.0, "the normal branch also encodes x̂");
        assert_eq!(step_flops(&cfg, 64, 16), 64.0 * normal + 16.0 * anomaly);
        // A 1×1×4×4 → 32 conv: 16·16·32·16 MACs.
        assert_eq!(conv_macs(16, 1, 32, 4), 131_072);
    }
}
