//! Our AUROC and average precision against scikit-learn's, on stored cases with heavy ties and
//! constant scores. The fixture and the script that made it live in tests/fixtures/.

use ganad_core::metrics::{auroc, average_precision};

#[test]
fn auroc_and_ap_equal_scikit_learn_to_1e9() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auroc_sklearn.json")).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 100);
    for (i, case) in cases.iter().enumerate() {
        let scores: Vec<f32> = case["scores"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let labels: Vec<bool> = case["labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() == 1).collect();
        let ours = auroc(&scores, &labels).unwrap();
        let theirs = case["auroc"].as_f64().unwrap();
        assert!((ours - theirs).abs() < 1e-9, "case {i}: auroc {ours} vs sklearn {theirs}");
        let ours = average_precision(&scores, &labels).unwrap();
        let theirs = case["average_precision"].as_f64().unwrap();
        assert!((ours - theirs).abs() < 1e-9, "case {i}: AP {ours} vs sklearn {theirs}");
    }
}
