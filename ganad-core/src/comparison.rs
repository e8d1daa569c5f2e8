//! ganad beside the field: each protocol's committed sweep as a table of its methods' mean test
//! AUROC per normal class (each run's last epoch), with the published rows of that protocol
//! under it, and the labels curve (test AUROC against the number of labelled anomalies).
//! Notebook 05 and the README show these.

use crate::data::CLASS_NAMES;
use crate::error::{Error, Result};
use crate::reference::PublishedRow;
use crate::run::RunRecord;
use crate::sweep;
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Our methods' rows (mean ± sd per class over its runs, the class mean), then the published
/// rows; "—" where a number does not exist.
pub fn protocol_table(records: &[RunRecord], published: &[PublishedRow]) -> Result<DataFrame> {
    let summary = crate::summary::summarise(records);
    let mut methods: Vec<crate::run::Method> = records.iter().map(|r| r.method).collect();
    methods.sort();
    methods.dedup();
    let cell = |s: &crate::summary::Stat| match s.sd {
        Some(sd) => format!("{:.3} ± {:.3}", s.mean, sd),
        None => format!("{:.3}", s.mean),
    };
    let mut names: Vec<String> = methods.iter().map(|m| format!("{} (ganad, measured)", m.name())).collect();
    names.extend(published.iter().map(|p| format!("{} (published: {})", p.method, p.source)));
    let mut columns = vec![Column::new("method".into(), names)];
    for c in 0..CLASS_NAMES.len() as u8 {
        let mut values: Vec<String> =
            methods.iter().map(|m| summary[m.name()].per_class.get(&c).map(cell).unwrap_or_else(|| "—".into())).collect();
        values.extend(published.iter().map(|p| p.per_class.map_or_else(|| "—".to_string(), |v| format!("{:.3}", v[c as usize]))));
        columns.push(Column::new(format!("{c} {}", CLASS_NAMES[c as usize]).into(), values));
    }
    let mut means: Vec<String> = methods
        .iter()
        .map(|m| {
            let s = &summary[m.name()];
            let complete = s.per_class.len() == CLASS_NAMES.len();
            format!("{:.3}{}", s.overall.mean, if complete { "" } else { " (classes so far)" })
        })
        .collect();
    means.extend(published.iter().map(|p| format!("{:.3}", p.mean)));
    columns.push(Column::new("mean".into(), means));
    let mut runs: Vec<String> = methods.iter().map(|m| records.iter().filter(|r| r.method == *m).count().to_string()).collect();
    runs.extend(published.iter().map(|_| "—".to_string()));
    columns.push(Column::new("runs".into(), runs));
    DataFrame::new_infer_height(columns).map_err(|e| Error::Table(e.to_string()))
}

/// A committed sweep's table and its protocol line; `None` where the directory holds no runs yet.
pub fn sweep_table(dir: &Path, published: &[PublishedRow]) -> Result<Option<(DataFrame, String)>> {
    if !dir.join(sweep::SweepPlan::FILE).is_file() {
        return Ok(None);
    }
    let (records, _) = sweep::collect(dir)?;
    if records.is_empty() {
        return Ok(None);
    }
    Ok(Some((protocol_table(&records, published)?, sweep::protocol(&records))))
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

/// The labels curve from `dir`'s sweeps, one per anomaly ratio (`ratio*/`), ordered by ratio.
pub fn labels_curve(dir: &Path) -> Result<Vec<CurvePoint>> {
    let mut sweeps: Vec<std::path::PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join(sweep::SweepPlan::FILE).is_file()).collect(),
        Err(_) => return Ok(Vec::new()),
    };
    sweeps.sort();
    let mut points = Vec::new();
    for s in sweeps {
        let (records, _) = sweep::collect(&s)?;
        let mut by_method: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
        for r in &records {
            by_method.entry(r.method.name()).or_default().push(r);
        }
        for (method, runs) in by_method {
            let owned: Vec<RunRecord> = runs.iter().map(|r| (*r).clone()).collect();
            let summary = crate::summary::summarise(&owned).remove(method).expect("the method's runs");
            points.push(CurvePoint {
                method: method.to_string(),
                ratio: runs[0].anomaly_ratio,
                labels: runs[0].split_sizes.train_anomaly,
                auroc: summary.overall.mean,
                sd: summary.overall.sd,
                runs: runs.len(),
            });
        }
    }
    points.sort_by(|a, b| a.method.cmp(&b.method).then(a.ratio.total_cmp(&b.ratio)));
    Ok(points)
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
pub fn labels_chart(points: &[CurvePoint]) -> Result<crate::plots::Svg> {
    let mut series: Vec<crate::plots::CurveSeries> = Vec::new();
    for p in points {
        match series.iter_mut().find(|(m, _)| *m == p.method) {
            Some((_, v)) => v.push((p.labels, p.auroc, p.sd)),
            None => series.push((p.method.clone(), vec![(p.labels, p.auroc, p.sd)])),
        }
    }
    crate::plots::labels_curve("Test AUROC against labelled anomalies (ganad's protocol, classes 0, 2, 4, 6)", &series)
}

/// [`sweep_table`] for a notebook cell: the table, its protocol line printed above it, or a
/// one-line table that says no run is committed yet.
pub fn notebook_table(dir: &Path, published: &[PublishedRow]) -> Result<crate::tables::HtmlTable> {
    match sweep_table(dir, published)? {
        Some((table, protocol)) => {
            println!("Protocol: {protocol}.");
            Ok(crate::tables::HtmlTable(table))
        }
        None => {
            let note = format!("no run committed yet in {}", dir.display());
            Ok(crate::tables::HtmlTable(df!("note" => [note]).map_err(|e| Error::Table(e.to_string()))?))
        }
    }
}

/// The labels curve of `dir` for a notebook cell (a note where no sweep is committed yet).
pub fn notebook_labels_chart(dir: &Path) -> Result<crate::plots::Svg> {
    let points = labels_curve(dir)?;
    if points.is_empty() {
        println!("no labels-curve sweep committed yet in {}", dir.display());
        return Ok(crate::plots::Svg(String::new()));
    }
    println!("{}", crate::tables::to_markdown(&labels_table(&points)?));
    labels_chart(&points)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed one-class sweep (where present) becomes a table with the published rows.
    #[test]
    fn a_protocol_table_puts_the_published_rows_under_ours() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/deep-sad-unlabelled");
        let (table, protocol) = sweep_table(&dir, &crate::reference::DEEP_SAD_UNLABELLED).unwrap().expect("committed");
        assert!(protocol.contains("γ_p = 0.1") && protocol.contains("no labelled anomaly"), "{protocol}");
        let methods: Vec<String> =
            (0..table.height()).map(|i| table.column("method").unwrap().str().unwrap().get(i).unwrap().to_string()).collect();
        assert_eq!(methods[0], "deep-sad (ganad, measured)");
        assert!(methods[1].starts_with("Deep SAD (Deep SVDD-like) (published"), "{methods:?}");
        assert_eq!(table.width(), 1 + 10 + 2);
        assert!(sweep_table(Path::new("/nonexistent"), &[]).unwrap().is_none());
    }
}
