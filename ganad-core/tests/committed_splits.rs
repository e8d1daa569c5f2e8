//! The splits of committed runs still come out of their configs: a change to how splits are
//! drawn (a new protocol field, say) must leave every earlier protocol's split as it was, or the
//! committed runs no longer say which images they trained and validated on.

use ganad_core::data::{FashionMnist, SourceOptions, Split};
use ganad_core::run::{files, RunRecord};
use std::path::Path;

fn check(run: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(run);
    let record: RunRecord = serde_json::from_str(&std::fs::read_to_string(dir.join(RunRecord::FILE)).unwrap()).unwrap();
    let dataset = FashionMnist::load(&SourceOptions::from_env(None)).unwrap();
    let split = Split::new(&dataset.train, &dataset.test, &record.config.split_spec()).unwrap();
    let mut validation: Vec<usize> = files::read_scores(&dir.join(RunRecord::VALIDATION_SCORES)).unwrap().iter().map(|r| r.index).collect();
    validation.sort_unstable();
    assert_eq!(split.validation, validation, "{run}: the validation images");
    let sizes = &record.split_sizes;
    assert_eq!(
        (split.train_normal.len(), split.train_anomaly.len(), split.train_pollution.len()),
        (sizes.train_normal, sizes.train_anomaly, 0),
        "{run}"
    );
}

#[test]
fn the_all_nine_protocols_committed_splits_reproduce() {
    check("results/sweep-ratio0.01/class6-seed1-gan");
    check("results/sweep-ratio0/class3-seed0-gan");
}
