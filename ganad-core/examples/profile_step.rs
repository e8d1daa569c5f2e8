//! Runs training steps of the paper-recipe GAN in a loop, for a profiler (`perf record`):
//! `cargo run --release --example profile_step -- BATCH STEPS [fp32|auto]`.
use ganad_core::config::{Config, PrecisionChoice, Profile, Recipe};
use ganad_core::model::Model;
use ganad_core::run::Method;
use ganad_core::train::Optimizers;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

// The allocator the `ganad` binary links (see src/main.rs), so the profile is of the same process.
#[cfg_attr(tcmalloc, link(name = "libtcmalloc_minimal.so.4", kind = "dylib", modifiers = "+verbatim"))]
unsafe extern "C" {}

fn main() -> ganad_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let batch: i64 = args.get(1).map_or(64, |s| s.parse().expect("BATCH"));
    let steps: usize = args.get(2).map_or(50, |s| s.parse().expect("STEPS"));
    let mut cfg = Config::recipe(Recipe::Paper, Profile::Default);
    cfg.train.precision = if args.get(3).map(String::as_str) == Some("fp32") { PrecisionChoice::Fp32 } else { PrecisionChoice::Auto };
    tch::set_num_threads(std::env::var("THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(2));
    ganad_core::device::keep_freed_memory();
    tch::manual_seed(0);
    let model = Model::new(Method::Gan, &cfg, Device::Cpu)?;
    let mut optimizers = Optimizers::new(&model, &cfg);
    let normals = Tensor::rand([batch, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let anomalies = Tensor::rand([(batch / 4).max(1), 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let mut times = Vec::new();
    for _ in 0..steps {
        let t = Instant::now();
        let parts = model.losses(&cfg, &normals, Some(&anomalies));
        let _ = parts.values();
        optimizers.update(&model, &parts, &cfg.loss, cfg.train.learning_rate, 0.0)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("batch {batch}: median step {:.1} ms", times[times.len() / 2]);
    if std::env::var("PROFILE_PARTS").is_ok() {
        // The step's parts: forward (losses and their values), gradients, Adam updates.
        let (mut fwd, mut grad, mut apply) = (Vec::new(), Vec::new(), Vec::new());
        let Model::Gan(gan) = &model else { unreachable!() };
        let mut adams: Vec<ganad_core::adam::Adam> =
            gan.stores().iter().map(|(_, vs)| ganad_core::adam::Adam::new(vs, ganad_core::train::adam_config(&cfg))).collect();
        for _ in 0..steps {
            let t = Instant::now();
            let parts = model.losses(&cfg, &normals, Some(&anomalies));
            let _ = parts.values();
            fwd.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let objectives = model.objectives(&parts, &cfg.loss);
            let n = objectives.len();
            let grads: Vec<Vec<Tensor>> =
                objectives.iter().zip(&adams).enumerate().map(|(i, ((_, l), a))| a.gradients(l, i + 1 < n)).collect();
            grad.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            for (a, g) in adams.iter_mut().zip(&grads) {
                a.apply(g);
            }
            apply.push(t.elapsed().as_secs_f64() * 1e3);
        }
        for (name, mut v) in [("forward", fwd), ("gradients", grad), ("adam", apply)] {
            v.sort_by(f64::total_cmp);
            println!("  {name}: {:.1} ms", v[v.len() / 2]);
        }
    }
    Ok(())
}
