//! One-vs-rest sweeps: every class × seed × method (and, on Deep SAD's protocol, every known
//! anomaly class of each normal class: the 90 pairs), each run in its own directory. A finished
//! run (run.json present) is kept, an interrupted one resumes, so a sweep can be rerun at will.
//! The grid can be cut into N fixed, disjoint shards (one per job of a cluster scheduler), and
//! `collect` summarises whatever runs a sweep directory holds.
//!
//! Every headline number is the test AUROC of each run's **last epoch** (one rule for every
//! method and protocol: no label chooses it); the best epoch on validation shows, where a run
//! has a validation set, only as a labelled extra column.

use crate::config::{Config, Profile};
use crate::error::{Error, Result};
use crate::experiments::experiment::{self, Hooks};
use crate::experiments::run::{Method, RunRecord};
pub use crate::experiments::summary::{best_validation_auroc, reported_auroc, summarise, MethodSummary, Stat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to sweep. `base` supplies everything but the class and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPlan {
    pub base: Config,
    pub profile: Option<Profile>,
    pub classes: Vec<u8>,
    pub seeds: Vec<u64>,
    pub methods: Vec<Method>,
    /// Methods that run only the first N of `seeds` (baselines whose spread is not the question).
    #[serde(default)]
    pub seed_limits: BTreeMap<Method, usize>,
    /// Deep SAD's grid: each normal class with each other class in turn as the one known
    /// anomaly class (`data.known_anomaly_classes`), 9 runs per class and seed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pairs: bool,
    /// Another sweep directory whose finished runs of the same config are copied, not retrained.
    #[serde(skip)]
    pub reuse: Option<PathBuf>,
    #[serde(skip)]
    pub out: PathBuf,
}

/// One cell of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridItem {
    pub class: u8,
    /// The known anomaly class, in a sweep over pairs.
    pub known: Option<u8>,
    pub seed: u64,
    pub method: Method,
}

impl std::fmt::Display for GridItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.known {
            Some(k) => write!(f, "class{}-known{k}-seed{}-{}", self.class, self.seed, self.method.name()),
            None => write!(f, "class{}-seed{}-{}", self.class, self.seed, self.method.name()),
        }
    }
}

/// Part `index` (1-based) of `count` disjoint parts of a grid: `--shard K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::config("shard", format!("{s:?} is not K/N with 1 ≤ K ≤ N (e.g. 3/8)"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl SweepPlan {
    /// The file in the sweep directory that records the plan, for `collect`.
    pub const FILE: &'static str = "plan.json";

    pub fn run_dir(&self, item: &GridItem) -> PathBuf {
        self.out.join(item.to_string())
    }

    /// Every cell, class by class (then known anomaly class), then seed, then method.
    pub fn grid(&self) -> Vec<GridItem> {
        let mut items = Vec::new();
        for &class in &self.classes {
            let known: Vec<Option<u8>> =
                if self.pairs { (0..crate::data::NUM_CLASSES as u8).filter(|&k| k != class).map(Some).collect() } else { vec![None] };
            for &known in &known {
                for (i, &seed) in self.seeds.iter().enumerate() {
                    for &method in &self.methods {
                        if self.seed_limits.get(&method).is_none_or(|&n| i < n) {
                            items.push(GridItem { class, known, seed, method });
                        }
                    }
                }
            }
        }
        items
    }

    /// The cells of one shard, in grid order. Shards deal the grid out method by method (every
    /// N-th GAN run, then every N-th classifier run, …), so each gets its share of the long and
    /// the short runs. All shards together are the grid, once.
    pub fn shard(&self, shard: Option<Shard>) -> Vec<GridItem> {
        let grid = self.grid();
        let Some(Shard { index, count }) = shard else { return grid };
        let mut by_method: Vec<usize> = (0..grid.len()).collect();
        by_method.sort_by_key(|&i| (self.methods.iter().position(|&m| m == grid[i].method), i));
        let mut mine: Vec<usize> = by_method.into_iter().skip(index - 1).step_by(count).collect();
        mine.sort_unstable();
        mine.into_iter().map(|i| grid[i]).collect()
    }

    /// The config of one cell, before the method's own changes.
    pub fn config(&self, item: &GridItem) -> Result<Config> {
        let mut cfg = self.base.clone();
        cfg.data.normal_class = item.class;
        cfg.seed = item.seed;
        if let Some(k) = item.known {
            cfg.data.known_anomaly_classes = Some(vec![k]);
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads the plan a sweep wrote into `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let mut plan: SweepPlan = crate::system::atomic::read_json(&dir.join(Self::FILE))?;
        plan.out = dir.to_path_buf();
        Ok(plan)
    }

    /// The finished run of `item`, if its directory holds one made with the planned config.
    fn finished(&self, item: &GridItem) -> Result<Option<RunRecord>> {
        self.finished_in(&self.run_dir(item), item)
    }

    fn finished_in(&self, dir: &Path, item: &GridItem) -> Result<Option<RunRecord>> {
        let dir = dir.to_path_buf();
        if !dir.join(RunRecord::FILE).is_file() {
            return Ok(None);
        }
        let record = RunRecord::load(&dir)?;
        let planned = experiment::method_config(item.method, &self.config(item)?, self.profile);
        if record.config != planned {
            return Err(Error::Checkpoint {
                path: dir,
                what: "holds a finished run made with another config than this sweep's".into(),
                fix: "sweep into another --out, or delete that run to redo it with this config".into(),
            });
        }
        Ok(Some(record))
    }
}

impl SweepPlan {
    /// Copies `item`'s finished run from the `reuse` directory when it was made with the same
    /// config (its files only, not its checkpoints), so two studies share one training.
    fn reused(&self, item: &GridItem) -> Result<Option<PathBuf>> {
        let Some(from) = self.reuse.as_ref().map(|r| r.join(item.to_string())) else { return Ok(None) };
        let same = match self.finished_in(&from, item) {
            Ok(found) => found.is_some(),
            Err(Error::Checkpoint { .. }) => false, // another config: train our own
            Err(e) => return Err(e),
        };
        if !same {
            return Ok(None);
        }
        let to = self.run_dir(item);
        std::fs::create_dir_all(&to).map_err(|e| Error::io(&to, e))?;
        // run.json last: a directory with run.json is complete.
        for file in ["config.json", RunRecord::TEST_SCORES, RunRecord::VALIDATION_SCORES, RunRecord::HISTORY, RunRecord::FILE] {
            let bytes = std::fs::read(from.join(file)).map_err(|e| Error::io(from.join(file), e))?;
            crate::system::atomic::write_bytes(&to.join(file), &bytes)?;
        }
        Ok(Some(to))
    }
}

/// The (class, known anomaly class, seed) that fixes a cell's split.
type CellData = (u8, Option<u8>, u64);

/// Per method, normal class and (anomaly or known anomaly) class: an AUROC.
pub type ClassTables = BTreeMap<String, BTreeMap<u8, BTreeMap<u8, f64>>>;

/// How one run is trained: (method, config, data, dir, resume) → record. The CLI passes a
/// progress bar, notebooks a line printer ([`run_quietly`]).
pub type RunOne<'a> = dyn FnMut(Method, &Config, &crate::data::SplitData, &Path, bool) -> Result<RunRecord> + 'a;

/// Runs the plan's cells of `shard` (all of them for `None`); `on_done` sees each finished record.
/// A cell whose directory another process holds is skipped (its record is not returned).
pub fn run_sweep(
    plan: &SweepPlan,
    shard: Option<Shard>,
    run_one: &mut RunOne,
    on_done: &mut dyn FnMut(&RunRecord),
) -> Result<Vec<RunRecord>> {
    crate::system::atomic::write_json(&plan.out.join(SweepPlan::FILE), plan)?;
    let mut records = Vec::new();
    // Consecutive cells of one (class, known class, seed) share the prepared split.
    let mut data: Option<(CellData, crate::data::SplitData)> = None;
    for item in plan.shard(shard) {
        if let Some(signal) = crate::system::interrupt::requested() {
            let kept = format!("the sweep stopped before {item}; its finished runs are kept");
            return Err(Error::Interrupted { signal: crate::system::interrupt::name(signal), epoch: 0, step: 0, kept });
        }
        let record = match plan.finished(&item)? {
            Some(record) => record,
            None if plan.reused(&item)?.is_some() => plan.finished(&item)?.expect("just copied"),
            None => {
                let cfg = plan.config(&item)?;
                let key = (item.class, item.known, item.seed);
                if data.as_ref().is_none_or(|(k, _)| *k != key) {
                    data = Some((key, experiment::prepare(&cfg)?));
                }
                let dir = plan.run_dir(&item);
                let resume = crate::training::checkpoint::exists(&dir.join("checkpoints").join("last"));
                match run_one(item.method, &cfg, &data.as_ref().unwrap().1, &dir, resume) {
                    Ok(record) => record,
                    // Another process trains this cell (a resubmitted job beside the old one):
                    // leave it to that process and go on; `collect` finds it once it is done.
                    Err(Error::Locked { pid, .. }) => {
                        println!("{item}: process {pid} trains it, skipped");
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        on_done(&record);
        records.push(record);
    }
    Ok(records)
}

/// The finished runs of the sweep in `dir` (in grid order) and the cells still missing.
pub fn collect(dir: &Path) -> Result<(Vec<RunRecord>, Vec<GridItem>)> {
    let plan = SweepPlan::load(dir)?;
    let (mut records, mut missing) = (Vec::new(), Vec::new());
    for item in plan.grid() {
        match plan.finished(&item)? {
            Some(r) => records.push(r),
            None => missing.push(item),
        }
    }
    Ok((records, missing))
}

/// The default `run_one`: [`experiment::run`] with one line per epoch.
pub fn run_quietly(profile: Option<Profile>) -> impl FnMut(Method, &Config, &crate::data::SplitData, &Path, bool) -> Result<RunRecord> {
    move |method, cfg, data, dir, resume| {
        let mut on_step = |_: &crate::training::train::StepRecord| {};
        let mut on_epoch = |e: &crate::training::train::EpochRecord| println!("  {}", e.summary());
        experiment::run(method, cfg, profile, data, dir, resume, Hooks { on_step: &mut on_step, on_epoch: &mut on_epoch })
    }
}

/// The directory name of a run in its sweep (the grid cell it fills).
pub fn run_dir_name(r: &RunRecord) -> String {
    let known = r.config.data.known_anomaly_classes.as_ref().filter(|k| k.len() == 1).map(|k| k[0]);
    GridItem { class: r.normal_class, known, seed: r.seed, method: r.method }.to_string()
}

/// Parses "0-9" or "0,3,6" into classes.
pub fn parse_classes(s: &str) -> Result<Vec<u8>> {
    let bad = || crate::Error::config("classes", format!("{s:?} is not a class list like 0-9 or 0,3,6"));
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b): (i64, i64) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            for c in a..=b {
                out.push(crate::data::fashion_mnist::check_class(c)?);
            }
        } else {
            out.push(crate::data::fashion_mnist::check_class(part.parse().map_err(|_| bad())?)?);
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Parses "gan,classifier,ae:1,random:1": methods, and for those with ":N", how many of the
/// sweep's seeds they run.
pub fn parse_methods(s: &str) -> Result<(Vec<Method>, BTreeMap<Method, usize>)> {
    let mut methods = Vec::new();
    let mut limits = BTreeMap::new();
    for part in s.split(',').map(str::trim) {
        let (name, limit) =
            match part.split_once(':') {
                Some((n, l)) => (
                    n.trim(),
                    Some(l.trim().parse::<usize>().ok().filter(|&l| l > 0).ok_or_else(|| {
                        crate::Error::config("methods", format!("{part:?}: the seed count after ':' must be a number ≥ 1"))
                    })?),
                ),
                None => (part, None),
            };
        let method = <Method as clap::ValueEnum>::from_str(name, true).map_err(|_| {
            let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
            crate::Error::config("methods", format!("unknown method {name:?}; use {} (name:N runs the first N seeds)", names.join(", ")))
        })?;
        methods.push(method);
        if let Some(l) = limit {
            limits.insert(method, l);
        }
    }
    Ok((methods, limits))
}

/// Per method and normal class: the seed-mean AUROC against each anomaly class alone
/// ([`crate::evaluation::evaluate::auroc_by_anomaly_class`] of the runs' test scores).
pub fn by_anomaly_class(records: &[RunRecord]) -> Result<ClassTables> {
    let mut seeds: BTreeMap<(String, u8, u8), Vec<f64>> = BTreeMap::new();
    for r in records {
        for (anomaly, auroc) in crate::evaluation::evaluate::auroc_by_anomaly_class(&r.test_scores)? {
            seeds.entry((r.method.name().to_string(), r.normal_class, anomaly)).or_default().push(auroc);
        }
    }
    let mut out = ClassTables::new();
    for ((method, class, anomaly), values) in seeds {
        out.entry(method).or_default().entry(class).or_default().insert(anomaly, crate::experiments::summary::mean_sd(&values).0);
    }
    Ok(out)
}

/// Per method, normal class and known anomaly class: the mean headline AUROC over seeds.
pub fn by_pair(records: &[RunRecord]) -> ClassTables {
    let mut seeds: BTreeMap<(String, u8, u8), Vec<f64>> = BTreeMap::new();
    for r in records {
        if let Some([known]) = r.config.data.known_anomaly_classes.as_deref() {
            seeds.entry((r.method.name().to_string(), r.normal_class, *known)).or_default().push(reported_auroc(r));
        }
    }
    let mut out = ClassTables::new();
    for ((method, class, known), values) in seeds {
        out.entry(method).or_default().entry(class).or_default().insert(known, crate::experiments::summary::mean_sd(&values).0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_and_method_lists() {
        assert_eq!(parse_classes("0-2,6").unwrap(), vec![0, 1, 2, 6]);
        assert!(parse_classes("0-10").unwrap_err().to_string().contains("use 0..9"));
        assert!(parse_classes("a").is_err());
        assert_eq!(parse_methods("gan, random").unwrap().0, vec![Method::Gan, Method::Random]);
        assert!(parse_methods("vae").unwrap_err().to_string().contains("classifier"));
        let (methods, limits) = parse_methods("gan,ae:1").unwrap();
        assert_eq!((methods, limits.get(&Method::Autoencoder)), (vec![Method::Gan, Method::Autoencoder], Some(&1)));
        assert!(parse_methods("ae:0").is_err() && parse_methods("ae:x").is_err());
    }

    #[test]
    fn shards_cover_the_grid_once() {
        let plan = SweepPlan {
            base: Config::default(),
            profile: None,
            classes: vec![0, 3, 6],
            seeds: vec![0, 1],
            methods: vec![Method::Gan, Method::Random],
            seed_limits: BTreeMap::new(),
            pairs: false,
            reuse: None,
            out: PathBuf::new(),
        };
        let grid = plan.grid();
        assert_eq!(grid.len(), 12);
        let pairs = SweepPlan { pairs: true, seeds: vec![0], ..plan.clone() };
        assert_eq!(pairs.grid().len(), 3 * 9 * 2, "each class with each of its nine anomaly classes");
        let first = pairs.grid()[0];
        assert_eq!(
            (first.to_string(), pairs.config(&first).unwrap().data.known_anomaly_classes),
            ("class0-known1-seed0-gan".to_string(), Some(vec![1]))
        );
        let limited = SweepPlan { seed_limits: [(Method::Random, 1)].into(), ..plan.clone() };
        assert_eq!(limited.grid().len(), 9, "random runs seed 0 only");
        let mut seen: Vec<String> = Vec::new();
        for k in 1..=5 {
            let part = plan.shard(Some(format!("{k}/5").parse().unwrap()));
            assert!(part.len() >= 2 && part.len() <= 3, "{k}: {}", part.len());
            seen.extend(part.iter().map(|i| i.to_string()));
        }
        // Two shards of a grid whose methods alternate still get half of each method.
        for k in 1..=2 {
            let part = plan.shard(Some(format!("{k}/2").parse().unwrap()));
            assert_eq!(part.iter().filter(|i| i.method == Method::Gan).count(), 3, "shard {k}");
        }
        seen.sort();
        let mut all: Vec<String> = grid.iter().map(|i| i.to_string()).collect();
        all.sort();
        assert_eq!(seen, all);
        for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Shard>().unwrap_err().to_string().contains("K/N"), "{bad}");
        }
    }
}
