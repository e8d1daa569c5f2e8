//! Charts as SVG (plotters, no font libraries: the browser renders the text) and image grids
//! as PNG. Each returns a value that notebooks display (`evcxr_display`) and that can be saved.

use crate::error::{Error, Result};
use crate::evaluation::metrics::{Confusion, RocPoint};
use crate::system::atomic;
use crate::training::train::{EpochRecord, StepRecord};
use base64::Engine;
use plotters::prelude::*;
use std::path::Path;
use tch::{Kind, Tensor};

/// An SVG document.
#[derive(Debug, Clone)]
pub struct Svg(pub String);

/// A PNG image.
#[derive(Debug, Clone)]
pub struct Png(pub Vec<u8>);

impl Svg {
    pub fn save(&self, path: &Path) -> Result<()> {
        atomic::write_bytes(path, self.0.as_bytes())
    }

    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT", self.0);
    }
}

impl Png {
    pub fn save(&self, path: &Path) -> Result<()> {
        atomic::write_bytes(path, &self.0)
    }

    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }

    pub fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT image/png\n{}\nEVCXR_END_CONTENT", self.base64());
    }
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Plot(e.to_string())
}

const SIZE: (u32, u32) = (720, 440);

/// Renders `draw` onto a fresh SVG canvas.
fn svg(size: (u32, u32), draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<()>) -> Result<Svg> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Svg(out))
}

/// ROC curves of several runs on one chart, with the chance diagonal.
pub fn roc_curves(curves: &[(String, Vec<RocPoint>)]) -> Result<Svg> {
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("ROC (anomaly = positive)", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(plot_err)?;
        chart.configure_mesh().x_desc("false positive rate").y_desc("true positive rate").draw().map_err(plot_err)?;
        chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3))).map_err(plot_err)?;
        for (i, (name, points)) in curves.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p.fpr, p.tpr)), color.stroke_width(2)))
                .map_err(plot_err)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    })
}

/// Histograms of normal vs anomaly scores, each normalised to its own count (9:1 imbalance).
pub fn score_histogram(scores: &[f32], labels: &[bool], bins: usize) -> Result<Svg> {
    let finite: Vec<f32> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    if finite.is_empty() || bins == 0 {
        return Err(Error::Plot("no finite scores to plot".into()));
    }
    let lo = finite.iter().copied().fold(f32::INFINITY, f32::min) as f64;
    let hi = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let width = ((hi - lo) / bins as f64).max(1e-12);
    let density = |want: bool| {
        let mut counts = vec![0f64; bins];
        let mut n = 0f64;
        for (&s, &l) in scores.iter().zip(labels) {
            if l == want && s.is_finite() {
                counts[(((s as f64 - lo) / width) as usize).min(bins - 1)] += 1.0;
                n += 1.0;
            }
        }
        counts.into_iter().map(move |c| c / n.max(1.0)).collect::<Vec<_>>()
    };
    let (normal, anomaly) = (density(false), density(true));
    let top = normal.iter().chain(&anomaly).copied().fold(0.0, f64::max) * 1.1;
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Anomaly scores", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi + width, 0f64..top.max(1e-9))
            .map_err(plot_err)?;
        chart.configure_mesh().x_desc("score").y_desc("share of the group").draw().map_err(plot_err)?;
        for (name, values, color) in [("normal", &normal, BLUE), ("anomaly", &anomaly, RED)] {
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let x0 = lo + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, v)], color.mix(0.45).filled())
                }))
                .map_err(plot_err)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.mix(0.45).filled()));
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw().map_err(plot_err)?;
        Ok(())
    })
}

/// The 8 loss terms over steps, one panel each (their scales differ by orders of magnitude).
pub fn loss_curves(history: &[StepRecord]) -> Result<Svg> {
    let names = crate::gan::losses::LossParts::<f64>::NAMES;
    svg((960, 520), |root| {
        let panels = root.split_evenly((2, 4));
        for (k, (panel, name)) in panels.iter().zip(names).enumerate() {
            let points: Vec<(f64, f64)> =
                history.iter().filter_map(|r| r.losses.terms()[k].map(|&v| (r.step as f64, v))).filter(|p| p.1.is_finite()).collect();
            let (x_max, y_lo, y_hi) =
                points.iter().fold((1.0f64, f64::INFINITY, f64::NEG_INFINITY), |(x, lo, hi), &(s, v)| (x.max(s), lo.min(v), hi.max(v)));
            let (y_lo, y_hi) = if points.is_empty() { (0.0, 1.0) } else { (y_lo, if y_hi > y_lo { y_hi } else { y_lo + 1.0 }) };
            let caption = if points.is_empty() { format!("{name} (off)") } else { name.to_string() };
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, ("sans-serif", 14))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(40)
                .build_cartesian_2d(0f64..x_max, y_lo..y_hi)
                .map_err(plot_err)?;
            chart.configure_mesh().x_labels(4).y_labels(5).draw().map_err(plot_err)?;
            chart.draw_series(LineSeries::new(points, Palette99::pick(k).stroke_width(1))).map_err(plot_err)?;
        }
        Ok(())
    })
}

/// Validation AUROC per epoch (an empty chart that says so where there is no validation set).
pub fn validation_curve(epochs: &[EpochRecord]) -> Result<Svg> {
    let points: Vec<(f64, f64)> = epochs.iter().filter_map(|e| e.validation_auroc.map(|v| (e.epoch as f64, v))).collect();
    let lo = points.iter().map(|p| p.1).fold(1.0, f64::min).min(0.9) - 0.02;
    let caption = if points.is_empty() { "Validation AUROC per epoch: no validation set" } else { "Validation AUROC per epoch" };
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..(epochs.len().max(2) - 1) as f64, lo..1.0)
            .map_err(plot_err)?;
        chart.configure_mesh().x_desc("epoch").y_desc("AUROC").draw().map_err(plot_err)?;
        chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2))).map_err(plot_err)?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, BLUE.filled()))).map_err(plot_err)?;
        Ok(())
    })
}

/// A method's name and its points: (labelled anomalies, mean AUROC, sd).
pub type CurveSeries = (String, Vec<(usize, f64, Option<f64>)>);

/// One line per method: mean test AUROC (± sd as a band of dots) against the number of
/// labelled anomalies, on a log scale where 0 labels sits at the left edge.
pub fn labels_curve(title: &str, series: &[CurveSeries]) -> Result<Svg> {
    // x = log10(labels), with 0 labels drawn half a decade left of the smallest count.
    let smallest = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).filter(|&n| n > 0).min().unwrap_or(1) as f64;
    let x_of = |n: usize| if n == 0 { smallest.log10() - 0.5 } else { (n as f64).log10() };
    let xs: Vec<f64> = series.iter().flat_map(|(_, p)| p.iter().map(|q| x_of(q.0))).collect();
    let (x_lo, x_hi) = (xs.iter().copied().fold(f64::INFINITY, f64::min) - 0.2, xs.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 0.2);
    let lo = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1 - q.2.unwrap_or(0.0))).fold(1.0, f64::min).min(0.9) - 0.01;
    let labels: Vec<usize> = {
        let mut v: Vec<usize> = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    svg((760, 460), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(x_lo..x_hi, lo..1.0)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("labelled anomalies (log scale)")
            .y_desc("test AUROC")
            .x_labels(0)
            .disable_x_mesh()
            .draw()
            .map_err(plot_err)?;
        // The measured counts are the x axis's labels, each at its own position.
        let y_text = lo + (1.0 - lo) * 0.01;
        chart.draw_series(labels.iter().map(|&n| Text::new(n.to_string(), (x_of(n), y_text), ("sans-serif", 12)))).map_err(plot_err)?;
        for (k, (name, points)) in series.iter().enumerate() {
            let color = Palette99::pick(k).mix(1.0);
            let line: Vec<(f64, f64)> = points.iter().map(|q| (x_of(q.0), q.1)).collect();
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                .map_err(plot_err)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], Palette99::pick(k).stroke_width(2)));
            chart.draw_series(line.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(plot_err)?;
            for q in points.iter().filter(|q| q.2.is_some()) {
                let (x, sd) = (x_of(q.0), q.2.unwrap_or(0.0));
                chart
                    .draw_series(std::iter::once(PathElement::new(vec![(x, q.1 - sd), (x, q.1 + sd)], color.stroke_width(1))))
                    .map_err(plot_err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .draw()
            .map_err(plot_err)?;
        Ok(())
    })
}

/// The 2×2 confusion matrix as a heatmap with counts.
pub fn confusion_heatmap(c: &Confusion) -> Result<Svg> {
    let cells = [[c.true_normal, c.false_anomaly], [c.missed_anomaly, c.true_anomaly]];
    let row_totals = [c.true_normal + c.false_anomaly, c.missed_anomaly + c.true_anomaly];
    svg((480, 440), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Confusion (rows: actual, columns: predicted)", ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..2f64, 0f64..2f64)
            .map_err(plot_err)?;
        let label = |v: &f64| if *v < 1.0 { "normal".to_string() } else { "anomaly".to_string() };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2)
            .y_labels(2)
            .x_label_formatter(&label)
            .y_label_formatter(&label)
            .draw()
            .map_err(plot_err)?;
        for (r, row) in cells.iter().enumerate() {
            for (col, &n) in row.iter().enumerate() {
                let share = n as f64 / row_totals[r].max(1) as f64;
                let y = 1.0 - r as f64; // actual "normal" on top
                let shade = RGBColor(255 - (200.0 * share) as u8, 255 - (120.0 * share) as u8, 255);
                chart.draw_series([Rectangle::new([(col as f64, y), (col as f64 + 1.0, y + 1.0)], shade.filled())]).map_err(plot_err)?;
                chart
                    .draw_series([Text::new(format!("{n} ({:.1}%)", 100.0 * share), (col as f64 + 0.3, y + 0.55), ("sans-serif", 16))])
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    })
}

/// Bars of one value per class (e.g. AUROC per normal class), optionally beside a reference.
pub fn per_class_bars(title: &str, ours: &[(String, f64)], reference: Option<(&str, &[f64])>) -> Result<Svg> {
    let lo = ours.iter().map(|p| p.1).chain(reference.iter().flat_map(|r| r.1.iter().copied())).fold(1.0, f64::min).min(0.8) - 0.05;
    svg((900, 440), |root| {
        let n = ours.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..n as f64, lo..1.0)
            .map_err(plot_err)?;
        let names: Vec<String> = ours.iter().map(|p| p.0.clone()).collect();
        let label = move |v: &f64| names.get(*v as usize).cloned().unwrap_or_default();
        chart.configure_mesh().disable_x_mesh().x_labels(n + 1).x_label_formatter(&label).y_desc("AUROC").draw().map_err(plot_err)?;
        let w = if reference.is_some() { 0.4 } else { 0.8 };
        chart
            .draw_series(
                ours.iter()
                    .enumerate()
                    .map(|(i, p)| Rectangle::new([(i as f64 + 0.1, lo), (i as f64 + 0.1 + w, p.1)], BLUE.mix(0.7).filled())),
            )
            .map_err(plot_err)?
            .label("ganad")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], BLUE.mix(0.7).filled()));
        if let Some((name, values)) = reference {
            chart
                .draw_series(
                    values
                        .iter()
                        .enumerate()
                        .take(n)
                        .map(|(i, &v)| Rectangle::new([(i as f64 + 0.5, lo), (i as f64 + 0.9, v)], RED.mix(0.5).filled())),
                )
                .map_err(plot_err)?
                .label(name)
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], RED.mix(0.5).filled()));
            chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw().map_err(plot_err)?;
        }
        Ok(())
    })
}

/// Rows of images `[N, 1, 32, 32]` in [−1, 1] (e.g. inputs, reconstructions, |difference|),
/// tiled into one grayscale PNG, each pixel drawn `scale`× larger.
pub fn image_grid(rows: &[&Tensor], scale: usize) -> Result<Png> {
    let first = rows.first().ok_or_else(|| Error::Plot("no rows to draw".into()))?;
    let size = first.size();
    if size.len() != 4 || size[1] != 1 {
        return Err(Error::Shape(format!("image grid wants [N, 1, H, W], got {size:?}")));
    }
    let (n, h, w) = (size[0] as usize, size[2] as usize, size[3] as usize);
    if let Some(bad) = rows.iter().find(|r| r.size() != size) {
        return Err(Error::Shape(format!("image grid rows differ: {:?} vs {size:?}", bad.size())));
    }
    let gap = 2;
    let (cell_w, cell_h) = (w * scale + gap, h * scale + gap);
    let (width, height) = (n * cell_w + gap, rows.len() * cell_h + gap);
    let mut pixels = vec![255u8; width * height];
    for (r, row) in rows.iter().enumerate() {
        let values: Vec<f32> = Vec::try_from(row.to_device(tch::Device::Cpu).to_kind(Kind::Float).flatten(0, -1)).map_err(plot_err)?;
        for i in 0..n {
            for y in 0..h * scale {
                for x in 0..w * scale {
                    let v = values[i * h * w + (y / scale) * w + x / scale];
                    let byte = ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
                    pixels[(gap + r * cell_h + y) * width + gap + i * cell_w + x] = byte;
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(plot_err)?;
        writer.write_image_data(&pixels).map_err(plot_err)?;
    }
    Ok(Png(out))
}

/// Inputs, reconstructions and |difference| (rows) of `images` `[N, 1, 32, 32]`.
pub fn reconstruction_grid(generator: &crate::nets::Generator, images: &Tensor) -> Result<Png> {
    let reconstruction = tch::no_grad(|| tch::nn::ModuleT::forward_t(generator, images, false));
    // |x − x̂| spans [0, 2]; shift to [−1, 1] so white = large error.
    let difference = (images - &reconstruction).abs() - 1.0;
    image_grid(&[images, &reconstruction, &difference], 3)
}

/// `per_class` training images of each class, one row per class.
pub fn class_samples(source: &crate::data::LabelledImages, per_class: usize) -> Result<Png> {
    let rows: Vec<Tensor> = (0..crate::data::NUM_CLASSES as u8)
        .map(|c| {
            let idx: Vec<usize> = source.indices_of(c).into_iter().take(per_class).collect();
            crate::data::ImageSet::new(source, &idx, c, tch::Device::Cpu).images
        })
        .collect();
    image_grid(&rows.iter().collect::<Vec<_>>(), 2)
}

#[cfg(test)]
mod labels_curve_tests {
    #[test]
    fn the_labels_curve_draws_each_method_and_its_counts() {
        let series = vec![
            ("gan".to_string(), vec![(0, 0.93, Some(0.01)), (5, 0.94, None), (54, 0.96, Some(0.005))]),
            ("classifier".to_string(), vec![(5, 0.80, None), (54, 0.95, None)]),
        ];
        let svg: String = super::labels_curve("test", &series).unwrap().0.split_whitespace().collect();
        assert!(svg.contains(">gan<") && svg.contains(">classifier<"), "the legend");
        for count in ["0", "5", "54"] {
            assert_eq!(svg.matches(&format!(">{count}<")).count(), 1, "the x axis names {count} once");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gan::losses::LossParts;

    fn is_svg(s: &Svg) {
        assert!(
            s.0.starts_with("<svg") && s.0.trim_end().ends_with("</svg>") && s.0.len() > 500,
            "not an svg: {}",
            &s.0[..s.0.len().min(200)]
        );
    }

    #[test]
    fn every_chart_renders() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2];
        let labels = [false, false, true, true, true, false];
        let roc = crate::evaluation::metrics::roc_curve(&scores, &labels).unwrap();
        let svg = roc_curves(&[("gan".into(), roc.clone()), ("ae".into(), roc)]).unwrap();
        is_svg(&svg);
        assert!(svg.0.contains("gan") && svg.0.contains("<polyline"), "legend or curve missing");
        is_svg(&score_histogram(&scores, &labels, 10).unwrap());
        let history: Vec<StepRecord> = (0..5)
            .map(|s| StepRecord {
                epoch: 0,
                step: s,
                losses: LossParts { reconstruction: Some(1.0 / (s + 1) as f64), abc: Some(0.5), ..Default::default() },
                generator_total: Some(1.0),
                wall_s: s as f64,
            })
            .collect();
        let losses = loss_curves(&history).unwrap();
        is_svg(&losses);
        assert!(losses.0.contains("latent (off)"));
        let epochs: Vec<EpochRecord> = (0..3)
            .map(|e| EpochRecord {
                epoch: e,
                steps: 5,
                validation_auroc: Some(0.9 + 0.01 * e as f64),
                component_aurocs: Default::default(),
                wall_s: 1.0,
            })
            .collect();
        is_svg(&validation_curve(&epochs).unwrap());
        let c = Confusion { true_normal: 900, false_anomaly: 100, missed_anomaly: 50, true_anomaly: 8950 };
        let heat = confusion_heatmap(&c).unwrap();
        is_svg(&heat);
        assert!(heat.0.contains("8950 (99.4%)"));
        let ours: Vec<(String, f64)> = (0..10).map(|i| (format!("c{i}"), 0.9)).collect();
        is_svg(&per_class_bars("AUROC", &ours, Some(("GeoTrans", &crate::reports::reference::GEOTRANS_PER_CLASS))).unwrap());
        let dir = crate::system::tempdir::TempDir::new("test").unwrap();
        svg.save(&dir.path().join("roc.svg")).unwrap();
        assert!(std::fs::metadata(dir.path().join("roc.svg")).unwrap().len() > 500);
        assert!(score_histogram(&[f32::NAN], &[true], 10).is_err());
    }

    #[test]
    fn image_grid_is_a_png_of_the_right_size() {
        let a = Tensor::zeros([3, 1, 32, 32], (Kind::Float, tch::Device::Cpu));
        let b = Tensor::ones([3, 1, 32, 32], (Kind::Float, tch::Device::Cpu));
        let png = image_grid(&[&a, &b, &(&a - &b).abs()], 2).unwrap();
        assert_eq!(&png.0[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png.0));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (3 * 66 + 2, 3 * 66 + 2));
        assert!(image_grid(&[&a, &Tensor::zeros([2, 1, 32, 32], (Kind::Float, tch::Device::Cpu))], 1).is_err());
    }
}
