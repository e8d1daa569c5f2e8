//! Numbers to place ours against: the seed presentation and published results
//! (shared/DESIGN.md §4). Always quoted with their protocol.

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
