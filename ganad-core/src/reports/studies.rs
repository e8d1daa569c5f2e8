//! A study's table (`ganad ablation`): variants × classes, with the protocol line.

use crate::error::Result;
use crate::experiments::ablation::{Study, VariantResult};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// The study's table: variants × classes, "mean ± sd" of test AUROC, the mean over the classes
/// (sd over the per-seed means), its difference to the first variant, and seconds per run.
pub fn table(results: &[VariantResult]) -> Result<DataFrame> {
    let classes: Vec<u8> = results.first().map(|r| r.summary.per_class.keys().copied().collect()).unwrap_or_default();
    let cell = |s: &crate::experiments::summary::Stat| match s.sd {
        Some(sd) => format!("{:.4} ± {:.4}", s.mean, sd),
        None => format!("{:.4}", s.mean),
    };
    let base = results.first().map(|r| r.summary.overall.mean).unwrap_or(f64::NAN);
    let mut columns = vec![Column::new("variant".into(), results.iter().map(|r| r.name.clone()).collect::<Vec<_>>())];
    for c in &classes {
        let values: Vec<String> = results.iter().map(|r| r.summary.per_class.get(c).map(cell).unwrap_or_else(|| "—".into())).collect();
        columns.push(Column::new(format!("{c} {}", crate::data::CLASS_NAMES[*c as usize]).into(), values));
    }
    columns.push(Column::new("mean".into(), results.iter().map(|r| cell(&r.summary.overall)).collect::<Vec<_>>()));
    columns
        .push(Column::new("Δ mean".into(), results.iter().map(|r| format!("{:+.4}", r.summary.overall.mean - base)).collect::<Vec<_>>()));
    columns.push(Column::new("train s / run".into(), results.iter().map(|r| format!("{:.0}", r.train_s_mean)).collect::<Vec<_>>()));
    columns.push(Column::new("runs".into(), results.iter().map(|r| r.runs as u32).collect::<Vec<_>>()));
    DataFrame::new_infer_height(columns).map_err(|e| crate::Error::Table(e.to_string()))
}

/// Writes `study.json`, `study.html` and `study.md` (named after the study) into `out`.
pub fn write_table(out: &Path, study: Study, results: &[VariantResult]) -> Result<PathBuf> {
    let name = match study {
        Study::Levers => "ablation",
        Study::Precision => "precision",
    };
    let df = table(results)?;
    let protocol = "test AUROC on the full test split, anomaly ratio and profile as in each run's config; \
                    the last epoch of each run's fixed schedule; \
                    mean ± sample sd over seeds; the mean's sd is over the per-seed means of the classes";
    let json = serde_json::json!({
        "provenance": crate::experiments::run::Provenance::now(),
        "study": name,
        "protocol": protocol,
        "variants": results,
    });
    crate::system::atomic::write_json(&out.join(format!("{name}.json")), &json)?;
    crate::system::atomic::write_bytes(
        &out.join(format!("{name}.html")),
        crate::reports::tables::HtmlTable(df.clone()).to_html().as_bytes(),
    )?;
    let md = format!("{}\nProtocol: {protocol}.\n", crate::reports::tables::to_markdown(&df));
    let path = out.join(format!("{name}.md"));
    crate::system::atomic::write_bytes(&path, md.as_bytes())?;
    Ok(path)
}
