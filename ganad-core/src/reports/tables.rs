//! Tables as polars DataFrames, an HTML view for notebooks, and CSV/JSON export.

use crate::data::CLASS_NAMES;
use crate::error::{Error, Result};
use crate::evaluation::evaluate::ClassDetection;
use crate::evaluation::metrics::Confusion;
use crate::experiments::run::RunRecord;
use crate::system::atomic;
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn table_err(e: PolarsError) -> Error {
    Error::Table(e.to_string())
}

/// 2×2 confusion matrix: rows are the truth, columns the decision.
pub fn confusion_table(c: &Confusion) -> Result<DataFrame> {
    df!(
        "actual" => ["normal", "anomaly"],
        "predicted normal" => [c.true_normal as u64, c.missed_anomaly as u64],
        "predicted anomaly" => [c.false_anomaly as u64, c.true_anomaly as u64],
    )
    .map_err(table_err)
}

/// For each true class: images, flagged anomalous, and the flagged rate (the detection rate
/// for anomaly classes, the false-alarm rate for the normal class).
pub fn per_class_table(rows: &[ClassDetection], normal_class: u8) -> Result<DataFrame> {
    df!(
        "class" => rows.iter().map(|r| r.class as u32).collect::<Vec<_>>(),
        "name" => rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        "role" => rows.iter().map(|r| if r.class == normal_class { "normal" } else { "anomaly" }).collect::<Vec<_>>(),
        "count" => rows.iter().map(|r| r.count as u64).collect::<Vec<_>>(),
        "flagged" => rows.iter().map(|r| r.flagged as u64).collect::<Vec<_>>(),
        "rate" => rows.iter().map(|r| r.flagged as f64 / r.count.max(1) as f64).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

/// A run's known anomaly classes as "1,3" (`None` = all nine).
fn known_classes(r: &RunRecord) -> Option<String> {
    r.config.data.known_anomaly_classes.as_ref().map(|k| k.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(","))
}

/// One row per run: what ran, on which protocol, and its test metrics.
pub fn runs_table(records: &[&RunRecord]) -> Result<DataFrame> {
    let e = |f: fn(&RunRecord) -> f64| records.iter().map(|r| f(r)).collect::<Vec<_>>();
    df!(
        "method" => records.iter().map(|r| r.method.name()).collect::<Vec<_>>(),
        "normal class" => records.iter().map(|r| r.normal_class as u32).collect::<Vec<_>>(),
        "name" => records.iter().map(|r| CLASS_NAMES[r.normal_class as usize]).collect::<Vec<_>>(),
        "anomaly ratio" => e(|r| r.anomaly_ratio),
        "known anomaly class" => records.iter().map(|r| known_classes(r)).collect::<Vec<_>>(),
        "seed" => records.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "test AUROC (last epoch)" => e(crate::experiments::summary::reported_auroc),
        "test AP" => e(|r| r.evaluation.test.average_precision),
        "test F1" => e(|r| r.evaluation.test.f1),
        "validation AUROC" => records.iter().map(|r| r.evaluation.validation.as_ref().map(|v| v.auroc)).collect::<Vec<_>>(),
        "train s" => e(|r| r.timings.train_s),
    )
    .map_err(table_err)
}

/// One row per epoch of a run: steps, validation AUROC, seconds the epoch took (training and
/// its validation), and whether it is the epoch the run reports.
pub fn epochs_table(record: &RunRecord) -> Result<DataFrame> {
    let e = &record.epochs;
    let seconds: Vec<f64> = e.iter().enumerate().map(|(i, r)| r.wall_s - if i == 0 { 0.0 } else { e[i - 1].wall_s }).collect();
    df!(
        "epoch" => e.iter().map(|r| r.epoch as u32).collect::<Vec<_>>(),
        "steps" => e.iter().map(|r| r.steps as u32).collect::<Vec<_>>(),
        "validation AUROC" => e.iter().map(|r| r.validation_auroc).collect::<Vec<_>>(),
        "seconds" => seconds,
        "reported" => e.iter().map(|r| reported_marker(record, r.epoch)).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

/// "reported" beside the epoch a run reports, "best on validation" beside the best one.
fn reported_marker(record: &RunRecord, epoch: usize) -> &'static str {
    let reported = match record.config.train.checkpoint {
        crate::config::CheckpointRule::Last => record.epochs.last().map(|e| e.epoch),
        crate::config::CheckpointRule::BestValidation => record.best_epoch,
    };
    match (Some(epoch) == reported, Some(epoch) == record.best_epoch) {
        (true, true) => "reported (best on validation)",
        (true, false) => "reported",
        (false, true) => "best on validation",
        (false, false) => "",
    }
}

/// A run's final test metrics as one column of name → value: what the report states.
pub fn test_metrics_table(record: &RunRecord) -> Result<DataFrame> {
    let e = &record.evaluation;
    let mut rows: Vec<(&str, String)> = vec![
        ("method", format!("{} ({} recipe, {} score)", record.method.name(), record.config.recipe.name(), e.scorer)),
        (
            "protocol",
            if record.protocol.is_empty() {
                format!(
                    "normal class {} ({}), anomaly ratio {}",
                    record.normal_class, CLASS_NAMES[record.normal_class as usize], record.anomaly_ratio
                )
            } else {
                record.protocol.clone()
            },
        ),
        ("seed, profile", format!("{}, {}", record.seed, record.profile.as_deref().unwrap_or("custom"))),
        ("test AUROC", format!("{:.5} ({})", e.test.auroc, record.config.train.checkpoint.describe())),
        ("test average precision", format!("{:.5}", e.test.average_precision)),
        ("test F1 / accuracy", format!("{:.4} / {:.4}", e.test.f1, e.test.accuracy)),
        ("threshold", format!("{:.5} ({:?} on the {} images)", e.threshold.value, e.threshold.rule, e.threshold.chosen_on)),
    ];
    if let Some(last) = &record.last_epoch {
        rows.push(("test AUROC of the last epoch", format!("{:.5} (epoch {})", last.test_auroc, last.epoch)));
    }
    if let Some(best) = &record.best_validation_epoch {
        rows.push(("test AUROC of the best epoch on validation (extra)", format!("{:.5} (epoch {})", best.test_auroc, best.epoch)));
    }
    rows.push(("train / evaluate seconds", format!("{:.1} / {:.1}", record.timings.train_s, record.timings.evaluate_s)));
    df!(
        "metric" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "value" => rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

pub use crate::experiments::summary::mean_sd;

/// class × method → the headline test AUROC (last epoch) mean ± sd over its runs.
pub fn summary_table(records: &[&RunRecord]) -> Result<DataFrame> {
    let mut groups: BTreeMap<(u8, &str, u64), Vec<f64>> = BTreeMap::new();
    for r in records {
        let ratio_key = (r.anomaly_ratio * 1e6).round() as u64;
        groups.entry((r.normal_class, r.method.name(), ratio_key)).or_default().push(crate::experiments::summary::reported_auroc(r));
    }
    let stats: Vec<_> = groups.iter().map(|(k, v)| (k, v.len(), mean_sd(v))).collect();
    df!(
        "normal class" => stats.iter().map(|(k, ..)| k.0 as u32).collect::<Vec<_>>(),
        "name" => stats.iter().map(|(k, ..)| CLASS_NAMES[k.0 as usize]).collect::<Vec<_>>(),
        "method" => stats.iter().map(|(k, ..)| k.1).collect::<Vec<_>>(),
        "anomaly ratio" => stats.iter().map(|(k, ..)| k.2 as f64 / 1e6).collect::<Vec<_>>(),
        "seeds" => stats.iter().map(|(_, n, _)| *n as u32).collect::<Vec<_>>(),
        "AUROC mean" => stats.iter().map(|(.., (m, _))| *m).collect::<Vec<_>>(),
        "AUROC sd" => stats.iter().map(|(.., (_, sd))| *sd).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

/// Methods × classes: test AUROC "mean ± sd" over seeds, and the 10-class mean with the sd of
/// the per-seed means (see `sweep::summarise`). Rows in `Method` order.
pub fn summary_wide(records: &[RunRecord]) -> Result<DataFrame> {
    let summary = crate::experiments::summary::summarise(records);
    let mut methods: Vec<crate::experiments::run::Method> = records.iter().map(|r| r.method).collect();
    methods.sort();
    methods.dedup();
    let classes: std::collections::BTreeSet<u8> = records.iter().map(|r| r.normal_class).collect();
    let cell = |s: &crate::experiments::summary::Stat| match s.sd {
        Some(sd) => format!("{:.3} ± {:.3}", s.mean, sd),
        None => format!("{:.3}", s.mean),
    };
    let mut columns = vec![Column::new("method".into(), methods.iter().map(|m| m.name()).collect::<Vec<_>>())];
    for c in &classes {
        let values: Vec<String> =
            methods.iter().map(|m| summary[m.name()].per_class.get(c).map(cell).unwrap_or_else(|| "—".into())).collect();
        columns.push(Column::new(format!("{c} {}", CLASS_NAMES[*c as usize]).into(), values));
    }
    columns.push(Column::new("mean".into(), methods.iter().map(|m| cell(&summary[m.name()].overall)).collect::<Vec<_>>()));
    let pairs = records.iter().any(|r| r.config.data.known_anomaly_classes.is_some());
    if pairs {
        columns.push(Column::new("sd over pairs".into(), methods.iter().map(|m| summary[m.name()].run_sd).collect::<Vec<_>>()));
    }
    // Over pairs, every run of the method; else the seeds of its best-covered class.
    let count = |m: &crate::experiments::run::Method| {
        let per_class = summary[m.name()].per_class.values().map(|s| s.seeds as u32);
        if pairs {
            per_class.sum()
        } else {
            per_class.max().unwrap_or(0)
        }
    };
    columns.push(Column::new((if pairs { "runs" } else { "seeds" }).into(), methods.iter().map(count).collect::<Vec<_>>()));
    if methods.iter().any(|m| summary[m.name()].overall_best_validation.is_some()) {
        columns.push(Column::new(
            "mean, best epoch on validation (extra)".into(),
            methods.iter().map(|m| summary[m.name()].overall_best_validation).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new_infer_height(columns).map_err(table_err)
}

/// Normal class × anomaly class → AUROC against that anomaly class alone ("—" where none).
pub fn anomaly_class_table(by_class: &std::collections::BTreeMap<u8, std::collections::BTreeMap<u8, f64>>) -> Result<DataFrame> {
    let mut columns =
        vec![Column::new("normal class".into(), by_class.keys().map(|c| format!("{c} {}", CLASS_NAMES[*c as usize])).collect::<Vec<_>>())];
    for anomaly in 0..CLASS_NAMES.len() as u8 {
        let values: Vec<Option<f64>> = by_class.values().map(|m| m.get(&anomaly).copied()).collect();
        columns.push(Column::new(format!("{anomaly} {}", CLASS_NAMES[anomaly as usize]).into(), values));
    }
    DataFrame::new_infer_height(columns).map_err(table_err)
}

/// A DataFrame as a Markdown table (for the README and summary.md).
pub fn to_markdown(df: &DataFrame) -> String {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let mut md = format!("| {} |\n|{}\n", names.join(" | "), "---|".repeat(names.len()));
    for row in 0..df.height() {
        let cells: Vec<String> = df
            .columns()
            .iter()
            .map(|c| match c.get(row) {
                Ok(AnyValue::String(s)) => s.to_string(),
                Ok(AnyValue::Float64(v)) => format!("{v:.4}"),
                Ok(AnyValue::Null) => "—".into(),
                Ok(v) => v.to_string(),
                Err(e) => format!("error: {e}"),
            })
            .collect();
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md
}

/// Per class: image counts of both splits and pixel statistics of the training images
/// (mean and sd of [0, 1] intensities, share of non-background pixels).
pub fn class_table(ds: &crate::data::FashionMnist) -> Result<DataFrame> {
    let (train, test) = (ds.train.class_counts(), ds.test.class_counts());
    let mut stats = vec![(0f64, 0f64, 0f64, 0f64); CLASS_NAMES.len()]; // Σx, Σx², ink, n
    for i in 0..ds.train.len() {
        let s = &mut stats[ds.train.labels[i] as usize];
        for &p in ds.train.images.image(i) {
            let x = p as f64 / 255.0;
            s.0 += x;
            s.1 += x * x;
            s.2 += (p > 0) as u8 as f64;
            s.3 += 1.0;
        }
    }
    let mean: Vec<f64> = stats.iter().map(|s| s.0 / s.3.max(1.0)).collect();
    df!(
        "class" => (0..CLASS_NAMES.len() as u32).collect::<Vec<_>>(),
        "name" => CLASS_NAMES.to_vec(),
        "train" => train.iter().map(|&n| n as u64).collect::<Vec<_>>(),
        "test" => test.iter().map(|&n| n as u64).collect::<Vec<_>>(),
        "pixel mean" => mean.clone(),
        "pixel sd" => stats.iter().zip(&mean).map(|(s, m)| (s.1 / s.3.max(1.0) - m * m).max(0.0).sqrt()).collect::<Vec<_>>(),
        "ink share" => stats.iter().map(|s| s.2 / s.3.max(1.0)).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

/// Per class: how many images each part of a split holds.
pub fn split_table(data: &crate::data::SplitData) -> Result<DataFrame> {
    let count = |set: &crate::data::ImageSet| {
        let mut c = vec![0u64; CLASS_NAMES.len()];
        for &k in &set.classes {
            c[k as usize] += 1;
        }
        c
    };
    let k = data.split.normal_class;
    df!(
        "class" => (0..CLASS_NAMES.len() as u32).collect::<Vec<_>>(),
        "name" => CLASS_NAMES.to_vec(),
        "role" => (0..CLASS_NAMES.len() as u8).map(|c| if c == k { "normal" } else { "anomaly" }).collect::<Vec<_>>(),
        "train normal" => count(&data.train_normal),
        "train labelled anomaly" => count(&data.train_anomaly),
        "validation" => count(&data.validation),
        "test" => count(&data.test),
    )
    .map_err(table_err)
}

/// Our runs beside the seed presentation's numbers for the same methods.
pub fn seed_comparison(records: &[&RunRecord]) -> Result<DataFrame> {
    use crate::reports::reference::*;
    let seed = |r: &RunRecord| match r.method {
        crate::experiments::run::Method::Gan => Some(SEED_GAN_AUROC),
        crate::experiments::run::Method::Autoencoder => Some(SEED_AUTOENCODER_AUROC),
        crate::experiments::run::Method::Random => Some(SEED_RANDOM_AUROC),
        crate::experiments::run::Method::Classifier | crate::experiments::run::Method::DeepSad => None, // the seed had neither baseline
    };
    let records: Vec<&RunRecord> = records.iter().copied().filter(|r| seed(r).is_some()).collect();
    let seed = |r: &RunRecord| seed(r).unwrap_or(f64::NAN);
    df!(
        "method" => records.iter().map(|r| r.method.name()).collect::<Vec<_>>(),
        "seed AUROC" => records.iter().map(|r| seed(r)).collect::<Vec<_>>(),
        "ganad AUROC" => records.iter().map(|r| r.evaluation.test.auroc).collect::<Vec<_>>(),
        "difference" => records.iter().map(|r| r.evaluation.test.auroc - seed(r)).collect::<Vec<_>>(),
        "protocol" => records.iter().map(|r| format!(
            "normal class {} ({}), anomaly ratio {}, profile {}, seed {}",
            r.normal_class, CLASS_NAMES[r.normal_class as usize], r.anomaly_ratio, r.profile.as_deref().unwrap_or("custom"), r.seed
        )).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

/// Published mean AUROCs with their protocols.
pub fn published_table() -> Result<DataFrame> {
    use crate::reports::reference::PUBLISHED;
    df!(
        "method" => PUBLISHED.iter().map(|p| p.method).collect::<Vec<_>>(),
        "mean AUROC" => PUBLISHED.iter().map(|p| p.mean_auroc).collect::<Vec<_>>(),
        "protocol" => PUBLISHED.iter().map(|p| p.protocol).collect::<Vec<_>>(),
    )
    .map_err(table_err)
}

/// A DataFrame shown as an HTML table in notebooks (evcxr calls `evcxr_display`).
#[derive(Debug, Clone)]
pub struct HtmlTable(pub DataFrame);

impl HtmlTable {
    pub fn to_html(&self) -> String {
        let df = &self.0;
        let mut html = String::from("<table class=\"ganad\">\n<thead><tr>");
        for name in df.get_column_names() {
            html.push_str(&format!("<th>{}</th>", escape(name.as_str())));
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        for row in 0..df.height() {
            html.push_str("<tr>");
            for column in df.columns() {
                let cell = match column.get(row) {
                    Ok(AnyValue::Null) => "—".to_string(),
                    Ok(AnyValue::Float64(v)) => format!("{v:.4}"),
                    Ok(AnyValue::Float32(v)) => format!("{v:.4}"),
                    Ok(AnyValue::String(s)) => s.to_string(),
                    Ok(v) => v.to_string(),
                    Err(e) => format!("error: {e}"),
                };
                html.push_str(&format!("<td>{}</td>", escape(&cell)));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody>\n</table>");
        html
    }

    /// evcxr's rich display hook.
    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT", self.to_html());
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Writes `df` as CSV, atomically.
pub fn write_csv(df: &DataFrame, path: &Path) -> Result<()> {
    let mut df = df.clone();
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf).finish(&mut df).map_err(table_err)?;
    atomic::write_bytes(path, &buf)
}

/// Writes `df` as a JSON array of row objects, atomically.
pub fn write_json(df: &DataFrame, path: &Path) -> Result<()> {
    let mut df = df.clone();
    let mut buf = Vec::new();
    JsonWriter::new(&mut buf).with_json_format(JsonFormat::Json).finish(&mut df).map_err(table_err)?;
    atomic::write_bytes(path, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_and_per_class_tables() {
        let c = Confusion { true_normal: 900, false_anomaly: 100, missed_anomaly: 50, true_anomaly: 8950 };
        let t = confusion_table(&c).unwrap();
        assert_eq!(t.shape(), (2, 3));
        let html = HtmlTable(t).to_html();
        assert!(html.contains("<td>8950</td>") && html.contains("<th>predicted anomaly</th>"), "{html}");
        let rows = vec![
            ClassDetection { class: 0, name: "T-shirt/top".into(), count: 1000, flagged: 100 },
            ClassDetection { class: 1, name: "Trouser".into(), count: 1000, flagged: 990 },
        ];
        let t = per_class_table(&rows, 0).unwrap();
        assert_eq!(t.column("rate").unwrap().f64().unwrap().get(1), Some(0.99));
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        write_csv(&t, &dir.path().join("t.csv")).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        assert!(csv.starts_with("class,name,role,count,flagged,rate\n0,T-shirt/top,normal,1000,100,0.1"), "{csv}");
        write_json(&t, &dir.path().join("t.json")).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("t.json")).unwrap()).unwrap();
        assert_eq!(json[1]["flagged"], 990);
    }

    #[test]
    fn mean_and_sample_sd() {
        assert_eq!(mean_sd(&[1.0, 3.0]), (2.0, Some(2f64.sqrt())));
        assert_eq!(mean_sd(&[0.5]), (0.5, None));
    }
}
