//! ganad beside the field: each protocol's committed sweep as a table of its methods' mean test
//! AUROC per normal class (each run's last epoch), with the published rows of that protocol
//! under it, and the labels curve (test AUROC against the number of labelled anomalies).
//! Notebook 05 and the README show these.

use crate::data::CLASS_NAMES;
use crate::error::{Error, Result};
use crate::reports::reference::PublishedRow;
use polars::prelude::*;
use std::path::Path;

/// A sweep's `summary.json`: what its summary says (`ganad sweep` and `--collect` write it,
/// `scripts/check_results.py` checks it against the runs).
fn read_summary(dir: &Path) -> Result<Option<serde_json::Value>> {
    let path = dir.join("summary.json");
    if !path.is_file() {
        return Ok(None);
    }
    crate::system::atomic::read_json(&path).map(Some)
}

/// A stat of summary.json: "mean ± sd", or the mean alone.
fn stat_cell(stat: &serde_json::Value) -> Option<String> {
    let mean = stat["mean"].as_f64()?;
    Some(match stat["sd"].as_f64() {
        Some(sd) => format!("{mean:.3} ± {sd:.3}"),
        None => format!("{mean:.3}"),
    })
}

/// Our methods' rows (mean ± sd per class over its runs, the class mean), then the published
/// rows; "—" where a number does not exist.
pub fn protocol_table(summary: &serde_json::Value, published: &[PublishedRow]) -> Result<DataFrame> {
    let empty = serde_json::Map::new();
    let methods = summary["methods"].as_object().unwrap_or(&empty);
    let runs = summary["runs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut names: Vec<String> = methods.keys().map(|m| format!("{m} (ganad, measured)")).collect();
    names.extend(published.iter().map(|p| format!("{} (published: {})", p.method, p.source)));
    let mut columns = vec![Column::new("method".into(), names)];
    for c in 0..CLASS_NAMES.len() {
        let mut values: Vec<String> =
            methods.values().map(|m| stat_cell(&m["per_class"][c.to_string()]).unwrap_or_else(|| "—".into())).collect();
        values.extend(published.iter().map(|p| p.per_class.map_or_else(|| "—".to_string(), |v| format!("{:.3}", v[c]))));
        columns.push(Column::new(format!("{c} {}", CLASS_NAMES[c]).into(), values));
    }
    let mut means: Vec<String> = methods
        .values()
        .map(|m| {
            let complete = m["per_class"].as_object().is_some_and(|p| p.len() == CLASS_NAMES.len());
            format!("{:.3}{}", m["overall"]["mean"].as_f64().unwrap_or(f64::NAN), if complete { "" } else { " (classes so far)" })
        })
        .collect();
    means.extend(published.iter().map(|p| format!("{:.3}", p.mean)));
    columns.push(Column::new("mean".into(), means));
    let mut counts: Vec<String> = methods.keys().map(|m| runs.iter().filter(|r| r["method"] == m.as_str()).count().to_string()).collect();
    counts.extend(published.iter().map(|_| "—".to_string()));
    columns.push(Column::new("runs".into(), counts));
    DataFrame::new_infer_height(columns).map_err(|e| Error::Table(e.to_string()))
}

/// A committed sweep's table and its protocol line, from its summary; `None` where the
/// directory holds no summary yet.
pub fn sweep_table(dir: &Path, published: &[PublishedRow]) -> Result<Option<(DataFrame, String)>> {
    let Some(summary) = read_summary(dir)? else { return Ok(None) };
    let protocol = summary["protocol"].as_str().unwrap_or("").to_string();
    Ok(Some((protocol_table(&summary, published)?, protocol)))
}

/// One point of the labels curve: a method at one count of labelled anomalies.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub method: String,
    pub ratio: f64,
    pub labels: usize,
    /// Mean over the classes of each class's mean over seeds.
    pub auroc: f64,
    /// Sample sd over seeds of the class mean (seeds run on every class only).
    pub sd: Option<f64>,
    pub runs: usize,
}

/// The labels curve from `dir`'s sweeps, one per anomaly ratio (`ratio*/`, their summaries),
/// ordered by method and ratio.
pub fn labels_curve(dir: &Path) -> Result<Vec<CurvePoint>> {
    let mut sweeps: Vec<std::path::PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("summary.json").is_file()).collect(),
        Err(_) => return Ok(Vec::new()),
    };
    sweeps.sort();
    let mut points = Vec::new();
    for s in sweeps {
        let Some(summary) = read_summary(&s)? else { continue };
        let runs = summary["runs"].as_array().cloned().unwrap_or_default();
        for (method, stats) in summary["methods"].as_object().cloned().unwrap_or_default() {
            let mine: Vec<&serde_json::Value> = runs.iter().filter(|r| r["method"] == method.as_str()).collect();
            let Some(first) = mine.first() else { continue };
            points.push(CurvePoint {
                method: method.clone(),
                ratio: first["anomaly_ratio"].as_f64().unwrap_or(f64::NAN),
                labels: labelled_anomalies(&s, first)?,
                auroc: stats["overall"]["mean"].as_f64().unwrap_or(f64::NAN),
                sd: stats["overall"]["sd"].as_f64(),
                runs: mine.len(),
            });
        }
    }
    points.sort_by(|a, b| a.method.cmp(&b.method).then(a.ratio.total_cmp(&b.ratio)));
    Ok(points)
}

/// A summary entry's count of labelled anomalies, or (summaries written before they recorded
/// it) its run's.
fn labelled_anomalies(sweep: &Path, entry: &serde_json::Value) -> Result<usize> {
    if let Some(n) = entry["labelled_anomalies"].as_u64() {
        return Ok(n as usize);
    }
    let run = sweep.join(entry["dir"].as_str().unwrap_or_default()).join(crate::experiments::run::RunRecord::FILE);
    let record: serde_json::Value = crate::system::atomic::read_json(&run)?;
    record["split_sizes"]["train_anomaly"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| Error::Table(format!("{}: no split_sizes.train_anomaly", run.display())))
}

/// The curve's points as a table: ratio, labelled anomalies, and each method's AUROC.
pub fn labels_table(points: &[CurvePoint]) -> Result<DataFrame> {
    df!(
        "method" => points.iter().map(|p| p.method.clone()).collect::<Vec<_>>(),
        "anomaly ratio" => points.iter().map(|p| p.ratio).collect::<Vec<_>>(),
        "labelled anomalies" => points.iter().map(|p| p.labels as u32).collect::<Vec<_>>(),
        "test AUROC (mean over classes)" => points.iter().map(|p| p.auroc).collect::<Vec<_>>(),
        "sd over seeds" => points.iter().map(|p| p.sd).collect::<Vec<_>>(),
        "runs" => points.iter().map(|p| p.runs as u32).collect::<Vec<_>>(),
    )
    .map_err(|e| Error::Table(e.to_string()))
}

/// The curve as a chart: one line per method.
pub fn labels_chart(points: &[CurvePoint]) -> Result<crate::reports::plots::Svg> {
    let mut series: Vec<crate::reports::plots::CurveSeries> = Vec::new();
    for p in points {
        match series.iter_mut().find(|(m, _)| *m == p.method) {
            Some((_, v)) => v.push((p.labels, p.auroc, p.sd)),
            None => series.push((p.method.clone(), vec![(p.labels, p.auroc, p.sd)])),
        }
    }
    crate::reports::plots::labels_curve("Test AUROC against labelled anomalies (ganad's protocol, classes 0, 2, 4, 6)", &series)
}

/// [`sweep_table`] for a notebook cell: the table, its protocol line printed above it, or a
/// one-line table that says no run is committed yet.
pub fn notebook_table(dir: &Path, published: &[PublishedRow]) -> Result<crate::reports::tables::HtmlTable> {
    match sweep_table(dir, published)? {
        Some((table, protocol)) => {
            println!("Protocol: {protocol}.");
            Ok(crate::reports::tables::HtmlTable(table))
        }
        None => {
            let note = format!("no run committed yet in {}", dir.display());
            Ok(crate::reports::tables::HtmlTable(df!("note" => [note]).map_err(|e| Error::Table(e.to_string()))?))
        }
    }
}

/// The labels curve of `dir` for a notebook cell (a note where no sweep is committed yet).
pub fn notebook_labels_chart(dir: &Path) -> Result<crate::reports::plots::Svg> {
    let points = labels_curve(dir)?;
    if points.is_empty() {
        println!("no labels-curve sweep committed yet in {}", dir.display());
        return Ok(crate::reports::plots::Svg(String::new()));
    }
    println!("{}", crate::reports::tables::to_markdown(&labels_table(&points)?));
    labels_chart(&points)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed one-class sweep (where present) becomes a table with the published rows.
    #[test]
    fn a_protocol_table_puts_the_published_rows_under_ours() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/deep-sad-unlabelled");
        let (table, protocol) = sweep_table(&dir, &crate::reports::reference::DEEP_SAD_UNLABELLED).unwrap().expect("committed");
        assert!(protocol.contains("γ_p = 0.1") && protocol.contains("no labelled anomaly"), "{protocol}");
        let methods: Vec<String> =
            (0..table.height()).map(|i| table.column("method").unwrap().str().unwrap().get(i).unwrap().to_string()).collect();
        assert_eq!(methods[0], "deep-sad (ganad, measured)");
        assert!(methods[1].starts_with("Deep SAD (Deep SVDD-like) (published"), "{methods:?}");
        assert_eq!(table.width(), 1 + 10 + 2);
        assert!(sweep_table(Path::new("/nonexistent"), &[]).unwrap().is_none());
    }
}
