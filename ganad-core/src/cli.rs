//! Command-line interface. Each subcommand maps onto library calls; clap's doc comments are the help.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use ganad_core::config::{Config, Profile, Recipe};
use ganad_core::data::{self, FashionMnist, SourceOptions};
use ganad_core::evaluate::evaluate_scores;
use ganad_core::experiment::{self, Hooks};
use ganad_core::losses::LossWeights;
use ganad_core::metrics::ThresholdRule;
use ganad_core::run::{Method, RunRecord};
use ganad_core::sweep::{self, SweepPlan};
use ganad_core::tables;
use ganad_core::train::{EpochRecord, StepRecord};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "ganad", version, about = "GAN-based anomaly detection on Fashion-MNIST (Kim et al., ECCV 2020 workshops)")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the installation: libtorch, CUDA, threads, dataset, notebook kernel.
    Doctor,
    /// Dataset commands.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Train the GAN on one normal class and evaluate it on the test split.
    Train(ExperimentArgs),
    /// Run a baseline (classifier, autoencoder, random or Deep SAD) on exactly the GAN's split.
    Baseline {
        /// Which baseline: classifier, ae, random or deep-sad.
        #[arg(long)]
        kind: Method,
        #[command(flatten)]
        args: ExperimentArgs,
    },
    /// Recompute metrics and tables from a saved run.json.
    Eval {
        /// A run directory (or its run.json).
        run: PathBuf,
        /// Pick the threshold by this rule instead of the run's.
        #[arg(long)]
        threshold_rule: Option<ThresholdRule>,
        /// Rebuild the networks from the checkpoint the run reports and rescore its test and threshold images.
        #[arg(long)]
        rescore: bool,
    },
    /// Score a finished GAN run's weights under another score config and write the result as a
    /// run of its own (score studies without retraining; the run must report its last epoch).
    Rescore {
        /// The finished GAN run (with the checkpoint of the epoch it reports).
        run: PathBuf,
        /// Changes to the run's `eval.score`, as JSON, e.g. '{"anomaly_head": 0, "discriminator_head": 0}'.
        #[arg(long)]
        score: String,
        /// Where the rescored run goes.
        #[arg(long)]
        out: PathBuf,
    },
    /// One-vs-rest over several classes and seeds; writes every run and a summary table.
    Sweep(SweepArgs),
    /// The labels curve from DIR's sweeps (one per anomaly ratio, `DIR/ratio*`): writes
    /// `labels_curve.svg` and `labels_curve.md` into DIR.
    LabelsCurve {
        /// The directory holding one sweep per anomaly ratio.
        dir: PathBuf,
    },
    /// Compare variants of the GAN on the same classes and seeds: the levers (paper, paper + each
    /// lever, ganad) or the precision (auto against fp32). Writes the runs and a table.
    Ablation(AblationArgs),
    /// Speed against references measured in the same run: PyTorch eager training step,
    /// scikit-learn AUROC, matmul rate. Writes a JSON report.
    Bench {
        /// Fewer repetitions, no whole class (a few minutes; every phase prints a progress line).
        #[arg(long)]
        quick: bool,
        /// Python with torch, scikit-learn and safetensors (default: $GANAD_VENV, else the cache's venv, else python3).
        #[arg(long)]
        python: Option<PathBuf>,
        /// The PyTorch twin (default: the copy of bench/torch_reference.py built into the binary).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Where to write the report.
        #[arg(long, default_value = "results/bench.json")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Verify the dataset (sizes, sha256 of the decompressed files) and print counts per class.
    Check {
        /// Directory holding the four files (raw or .gz).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Download the official files into the cache if no verified copy is found.
        #[arg(long)]
        download: bool,
    },
}

#[derive(Args, Clone)]
struct ConfigArgs {
    /// Compute profile (also GANAD_PROFILE): quick = CI-sized, default = laptop CPU, full = GPU.
    #[arg(long)]
    profile: Option<Profile>,
    /// Method recipe (also GANAD_RECIPE): ganad (default; the measured levers) or paper (Kim et al. as published).
    #[arg(long)]
    recipe: Option<Recipe>,
    /// JSON config; its fields override the profile's.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Anomaly ratio: labelled anomalies per normal training image (0 = normal-only: the model
    /// then drops D_A and the anomaly heads, which learn from labelled anomalies, with their weights).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "labelled_share")]
    anomaly_ratio: Option<f64>,
    /// Deep SAD's γ_l instead of --anomaly-ratio: labelled anomalies as a share of all training
    /// images (themselves and the pollution included); converted to the anomaly ratio.
    #[arg(long, allow_hyphen_values = true)]
    labelled_share: Option<f64>,
    /// The anomaly classes the labelled anomalies come from, e.g. 1 or 1,3 (default: all nine).
    #[arg(long, value_name = "CLASSES")]
    known_anomaly_classes: Option<String>,
    /// Deep SAD's γ_p: the share of unlabelled training images that are anomalies of any class
    /// (never labelled: every method trains on them as normal).
    #[arg(long, allow_hyphen_values = true)]
    pollution: Option<f64>,
    /// Share of the training normals held out to validate (0 = train on all, no validation set).
    #[arg(long, allow_hyphen_values = true)]
    validation_share: Option<f64>,
    /// Which epoch the run reports: last (of the fixed schedule; the default) or best-validation.
    #[arg(long)]
    checkpoint: Option<ganad_core::config::CheckpointRule>,
    /// Seed for the split, the weights and the batch order.
    #[arg(long)]
    seed: Option<u64>,
    /// A loss weight, name=value (repeatable).
    #[arg(long = "weight", value_name = "NAME=VALUE", help = LossWeights::help())]
    weights: Vec<String>,
    /// Number of epochs (overrides the profile).
    #[arg(long)]
    epochs: Option<usize>,
    /// auto, cpu, cuda or cuda:N.
    #[arg(long)]
    device: Option<String>,
    /// Dataset directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ExperimentArgs {
    /// The normal class, 0..9.
    #[arg(long)]
    normal_class: i64,
    #[command(flatten)]
    config: ConfigArgs,
    /// Output directory (config.json, checkpoints/, run.json).
    #[arg(long)]
    out: PathBuf,
    /// Continue a killed run from its last checkpoint in --out.
    #[arg(long)]
    resume: bool,
}

#[derive(Args)]
struct SweepArgs {
    /// Classes, e.g. 0-9 or 0,3,6.
    #[arg(long, default_value = "0-9")]
    classes: String,
    /// Seeds per class (seeds 0..N).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Methods to run, comma-separated: gan, classifier, ae, random, deep-sad; `name:N` runs
    /// only the first N seeds of that method (e.g. ae:1).
    #[arg(long, default_value = "gan,classifier,ae,random")]
    methods: String,
    /// Deep SAD's grid: every normal class with each other class in turn as the one known
    /// anomaly class (90 pairs over ten classes).
    #[arg(long)]
    pairs: bool,
    /// Run only part K of N of the grid (1 ≤ K ≤ N; e.g. one part per job of a scheduler).
    /// Parts are fixed and disjoint; `--collect` then writes the summary.
    #[arg(long, value_name = "K/N")]
    shard: Option<sweep::Shard>,
    /// Write the summary of the sweep directory DIR from the runs it holds, naming any missing;
    /// trains nothing.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["shard", "out"])]
    collect: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    /// The sweep directory (one run directory per class × seed × method).
    #[arg(long, required_unless_present = "collect")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct AblationArgs {
    /// What to compare.
    #[arg(long, default_value = "levers")]
    study: ganad_core::ablation::Study,
    /// Classes, e.g. 0,2,3,6.
    #[arg(long, default_value = "0,2,3,6")]
    classes: String,
    /// Seeds per class (seeds 0..N).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Compute profile (also GANAD_PROFILE).
    #[arg(long)]
    profile: Option<Profile>,
    /// Anomaly ratio of every variant.
    #[arg(long, default_value_t = 0.01)]
    anomaly_ratio: f64,
    /// Which epoch the runs report: last (the default) or best-validation (the committed studies').
    #[arg(long, default_value = "last")]
    checkpoint: ganad_core::config::CheckpointRule,
    /// A sweep directory whose finished GAN runs with the same config are copied instead of retrained.
    #[arg(long)]
    reuse: Option<PathBuf>,
    /// Run only part K of N of every variant (several processes or scheduler jobs share a study;
    /// each writes the table from all finished runs).
    #[arg(long, value_name = "K/N")]
    shard: Option<sweep::Shard>,
    /// Where the variants' runs and the table go.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Doctor => doctor(),
        Command::Data { command: DataCommand::Check { data_dir, download } } => data_check(data_dir, download),
        Command::Train(args) => experiment_command(Method::Gan, args),
        Command::Baseline { kind: Method::Gan, .. } => {
            bail!("gan is not a baseline; use `ganad train`, or --kind classifier|ae|random|deep-sad")
        }
        Command::Baseline { kind, args } => experiment_command(kind, args),
        Command::Eval { run, threshold_rule, rescore } => eval(&run, threshold_rule, rescore),
        Command::Rescore { run, score, out } => rescore(&run, &score, &out),
        Command::Sweep(args) => sweep(args),
        Command::Ablation(args) => ablation(args),
        Command::LabelsCurve { dir } => labels_curve(&dir),
        Command::Bench { quick, python, reference, out } => bench(quick, python, reference, &out),
    }
}

impl ConfigArgs {
    /// Profile preset ← config file (field by field) ← flags.
    fn build(&self, normal_class: i64) -> Result<(Config, Profile)> {
        let profile = match self.profile {
            Some(p) => p,
            None => Profile::from_env()?,
        };
        let recipe = match self.recipe {
            Some(r) => r,
            None => Recipe::from_env()?,
        };
        let mut cfg = Config::recipe(recipe, profile);
        if let Some(path) = &self.config {
            cfg = overlay_file(&cfg, path)?;
        }
        cfg.data.normal_class = data::fashion_mnist::check_class(normal_class)?;
        if let Some(classes) = &self.known_anomaly_classes {
            cfg.data.known_anomaly_classes = Some(sweep::parse_classes(classes)?);
        }
        if let Some(p) = self.pollution {
            cfg.data.pollution = p;
        }
        if let Some(v) = self.validation_share {
            cfg.data.validation_share = v;
        }
        if let Some(rule) = self.checkpoint {
            cfg.train.checkpoint = rule;
        }
        if let Some(r) = self.anomaly_ratio {
            cfg.set_anomaly_ratio(r);
        }
        if let Some(share) = self.labelled_share {
            if !(0.0..1.0).contains(&share) {
                bail!("--labelled-share {share} must lie in [0, 1) (Deep SAD's γ_l, e.g. 0.01)");
            }
            cfg.set_anomaly_ratio(data::split::ratio_for_labelled_share(share, cfg.data.pollution));
        }
        if let Some(s) = self.seed {
            cfg.seed = s;
        }
        if let Some(e) = self.epochs {
            cfg.train.epochs = e;
        }
        if let Some(d) = &self.device {
            cfg.train.device = d.clone();
        }
        if let Some(d) = &self.data_dir {
            cfg.data.data_dir = Some(d.clone());
        }
        for w in &self.weights {
            cfg.loss.apply_assignment(w)?;
        }
        cfg.validate()?;
        Ok((cfg, profile))
    }
}

/// The fields of a JSON file laid over `base` (unknown fields are errors), as
/// [`Config::from_file`] lays one over its recipe.
fn overlay_file(base: &Config, path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
    let top: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("config {} is not valid JSON", path.display()))?;
    base.overlay(top).with_context(|| format!("invalid config {}", path.display()))
}

fn doctor() -> Result<()> {
    let cuda_loaded = ganad_core::device::load_cuda();
    println!("ganad {}", env!("CARGO_PKG_VERSION"));
    match (ganad_core::run::libtorch_version(), ganad_core::device::libtorch_lib_dir()) {
        (Some(v), Some(dir)) => println!("libtorch: {v} at {dir}"),
        (v, dir) => println!(
            "libtorch: {} at {} — fix: run `make setup` (installs torch==2.11.0 into .venv)",
            v.unwrap_or("unknown".into()),
            dir.unwrap_or("unknown".into())
        ),
    }
    let cuda = tch::Cuda::is_available();
    println!(
        "CUDA: {} ({} devices; libtorch_cuda {})",
        if cuda { "available" } else { "not available — training runs on the CPU" },
        tch::Cuda::device_count(),
        if cuda_loaded { "loaded" } else { "not loaded" }
    );
    println!("threads: {} (libtorch), {} CPUs", tch::get_num_threads(), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    match ganad_core::device::allocator_name() {
        name if name.contains("tcmalloc") => println!("allocator: {name}"),
        name => println!(
            "allocator: {name} — small batches train faster with tcmalloc: `apt install libtcmalloc-minimal4`, then rebuild (`make setup`)"
        ),
    }
    let units = ganad_core::device::cpu_bf16_units();
    if units.is_empty() {
        println!("CPU bf16: no native units (avx512_bf16, amx_bf16) — train.precision auto trains in fp32");
    } else {
        println!("CPU bf16: native ({}) — train.precision auto trains the CPU's convolutions in bf16", units.join(", "));
    }
    match data::source::locate(&SourceOptions::from_env(None)) {
        Ok(dir) => println!("dataset: found at {} (run `ganad data check` to verify checksums)", dir.display()),
        Err(e) => println!("dataset: {e}"),
    }
    let kernel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/share/jupyter/kernels/ganad-rust/kernel.json");
    if kernel.is_file() {
        println!("notebook kernel: ganad-rust registered ({})", kernel.display());
    } else {
        println!("notebook kernel: not registered — fix: run `make setup` (installs evcxr_jupyter and registers ganad-rust)");
    }
    Ok(())
}

fn data_check(data_dir: Option<PathBuf>, download: bool) -> Result<()> {
    let mut opts = SourceOptions::from_env(data_dir);
    opts.allow_download |= download;
    let ds = FashionMnist::load(&opts)?;
    println!("Fashion-MNIST verified at {} (sha256 of all four decompressed files match)", ds.source.display());
    println!("{:>2}  {:<12} {:>6} {:>6}", "k", "class", "train", "test");
    let (train, test) = (ds.train.class_counts(), ds.test.class_counts());
    for k in 0..data::NUM_CLASSES {
        println!("{k:>2}  {:<12} {:>6} {:>6}", data::CLASS_NAMES[k], train[k], test[k]);
    }
    println!("    {:<12} {:>6} {:>6}", "total", ds.train.len(), ds.test.len());
    Ok(())
}

/// A progress bar on a terminal, one line per epoch everywhere.
fn run_one(
    method: Method,
    cfg: &Config,
    profile: Profile,
    data: &ganad_core::data::SplitData,
    out: &Path,
    resume: bool,
) -> ganad_core::Result<RunRecord> {
    let steps_per_epoch = data.train_normal.len().div_ceil(cfg.train.batch_size) as u64;
    let trains = method.trains();
    let bar = indicatif::ProgressBar::new(if trains { steps_per_epoch * cfg.train.epochs as u64 } else { 0 });
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps {elapsed_precise} {msg}").unwrap());
    if !trains {
        bar.finish_and_clear();
    }
    let mut on_step = |r: &StepRecord| {
        bar.set_position(r.epoch as u64 * steps_per_epoch + (r.step as u64 - 1) % steps_per_epoch + 1);
        if let Some(t) = r.generator_total {
            bar.set_message(format!("G {t:.4}"));
        }
    };
    // A hidden bar (no terminal: logs, pipes) drops `println`, and logs want the epoch lines most.
    let mut on_epoch = |e: &EpochRecord| if bar.is_hidden() { println!("{}", e.summary()) } else { bar.println(e.summary()) };
    let record = experiment::run(method, cfg, Some(profile), data, out, resume, Hooks { on_step: &mut on_step, on_epoch: &mut on_epoch })?;
    bar.finish_and_clear();
    Ok(record)
}

fn experiment_command(method: Method, args: ExperimentArgs) -> Result<()> {
    let (cfg, profile) = args.config.build(args.normal_class)?;
    if !args.resume && args.out.join(RunRecord::FILE).exists() {
        bail!("{} already holds a finished run; choose another --out, or delete it", args.out.display());
    }
    if args.resume && !ganad_core::checkpoint::exists(&args.out.join("checkpoints").join("last")) {
        println!("no checkpoint in {} yet: starting the run from step 0", args.out.display());
    }
    let data = experiment::prepare(&cfg)?;
    let method_cfg = experiment::method_config(method, &cfg, Some(profile));
    let sizes = ganad_core::run::SplitSizes::of(&data.split);
    println!(
        "{} ({} profile, device {}): {}",
        method.name(),
        profile.name(),
        ganad_core::device::describe(data.device()),
        ganad_core::protocol::describe(&method_cfg, &sizes)
    );
    let record = run_one(method, &cfg, profile, &data, &args.out, args.resume)?;
    print_summary(&record)?;
    println!("wrote {}", args.out.join(RunRecord::FILE).display());
    Ok(())
}

fn print_summary(r: &RunRecord) -> Result<()> {
    let e = &r.evaluation;
    let validation = e.validation.as_ref().map_or_else(String::new, |v| format!("; their AUROC {:.5}", v.auroc));
    println!(
        "test AUROC {:.5}  AP {:.5}  F1 {:.4} at threshold {:.5} ({:?} on the {} images{validation}); train {:.1} s",
        e.test.auroc, e.test.average_precision, e.test.f1, e.threshold.value, e.threshold.rule, e.threshold.chosen_on, r.timings.train_s
    );
    println!("{}", r.protocol);
    println!("{}", tables::confusion_table(&e.test.confusion)?);
    println!("{}", tables::per_class_table(&e.per_class, r.normal_class)?);
    Ok(())
}

fn eval(run: &Path, rule: Option<ThresholdRule>, rescore: bool) -> Result<()> {
    let mut record = RunRecord::load(run).with_context(|| format!("loading {}", run.display()))?;
    let dir = if run.is_dir() { run.to_path_buf() } else { run.parent().unwrap_or(Path::new(".")).to_path_buf() };
    let rule = rule.unwrap_or(record.evaluation.threshold.rule);
    if rescore {
        if !record.method.trains() {
            bail!("a {} run has no checkpoint to rescore", record.method.name());
        }
        let data = experiment::prepare(&record.config)?;
        let (cfg, _, model) = experiment::load_reported(&dir, data.device())?;
        let scorer = model.scorer(&cfg, &data.train_normal);
        let (evaluation, _, scores) = ganad_core::evaluate::evaluate(scorer.as_ref(), &data, rule, cfg.train.eval_batch_size)?;
        let max_diff = scores.iter().zip(&record.test_scores).map(|(a, b)| (a.score - b.score).abs()).fold(0f32, f32::max);
        println!(
            "rescored {} test images from the checkpoint: largest difference to {} {max_diff:.2e}",
            scores.len(),
            RunRecord::TEST_SCORES
        );
        record.evaluation = evaluation;
    } else {
        record.evaluation = evaluate_scores(
            &record.evaluation.scorer,
            &record.validation_scores,
            &record.test_scores,
            rule,
            &record.evaluation.threshold.chosen_on,
        )?;
    }
    print_summary(&record)?;
    Ok(())
}

fn rescore(run: &Path, changes: &str, out: &Path) -> Result<()> {
    let source = RunRecord::load(run).with_context(|| format!("loading {}", run.display()))?;
    let score = ganad_core::rescore::changed_score(&source.config.eval.score, changes)?;
    let record = ganad_core::rescore::rescore(run, score, out)?;
    println!(
        "{} rescored: test AUROC {:.5} (it reported {:.5}); wrote {}",
        run.display(),
        record.evaluation.test.auroc,
        source.evaluation.test.auroc,
        out.join(RunRecord::FILE).display()
    );
    Ok(())
}

fn sweep(args: SweepArgs) -> Result<()> {
    if let Some(dir) = &args.collect {
        let (records, missing) = sweep::collect(dir).with_context(|| format!("collecting {}", dir.display()))?;
        let summary = ganad_core::summaries::write_summary(dir, &records, &missing)?;
        println!("{summary}");
        println!("collected {} runs into {}", records.len(), dir.join("summary.json").display());
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().take(12).map(|m| m.to_string()).collect();
            let more = if missing.len() > names.len() {
                format!(" and {} more (summary.json lists them all)", missing.len() - names.len())
            } else {
                String::new()
            };
            eprintln!("missing {} of the plan's runs: {}{more}", missing.len(), names.join(", "));
        }
        return Ok(());
    }
    let out = args.out.clone().expect("clap requires --out without --collect");
    let (base, profile) = args.config.build(0)?;
    let (methods, seed_limits) = sweep::parse_methods(&args.methods)?;
    let plan = SweepPlan {
        base,
        profile: Some(profile),
        classes: sweep::parse_classes(&args.classes)?,
        seeds: (0..args.seeds).collect(),
        methods,
        seed_limits,
        pairs: args.pairs,
        reuse: None,
        out: out.clone(),
    };
    let mut one = |method: Method, cfg: &Config, data: &ganad_core::data::SplitData, dir: &Path, resume: bool| {
        println!("{}{}", dir.file_name().unwrap_or_default().to_string_lossy(), if resume { " (resuming)" } else { "" });
        run_one(method, cfg, profile, data, dir, resume)
    };
    let mut done = |r: &RunRecord| {
        println!("{} ({}): test AUROC {:.5}", sweep::run_dir_name(r), data::CLASS_NAMES[r.normal_class as usize], sweep::reported_auroc(r))
    };
    let records = sweep::run_sweep(&plan, args.shard, &mut one, &mut done)?;
    if let Some(shard) = args.shard {
        println!(
            "shard {}/{} done ({} runs); `ganad sweep --collect {}` writes the summary",
            shard.index,
            shard.count,
            records.len(),
            out.display()
        );
        return Ok(());
    }
    let summary = ganad_core::summaries::write_summary(&out, &records, &[])?;
    println!("{summary}");
    println!("wrote {}", out.join("summary.json").display());
    Ok(())
}

fn labels_curve(dir: &Path) -> Result<()> {
    let points = ganad_core::comparison::labels_curve(dir).with_context(|| format!("reading the sweeps in {}", dir.display()))?;
    if points.is_empty() {
        bail!(
            "{} holds no sweep (expected one per anomaly ratio, e.g. {}/ratio0.01); run `make labels-curve`",
            dir.display(),
            dir.display()
        );
    }
    let table = ganad_core::comparison::labels_table(&points)?;
    ganad_core::comparison::labels_chart(&points)?.save(&dir.join("labels_curve.svg"))?;
    let md = format!(
        "Test AUROC (each run's last epoch) against the number of labelled anomalies, mean over the normal classes of each sweep.\n\n\
         {}\nProtocol: ganad's all-nine protocol (5,400 training normals, 600 + 5,400 validation images held out, labelled \
         anomalies spread evenly over the nine anomaly classes); profile and classes as in each sweep's plan.json.\n",
        tables::to_markdown(&table)
    );
    ganad_core::atomic::write_bytes(&dir.join("labels_curve.md"), md.as_bytes())?;
    println!("{table}");
    println!("wrote {} and {}", dir.join("labels_curve.svg").display(), dir.join("labels_curve.md").display());
    Ok(())
}

fn ablation(args: AblationArgs) -> Result<()> {
    let profile = match args.profile {
        Some(p) => p,
        None => Profile::from_env()?,
    };
    ganad_core::data::split::check_ratio(args.anomaly_ratio)?;
    let classes = sweep::parse_classes(&args.classes)?;
    let seeds: Vec<u64> = (0..args.seeds).collect();
    let mut one = |method: Method, cfg: &Config, data: &ganad_core::data::SplitData, dir: &Path, resume: bool| {
        println!(
            "{} class {} seed {}{}",
            dir.parent().and_then(|p| p.file_name()).unwrap_or_default().to_string_lossy(),
            cfg.data.normal_class,
            cfg.seed,
            if resume { " (resuming)" } else { "" }
        );
        run_one(method, cfg, profile, data, dir, resume)
    };
    let mut done = |variant: &str, r: &RunRecord| {
        println!("{variant}: class {} seed {}: test AUROC {:.5}", r.normal_class, r.seed, r.evaluation.test.auroc)
    };
    let plan = ganad_core::ablation::StudyPlan {
        study: args.study,
        profile,
        anomaly_ratio: args.anomaly_ratio,
        classes,
        seeds,
        out: args.out.clone(),
        reuse: args.reuse.clone(),
        shard: args.shard,
        checkpoint: args.checkpoint,
    };
    let study = plan.study;
    let mut write =
        |results: &[ganad_core::ablation::VariantResult]| ganad_core::studies::write_table(&args.out, study, results).map(|_| ());
    let results = ganad_core::ablation::run_study(&plan, &mut one, &mut done, &mut write)?;
    println!("{}", ganad_core::studies::table(&results)?);
    println!("wrote the table into {}", args.out.display());
    Ok(())
}

fn bench(quick: bool, python: Option<PathBuf>, reference: Option<PathBuf>, out: &Path) -> Result<()> {
    let opts = ganad_core::bench::BenchOptions { quick, python: python.unwrap_or_else(ganad_core::bench::find_python), reference };
    let report = ganad_core::bench::run_bench(&opts)?;
    print!("{}", report.table());
    ganad_core::atomic::write_json(out, &report)?;
    println!("wrote {}", out.display());
    Ok(())
}
