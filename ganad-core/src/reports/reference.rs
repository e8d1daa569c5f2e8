//! Numbers to place ours against: the seed presentation and published results
//! (docs/protocols.md). Always quoted with their protocol.

/// The seed: a student presentation of this method on Fashion-MNIST, one normal class.
pub const SEED_GAN_AUROC: f64 = 0.99155;
pub const SEED_AUTOENCODER_AUROC: f64 = 0.8758;
pub const SEED_RANDOM_AUROC: f64 = 0.49765;

/// A published mean AUROC over the 10 Fashion-MNIST classes, with its protocol.
#[derive(Debug, Clone, Copy)]
pub struct Published {
    pub method: &'static str,
    pub mean_auroc: f64,
    pub protocol: &'static str,
}

pub const PUBLISHED: [Published; 8] = [
    Published { method: "Kim et al. (this paper)", mean_auroc: 0.986, protocol: "labelled anomalies in training, ratio not published" },
    Published { method: "ESAD", mean_auroc: 0.953, protocol: "1–20 % labelled anomalies (0.953–0.959)" },
    Published { method: "Deep SAD", mean_auroc: 0.900, protocol: "few labelled anomalies (0.900–0.913)" },
    Published { method: "GeoTrans", mean_auroc: 0.935, protocol: "normal-only" },
    Published { method: "ARNet", mean_auroc: 0.939, protocol: "normal-only" },
    Published { method: "DROC", mean_auroc: 0.948, protocol: "normal-only" },
    Published { method: "Deep SVDD", mean_auroc: 0.892, protocol: "normal-only" },
    Published { method: "AGAD", mean_auroc: 1.000, protocol: "labelled anomalies (reported 100.0)" },
];

/// GeoTrans per class (normal-only), the only per-class anchor we have.
pub const GEOTRANS_PER_CLASS: [f64; 10] = [0.994, 0.976, 0.911, 0.899, 0.921, 0.934, 0.833, 0.989, 0.908, 0.992];

/// A published result on one of the field's protocols: the mean over the ten classes, per
/// class where the paper gives it.
#[derive(Debug, Clone, Copy)]
pub struct PublishedRow {
    pub method: &'static str,
    pub per_class: Option<[f64; 10]>,
    pub mean: f64,
    pub source: &'static str,
}

/// Deep SAD's protocol at γ_l = 0.01 (one known anomaly class, γ_p = 0.1, the mean over the 90
/// pairs), as ESAD and AGAD tabulate the published means.
pub const DEEP_SAD_PROTOCOL: [PublishedRow; 5] = [
    PublishedRow { method: "supervised classifier", per_class: None, mean: 0.744, source: "Ruff et al., ICLR 2020" },
    PublishedRow { method: "SSAD hybrid", per_class: None, mean: 0.894, source: "Ruff et al., ICLR 2020" },
    PublishedRow { method: "Deep SAD", per_class: None, mean: 0.900, source: "Ruff et al., ICLR 2020" },
    PublishedRow { method: "TLSAD", per_class: None, mean: 0.884, source: "as ESAD tabulates it" },
    PublishedRow { method: "ESAD", per_class: None, mean: 0.953, source: "ESAD" },
];

/// Deep SAD's protocol without labels (γ_l = 0, γ_p = 0.1).
pub const DEEP_SAD_UNLABELLED: [PublishedRow; 2] = [
    PublishedRow { method: "Deep SAD (Deep SVDD-like)", per_class: None, mean: 0.892, source: "Ruff et al., ICLR 2020" },
    PublishedRow { method: "ESAD", per_class: None, mean: 0.940, source: "ESAD" },
];

/// The one-class protocol: all 6,000 training normals, no anomaly data.
pub const ONE_CLASS: [PublishedRow; 3] = [
    PublishedRow { method: "GeoTrans", per_class: Some(GEOTRANS_PER_CLASS), mean: 0.935, source: "Golan & El-Yaniv, NeurIPS 2018" },
    PublishedRow {
        method: "ARNet",
        per_class: Some([0.927, 0.993, 0.891, 0.936, 0.908, 0.931, 0.850, 0.984, 0.978, 0.984]),
        mean: 0.939,
        source: "ARNet",
    },
    PublishedRow { method: "DROC", per_class: None, mean: 0.948, source: "DROC" },
];
