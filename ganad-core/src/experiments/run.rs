//! The run record: everything one run produced, with the config, seed, commit and device that
//! made it. `run.json` (serde_json) holds the headline numbers; every validation and test score
//! and every step's losses sit beside it in Parquet, so anyone can recompute the metrics.

pub use crate::config::method::Method;
use crate::config::Config;
use crate::error::Result;
use crate::evaluation::evaluate::{Evaluation, ScoreRecord};
use crate::system::atomic;
use crate::training::train::{EpochRecord, StepRecord};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a result came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub commit: String,
    /// The compiled files (`ganad-core/`, the workspace's `Cargo.toml` and `Cargo.lock`) differed
    /// from `commit` when the binary was built.
    pub dirty: bool,
    pub ganad_version: String,
    pub libtorch_version: String,
    pub created_unix: u64,
    pub host_cpus: usize,
}

impl Provenance {
    /// The commit and dirty flag are the build's (`build.rs`): what the binary was compiled
    /// from, whatever the checkout holds when it runs.
    pub fn now() -> Self {
        Provenance {
            commit: env!("GANAD_BUILD_COMMIT").into(),
            dirty: env!("GANAD_BUILD_DIRTY") == "true",
            ganad_version: env!("CARGO_PKG_VERSION").into(),
            libtorch_version: libtorch_version().unwrap_or_else(|| "unknown".into()),
            created_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            host_cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        }
    }
}

/// libtorch's version, read from the `torch/version.py` beside the library we were built against.
pub fn libtorch_version() -> Option<String> {
    let lib = crate::system::device::libtorch_lib_dir()?;
    let text = std::fs::read_to_string(Path::new(&lib).join("..").join("version.py")).ok()?;
    let line = text.lines().find(|l| l.starts_with("__version__"))?;
    Some(line.split(['\'', '"']).nth(1)?.to_string())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Loading, verifying and splitting the dataset (shared by the runs on one split).
    pub data_s: f64,
    pub train_s: f64,
    pub evaluate_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSizes {
    /// Normal-class training images.
    pub train_normal: usize,
    /// Unlabelled anomalies among the training images (the pollution).
    #[serde(default)]
    pub train_pollution: usize,
    pub train_anomaly: usize,
    pub validation: usize,
    pub test: usize,
}

impl SplitSizes {
    pub fn of(split: &crate::data::Split) -> Self {
        SplitSizes {
            train_normal: split.train_normal.len(),
            train_pollution: split.train_pollution.len(),
            train_anomaly: split.train_anomaly.len(),
            validation: split.validation.len(),
            test: split.test.len(),
        }
    }
}

/// One epoch's weights on the test split: the last epoch's and the best-on-validation one's
/// sit beside whichever the run reports, so what checkpoint selection buys (or costs) shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochResult {
    pub epoch: usize,
    /// `None` where the protocol holds no validation set.
    pub validation_auroc: Option<f64>,
    pub test_auroc: f64,
}

/// The run a rescored run (`ganad rescore`) took its weights from, and what that run reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescoredFrom {
    /// The source run's directory, as given to `ganad rescore`.
    pub run: String,
    /// The commit that trained it.
    pub commit: String,
    /// Its score config and the test AUROC it reported under that score.
    pub score: crate::config::score::ScoreConfig,
    pub test_auroc: f64,
}

/// Everything one run produced. `run.json` holds the headline numbers (small: under 100 KB);
/// the per-image scores and the per-step history live beside it in Parquet files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub method: Method,
    pub profile: Option<String>,
    pub seed: u64,
    pub normal_class: u8,
    pub anomaly_ratio: f64,
    pub config: Config,
    pub provenance: Provenance,
    pub device: String,
    /// What the convolutions computed in ("fp32" or "bf16"), as `train.precision` resolved here.
    #[serde(default)]
    pub precision: Option<String>,
    pub timings: Timings,
    pub split_sizes: SplitSizes,
    /// The protocol in words: what trained, with which labels, and which epoch is reported.
    #[serde(default)]
    pub protocol: String,
    pub epochs: Vec<EpochRecord>,
    /// The epoch with the best validation AUROC (`None` without a validation set).
    pub best_epoch: Option<usize>,
    pub last_epoch: Option<EpochResult>,
    /// The best-on-validation epoch's test AUROC, where the run reports another epoch (or the
    /// same as the report, where it reports that one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_validation_epoch: Option<EpochResult>,
    pub evaluation: Evaluation,
    /// Set where the scores come from another run's weights under another score config
    /// (`ganad rescore`); the epochs and history are then that run's training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescored_from: Option<RescoredFrom>,
    /// One record per optimisation step, with every loss term (None = not computed): `history.parquet`.
    #[serde(skip)]
    pub history: Vec<StepRecord>,
    /// `validation_scores.parquet`: the images that chose the threshold (the validation set, or
    /// the training images with the protocol's labels): index into the training split, class,
    /// label, score.
    #[serde(skip)]
    pub validation_scores: Vec<ScoreRecord>,
    /// `test_scores.parquet`: index into the test split, class, label, score.
    #[serde(skip)]
    pub test_scores: Vec<ScoreRecord>,
}

impl RunRecord {
    pub const FILE: &'static str = "run.json";
    pub const TEST_SCORES: &'static str = "test_scores.parquet";
    pub const VALIDATION_SCORES: &'static str = "validation_scores.parquet";
    pub const HISTORY: &'static str = "history.parquet";

    /// Writes the Parquet files, then `run.json` last: a run directory with `run.json` is complete.
    pub fn save(&self, dir: &Path) -> Result<()> {
        files::write_scores(&dir.join(Self::TEST_SCORES), &self.test_scores)?;
        files::write_scores(&dir.join(Self::VALIDATION_SCORES), &self.validation_scores)?;
        files::write_history(&dir.join(Self::HISTORY), &self.history)?;
        atomic::write_json(&dir.join(Self::FILE), self)
    }

    /// Reads `dir/run.json` (or `dir` itself if it is that file) and the Parquet files beside it.
    pub fn load(dir: &Path) -> Result<Self> {
        let (dir, path) = if dir.is_dir() {
            (dir.to_path_buf(), dir.join(Self::FILE))
        } else {
            (dir.parent().unwrap_or(Path::new(".")).to_path_buf(), dir.to_path_buf())
        };
        let mut record: RunRecord = atomic::read_json(&path)?;
        record.test_scores = files::read_scores(&dir.join(Self::TEST_SCORES))?;
        record.validation_scores = files::read_scores(&dir.join(Self::VALIDATION_SCORES))?;
        record.history = files::read_history(&dir.join(Self::HISTORY))?;
        Ok(record)
    }

    /// Test scores and labels (true = anomaly), in test-split order.
    pub fn test_scores_and_labels(&self) -> (Vec<f32>, Vec<bool>) {
        self.test_scores.iter().map(|s| (s.score, s.label == 1)).unzip()
    }

    /// The test ROC curve, named "method (AUROC x.xxxx)" for charts.
    pub fn test_roc(&self) -> Result<(String, Vec<crate::evaluation::metrics::RocPoint>)> {
        let (scores, labels) = self.test_scores_and_labels();
        let name = format!("{} (AUROC {:.4})", self.method.name(), self.evaluation.test.auroc);
        Ok((name, crate::evaluation::metrics::roc_curve(&scores, &labels)?))
    }
}

/// The Parquet side of a run directory (written and read with polars).
pub mod files {
    use crate::error::{Error, Result};
    use crate::evaluation::evaluate::ScoreRecord;
    use crate::gan::losses::LossParts;
    use crate::training::train::StepRecord;
    use polars::prelude::*;
    use std::path::Path;

    fn err(path: &Path, e: PolarsError) -> Error {
        Error::Table(format!("{}: {e}", path.display()))
    }

    fn write(path: &Path, mut df: DataFrame) -> Result<()> {
        crate::system::atomic::write_with(path, |tmp| {
            let file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
            ParquetWriter::new(file).finish(&mut df).map(|_| ()).map_err(|e| err(path, e))
        })
    }

    fn read(path: &Path) -> Result<DataFrame> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        ParquetReader::new(file).finish().map_err(|e| err(path, e))
    }

    fn column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> Result<&'a Column> {
        df.column(name).map_err(|e| err(path, e))
    }

    /// Columns `index`, `class`, `label` (1 = anomaly), all u32, and `score` (f32).
    pub fn write_scores(path: &Path, scores: &[ScoreRecord]) -> Result<()> {
        let df = df!(
            "index" => scores.iter().map(|r| r.index as u32).collect::<Vec<_>>(),
            "class" => scores.iter().map(|r| r.class as u32).collect::<Vec<_>>(),
            "label" => scores.iter().map(|r| r.label as u32).collect::<Vec<_>>(),
            "score" => scores.iter().map(|r| r.score).collect::<Vec<_>>(),
        )
        .map_err(|e| err(path, e))?;
        write(path, df)
    }

    pub fn read_scores(path: &Path) -> Result<Vec<ScoreRecord>> {
        let df = read(path)?;
        let typed = |name: &str, dtype: DataType| -> Result<Series> {
            column(&df, path, name)?.as_materialized_series().cast(&dtype).map_err(|e| err(path, e))
        };
        let (index, class, label, score) = (
            typed("index", DataType::UInt32)?,
            typed("class", DataType::UInt32)?,
            typed("label", DataType::UInt32)?,
            typed("score", DataType::Float32)?,
        );
        let (index, class, label, score) = (index.u32().unwrap(), class.u32().unwrap(), label.u32().unwrap(), score.f32().unwrap());
        (0..df.height())
            .map(|i| match (index.get(i), class.get(i), label.get(i), score.get(i)) {
                (Some(index), Some(class), Some(label), Some(score)) => {
                    Ok(ScoreRecord { index: index as usize, class: class as u8, label: label as u8, score })
                }
                _ => Err(Error::Table(format!("{}: row {i} has a null", path.display()))),
            })
            .collect()
    }

    /// Columns `epoch`, `step` (u32), `wall_s`, `generator_total` and one f64 column per loss
    /// term (null where the term was not computed).
    pub fn write_history(path: &Path, history: &[StepRecord]) -> Result<()> {
        let mut columns = vec![
            Column::new("epoch".into(), history.iter().map(|r| r.epoch as u32).collect::<Vec<_>>()),
            Column::new("step".into(), history.iter().map(|r| r.step as u32).collect::<Vec<_>>()),
            Column::new("wall_s".into(), history.iter().map(|r| r.wall_s).collect::<Vec<_>>()),
            Column::new("generator_total".into(), history.iter().map(|r| r.generator_total).collect::<Vec<_>>()),
        ];
        for (i, name) in LossParts::<f64>::NAMES.iter().enumerate() {
            columns.push(Column::new((*name).into(), history.iter().map(|r| r.losses.terms()[i].copied()).collect::<Vec<_>>()));
        }
        write(path, DataFrame::new_infer_height(columns).map_err(|e| err(path, e))?)
    }

    pub fn read_history(path: &Path) -> Result<Vec<StepRecord>> {
        let df = read(path)?;
        let f64s = |name: &str| -> Result<Vec<Option<f64>>> {
            let series = column(&df, path, name)?.as_materialized_series().cast(&DataType::Float64).map_err(|e| err(path, e))?;
            let values = series.f64().unwrap();
            Ok((0..values.len()).map(|i| values.get(i)).collect())
        };
        let u32s = |name: &str| -> Result<Vec<Option<u32>>> {
            let series = column(&df, path, name)?.as_materialized_series().cast(&DataType::UInt32).map_err(|e| err(path, e))?;
            let values = series.u32().unwrap();
            Ok((0..values.len()).map(|i| values.get(i)).collect())
        };
        let (epoch, step, wall, total) = (u32s("epoch")?, u32s("step")?, f64s("wall_s")?, f64s("generator_total")?);
        // A term newer than the file (written before it existed) was not computed: null.
        let terms: Vec<Vec<Option<f64>>> = LossParts::<f64>::NAMES
            .iter()
            .map(|n| if df.column(n).is_ok() { f64s(n) } else { Ok(vec![None; df.height()]) })
            .collect::<Result<_>>()?;
        (0..df.height())
            .map(|i| {
                let t = |k: usize| terms[k][i];
                let losses = LossParts::from_terms(std::array::from_fn(t));
                match (epoch[i], step[i], wall[i]) {
                    (Some(e), Some(s), Some(w)) => {
                        Ok(StepRecord { epoch: e as usize, step: s as usize, losses, generator_total: total[i], wall_s: w })
                    }
                    _ => Err(Error::Table(format!("{}: row {i} has a null", path.display()))),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gan::losses::LossParts;

    #[test]
    fn scores_and_history_round_trip_through_parquet() {
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        let scores: Vec<ScoreRecord> = (0..5)
            .map(|i| ScoreRecord { index: 100 + i, class: (i % 10) as u8, label: (i % 2) as u8, score: i as f32 * 0.25 - 0.3 })
            .collect();
        files::write_scores(&dir.path().join("s.parquet"), &scores).unwrap();
        assert_eq!(files::read_scores(&dir.path().join("s.parquet")).unwrap(), scores);

        let history: Vec<StepRecord> = (1..4)
            .map(|step| StepRecord {
                epoch: 0,
                step,
                losses: LossParts { reconstruction: Some(0.5 / step as f64), abc: Some(1.25), ..Default::default() },
                generator_total: Some(step as f64),
                wall_s: 0.1 * step as f64,
            })
            .collect();
        files::write_history(&dir.path().join("h.parquet"), &history).unwrap();
        let back = files::read_history(&dir.path().join("h.parquet")).unwrap();
        assert_eq!(back, history, "terms not computed stay absent");
        // A history written before a term existed (runs before D_N's head) reads with that term
        // absent.
        {
            use polars::prelude::*;
            let path = dir.path().join("h.parquet");
            let mut df =
                ParquetReader::new(std::fs::File::open(&path).unwrap()).finish().unwrap().drop("discriminator_classification").unwrap();
            ParquetWriter::new(std::fs::File::create(&path).unwrap()).finish(&mut df).unwrap();
            assert_eq!(files::read_history(&path).unwrap(), history);
            let mut df = df.drop("abc").unwrap();
            ParquetWriter::new(std::fs::File::create(&path).unwrap()).finish(&mut df).unwrap();
            assert!(files::read_history(&path).unwrap().iter().all(|s| s.losses.abc.is_none() && s.losses.reconstruction.is_some()));
        }

        let err = files::read_scores(&dir.path().join("missing.parquet")).unwrap_err().to_string();
        assert!(err.contains("missing.parquet"), "{err}");
        std::fs::write(dir.path().join("bad.parquet"), b"not parquet").unwrap();
        assert!(files::read_scores(&dir.path().join("bad.parquet")).unwrap_err().to_string().contains("bad.parquet"));
    }
}
