//! Rescores the checkpoint a run reports under another score config, for trying score levers
//! without retraining: `cargo run --release --example rescore -- RUN_DIR '{"anomaly_head": 4.0}'`.
//! Prints the validation and test AUROC.
use ganad_core::{evaluate, experiment, score::ScoreConfig};
use std::path::Path;

fn main() -> ganad_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(&args[1]);
    let (mut cfg, _, model) = experiment::load_reported(dir, tch::Device::Cpu)?;
    let mut score = serde_json::to_value(&cfg.eval.score).expect("serialisable");
    let patch: serde_json::Value = serde_json::from_str(args.get(2).map_or("{}", |s| s.as_str())).expect("a JSON object");
    for (k, v) in patch.as_object().expect("a JSON object") {
        score[k] = v.clone();
    }
    cfg.eval.score = serde_json::from_value::<ScoreConfig>(score).expect("a score config");
    let data = experiment::prepare(&cfg)?;
    let scorer = model.scorer(&cfg, &data.train_normal);
    let (e, _, _) = evaluate::evaluate(scorer.as_ref(), &data, cfg.eval.threshold_rule, cfg.train.eval_batch_size)?;
    let validation = e.validation.map_or_else(|| "—".to_string(), |v| format!("{:.4}", v.auroc));
    println!("{} validation {validation} test {:.4}", dir.display(), e.test.auroc);
    Ok(())
}
