//! The GAN's anomaly score (the [`Scorer`] trait it implements is in `evaluation::scoring`).
//!
//! The GAN's score fuses the evidence its networks hold (see [`ScoreConfig`]): the paper's
//! reconstruction error, the encoder head's anomaly logit, the distance to the nearest
//! training normals in the bottleneck, D_N's anomaly logit, how badly D_N tells the image's
//! rotations apart, and the distance to the nearest training normals in D_N's last map. Each
//! component is standardised on the *training* normals only, so no label of the validation or
//! test split shapes the score.

pub use crate::config::score::ScoreConfig;
use crate::config::score::{COMPONENTS, N};
use crate::data::ImageSet;
pub use crate::evaluation::scoring::{score_set, score_set_with_parts, ClassifierScorer, RandomScorer, Scorer};
use crate::nets::{Discriminator, Encoding, Generator};
use tch::{Kind, Tensor};

/// The paper's (and co-author's) test score: mean ℓ1(x, G(x)) per image, eval-mode BatchNorm.
pub struct ReconstructionScorer<'a> {
    pub generator: &'a Generator,
}

fn mean_l1(images: &Tensor, reconstruction: &Tensor) -> Tensor {
    (images - reconstruction).abs().flatten(1, -1).mean_dim(1, false, Kind::Float)
}

impl Scorer for ReconstructionScorer<'_> {
    fn name(&self) -> &'static str {
        "mean_l1"
    }

    fn score_batch(&self, images: &Tensor) -> Tensor {
        use tch::nn::ModuleT;
        mean_l1(images, &self.generator.forward_t(images, false))
    }
}

/// The GAN's fused score (see [`ScoreConfig`]).
pub struct FusedScorer<'a> {
    generator: &'a Generator,
    /// D_N, for its anomaly logit and its rotation loss.
    discriminator: Option<&'a Discriminator>,
    config: ScoreConfig,
    /// L2-normalised bottlenecks of the training normals `[N, F]`, for the nearest-normal term.
    bank: Option<Tensor>,
    /// L2-normalised D_N maps of the training normals `[N, F_D]`, for D_N's nearest-normal term.
    discriminator_bank: Option<Tensor>,
    /// (mean, sd) of each component over the training normals, in [`ScoreConfig::weights`] order.
    standard: [(f64, f64); N],
}

impl<'a> FusedScorer<'a> {
    /// Computes the bank and the standardisation from `train_normals` (eval mode, no_grad).
    /// `discriminator`: D_N, for its anomaly logit and rotation loss. A weighted component whose
    /// head the networks lack is a bug (`Config::validate` refuses such a config): it panics.
    pub fn new(
        generator: &'a Generator,
        discriminator: Option<&'a Discriminator>,
        config: &ScoreConfig,
        train_normals: &ImageSet,
        batch_size: usize,
    ) -> Self {
        let _guard = tch::no_grad_guard();
        let config = config.clone();
        let heads = [
            ("anomaly_head", config.anomaly_head, generator.has_head()),
            ("discriminator_head", config.discriminator_head, discriminator.is_some_and(|d| d.has_anomaly_head())),
            ("rotation", config.rotation, discriminator.is_some_and(|d| d.has_rotation_head())),
            ("discriminator_nearest_normals", config.discriminator_nearest_normals, discriminator.is_some()),
        ];
        for (name, weight, present) in heads {
            assert!(weight == 0.0 || present, "eval.score.{name} has weight {weight}, but the networks lack its head");
        }
        let mut scorer = FusedScorer { generator, discriminator, config, bank: None, discriminator_bank: None, standard: [(0.0, 1.0); N] };
        let (in_e, in_d) = (scorer.config.nearest_normals > 0.0, scorer.config.discriminator_nearest_normals > 0.0);
        let fused = scorer.config.components() > 1;
        if !(in_e || in_d || fused) {
            return scorer;
        }
        // One pass over the training normals serves both the banks and the standardisation.
        let views: Vec<Views> = train_normals.chunks(batch_size).map(|x| scorer.views(&x)).collect();
        let bank = |pick: fn(&Views) -> &Tensor| Tensor::cat(&views.iter().map(|v| pick(v).shallow_clone()).collect::<Vec<_>>(), 0);
        scorer.bank = in_e.then(|| bank(|v| &v.features));
        scorer.discriminator_bank = in_d.then(|| bank(|v| &v.discriminator_features));
        if fused {
            // The training normals' own nearest-normal terms leave each image out of its neighbours.
            let parts: Vec<[Tensor; N]> = views.into_iter().map(|v| scorer.evidence_of(v, true)).collect();
            for c in 0..COMPONENTS.len() {
                let all = Tensor::cat(&parts.iter().map(|p| p[c].shallow_clone()).collect::<Vec<_>>(), 0).to_kind(Kind::Double);
                let sd = all.std(true).double_value(&[]);
                scorer.standard[c] = (all.mean(Kind::Double).double_value(&[]), if sd > 0.0 { sd } else { 1.0 });
            }
        }
        scorer
    }

    /// What the networks say of `images`, averaged over its views (itself, and its mirror
    /// when `flip_average`); each piece only when its component is used.
    fn views(&self, images: &Tensor) -> Views {
        let views = if self.config.flip_average { vec![images.shallow_clone(), images.flip([3])] } else { vec![images.shallow_clone()] };
        let n = views.len() as f64;
        let (mut error, mut logit, mut features, mut judged, mut turned, mut seen) =
            (None::<Tensor>, None::<Tensor>, None::<Tensor>, None::<Tensor>, None::<Tensor>, None::<Tensor>);
        let add = |sum: Option<Tensor>, t: Tensor| Some(sum.map_or_else(|| t.shallow_clone(), |s| s + &t));
        for view in &views {
            let enc = self.generator.encode(view, false);
            if self.config.reconstruction > 0.0 {
                error = add(error, mean_l1(view, &self.generator.decode(&enc, false)));
            }
            if self.config.anomaly_head > 0.0 {
                if let Some(l) = self.generator.anomaly_logit(&enc) {
                    logit = add(logit, l);
                }
            }
            if self.config.nearest_normals > 0.0 {
                features = add(features, normalised_features(&enc));
            }
            if let Some(l) = self.discriminator.filter(|_| self.config.discriminator_head > 0.0).and_then(|d| d.anomaly_logit(view, false))
            {
                judged = add(judged, l);
            }
            if let Some(l) = self.discriminator.filter(|_| self.config.rotation > 0.0).and_then(|d| d.rotation_loss(view, false)) {
                turned = add(turned, l);
            }
            if let Some(d) = self.discriminator.filter(|_| self.config.discriminator_nearest_normals > 0.0) {
                seen = add(seen, unit_rows(&d.features(view, false)));
            }
        }
        // The sum of unit vectors, made unit again: a direction both views agree on.
        let direction = |sum: Option<Tensor>| {
            sum.map_or_else(|| Tensor::zeros([0], (Kind::Float, images.device())), |f| if views.len() > 1 { unit_rows(&f) } else { f })
        };
        Views {
            count: images.size()[0],
            device: images.device(),
            error: error.map(|e| e / n),
            logit: logit.map(|l| l / n),
            discriminator_logit: judged.map(|l| l / n),
            rotation_loss: turned.map(|l| l / n),
            features: direction(features),
            discriminator_features: direction(seen),
        }
    }

    /// The components for `images` (zeros where unused). `leave_one_out`: the images are the
    /// bank itself, so each skips its own entry.
    fn evidence(&self, images: &Tensor, leave_one_out: bool) -> [Tensor; N] {
        self.evidence_of(self.views(images), leave_one_out)
    }

    /// [`Self::evidence`] from what the networks already said of the images.
    fn evidence_of(&self, views: Views, leave_one_out: bool) -> [Tensor; N] {
        let zeros = || Tensor::zeros([views.count], (Kind::Float, views.device));
        let fused = self.config.components() > 1;
        let reconstruction = match views.error {
            Some(e) if fused => e.clamp_min(1e-12).log(),
            Some(e) => e,
            None => zeros(),
        };
        let head = views.logit.unwrap_or_else(zeros);
        let judged = views.discriminator_logit.unwrap_or_else(zeros);
        let turned = views.rotation_loss.unwrap_or_else(zeros);
        let nearest = |features: &Tensor, bank: &Option<Tensor>| match bank {
            Some(bank) => nearest_normal_distance(features, bank, self.config.neighbours, leave_one_out),
            None => zeros(),
        };
        let nearest_in_e = nearest(&views.features, &self.bank);
        let nearest_in_d = nearest(&views.discriminator_features, &self.discriminator_bank);
        [reconstruction, head, nearest_in_e, judged, turned, nearest_in_d]
    }

    /// (mean, sd) over the training normals of each component, in [`COMPONENTS`] order.
    pub fn standardisation(&self) -> [(f64, f64); N] {
        self.standard
    }
}

/// [`FusedScorer::views`]'s output for `count` images on `device`: raw reconstruction error
/// `[B]`, head logit `[B]`, D_N's anomaly logit `[B]` and rotation loss `[B]`, the unit-length
/// bottleneck `[B, F]` and D_N's unit-length last map `[B, F_D]` (each empty when its
/// nearest-normal term is unused).
struct Views {
    count: i64,
    device: tch::Device,
    error: Option<Tensor>,
    logit: Option<Tensor>,
    discriminator_logit: Option<Tensor>,
    rotation_loss: Option<Tensor>,
    features: Tensor,
    discriminator_features: Tensor,
}

/// Minus the mean cosine similarity of each unit row of `features` to its `k` nearest rows of
/// `bank`; `leave_one_out`: the rows are the bank itself, so each skips its own entry.
fn nearest_normal_distance(features: &Tensor, bank: &Tensor, k: usize, leave_one_out: bool) -> Tensor {
    let k = k as i64 + leave_one_out as i64;
    let similarity = features.matmul(&bank.tr()); // [B, N]
    let top = similarity.topk(k.min(bank.size()[0]), 1, true, true).0;
    let top = if leave_one_out { top.narrow(1, 1, top.size()[1] - 1) } else { top };
    -top.mean_dim(1, false, Kind::Float)
}

fn unit_rows(z: &Tensor) -> Tensor {
    z / z.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12)
}

fn normalised_features(enc: &Encoding) -> Tensor {
    unit_rows(&enc.features())
}

impl Scorer for FusedScorer<'_> {
    fn name(&self) -> &'static str {
        match self.config.sole_component().map(|c| COMPONENTS[c]) {
            None => "fused",
            Some("reconstruction") => "mean_l1",
            Some(name) => name,
        }
    }

    fn score_batch(&self, images: &Tensor) -> Tensor {
        self.score_parts(images).0
    }

    fn score_parts(&self, images: &Tensor) -> (Tensor, Vec<(&'static str, Tensor)>) {
        let evidence = self.evidence(images, false);
        if let Some(c) = self.config.sole_component() {
            return (evidence[c].shallow_clone(), Vec::new());
        }
        let mut total = Tensor::zeros([images.size()[0]], (Kind::Float, images.device()));
        let mut parts = Vec::new();
        for (((e, w), (mean, sd)), name) in evidence.iter().zip(self.config.weights()).zip(self.standard).zip(COMPONENTS) {
            if w > 0.0 {
                total += (e - mean) * (w / sd);
                parts.push((name, e.shallow_clone()));
            }
        }
        (total, parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use tch::{nn, Device};

    fn set(n: i64, seed: i64) -> ImageSet {
        tch::manual_seed(seed);
        ImageSet {
            images: Tensor::rand([n, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0,
            classes: vec![0; n as usize],
            labels: vec![false; n as usize],
            indices: (0..n as usize).collect(),
        }
    }

    /// A U-Net with an anomaly head, four channels wide, in fp32.
    fn tiny_generator(vs: &nn::VarStore) -> Generator {
        let cfg = ModelConfig { base_width: 4, discriminator_width: 4, anomaly_head: true, ..ModelConfig::default() };
        Generator::new(&vs.root(), &cfg, crate::nets::Precision::Fp32)
    }

    /// A discriminator four channels wide, with or without the anomaly and rotation heads.
    fn tiny_discriminator(vs: &nn::VarStore, head: bool) -> Discriminator {
        let heads = crate::nets::ExtraHeads { anomaly: head, rotation: head };
        Discriminator::new(&(vs.root() / if head { "d_head" } else { "d" }), 4, crate::nets::Precision::Fp32, heads)
    }

    #[test]
    fn one_component_is_the_raw_evidence_and_fusion_is_standardised() {
        let vs = nn::VarStore::new(Device::Cpu);
        let g = tiny_generator(&vs);
        let (train, test) = (set(40, 1), set(7, 2));
        let paper = FusedScorer::new(&g, None, &ScoreConfig::default(), &train, 16);
        let reference = ReconstructionScorer { generator: &g };
        assert_eq!(score_set(&paper, &test, 3), score_set(&reference, &test, 3));
        assert_eq!(paper.name(), "mean_l1");

        // Standardised on the training normals, two components sum to mean 0 there.
        let two = ScoreConfig {
            reconstruction: 1.0,
            anomaly_head: 2.0,
            nearest_normals: 0.0,
            neighbours: 3,
            discriminator_head: 0.0,
            rotation: 0.0,
            discriminator_nearest_normals: 0.0,
            flip_average: false,
        };
        let fused = FusedScorer::new(&g, None, &two, &train, 16);
        let on_train = score_set(&fused, &train, 16);
        let mean = on_train.iter().map(|&v| v as f64).sum::<f64>() / on_train.len() as f64;
        assert!(mean.abs() < 1e-4, "{mean}");
        assert_eq!(fused.name(), "fused");
        // The nearest-normal term: an image of the bank is at distance −1 from itself, so
        // scoring a training image (not left out) is lower than its left-one-out standard.
        let all = ScoreConfig {
            reconstruction: 1.0,
            anomaly_head: 1.0,
            nearest_normals: 1.0,
            neighbours: 1,
            discriminator_head: 1.0,
            rotation: 1.0,
            discriminator_nearest_normals: 1.0,
            flip_average: false,
        };
        let d = tiny_discriminator(&vs, true);
        let fused = FusedScorer::new(&g, Some(&d), &all, &train, 16);
        let [_, _, (nn_mean, nn_sd), (_, d_sd), (r_mean, r_sd), (dn_mean, dn_sd)] = fused.standardisation();
        assert!(nn_sd > 0.0 && nn_mean > -1.0, "{nn_mean} {nn_sd}");
        assert!(d_sd > 0.0 && d_sd != 1.0, "D_N's logit is standardised too: {d_sd}");
        assert!(r_mean > 0.0 && r_sd > 0.0 && r_sd != 1.0, "so is its rotation loss: {r_mean} {r_sd}");
        assert!(dn_sd > 0.0 && dn_sd != 1.0 && dn_mean > -1.0, "and its nearest normals: {dn_mean} {dn_sd}");
        assert_eq!(fused.score_parts(&test.images).1.len(), 6);
        let only_d = ScoreConfig { discriminator_head: 1.0, reconstruction: 0.0, ..ScoreConfig::default() };
        let judged = FusedScorer::new(&g, Some(&d), &only_d, &train, 16);
        assert_eq!(judged.name(), "discriminator_head");
        assert_eq!(score_set(&judged, &test, 4), Vec::<f32>::try_from(d.anomaly_logit(&test.images, false).unwrap()).unwrap());
        let only_rotation = ScoreConfig { rotation: 1.0, reconstruction: 0.0, ..ScoreConfig::default() };
        let turned = FusedScorer::new(&g, Some(&d), &only_rotation, &train, 16);
        assert_eq!(turned.name(), "rotation");
        assert_eq!(score_set(&turned, &test, 4), Vec::<f32>::try_from(d.rotation_loss(&test.images, false).unwrap()).unwrap());
        let own = fused.evidence(&train.images.narrow(0, 0, 1), false);
        for c in [2, 5] {
            let distance = own[c].double_value(&[0]);
            assert!((distance + 1.0).abs() < 1e-5, "{}: {distance}", COMPONENTS[c]);
        }
        // D_N's nearest normals alone, by hand: the mean cosine similarity to the k closest maps.
        let only_seen = ScoreConfig { discriminator_nearest_normals: 1.0, reconstruction: 0.0, neighbours: 3, ..ScoreConfig::default() };
        let seen = FusedScorer::new(&g, Some(&d), &only_seen, &train, 16);
        assert_eq!(seen.name(), "discriminator_nearest_normals");
        let unit = |x: &Tensor| unit_rows(&d.features(x, false));
        let similarity = unit(&test.images.narrow(0, 0, 1)).matmul(&unit(&train.images).tr()).squeeze_dim(0);
        let mut top: Vec<f64> = Vec::<f64>::try_from(similarity.to_kind(Kind::Double)).unwrap();
        top.sort_by(|a, b| b.total_cmp(a));
        let by_hand = -top[..3].iter().sum::<f64>() / 3.0;
        let scored = score_set(&seen, &test, 4)[0] as f64;
        assert!((scored - by_hand).abs() < 1e-5, "{scored} against {by_hand}");
        assert!(ScoreConfig { reconstruction: 0.0, ..ScoreConfig::default() }.validate().is_err());
    }

    #[test]
    #[should_panic(expected = "eval.score.discriminator_head has weight 1, but the networks lack its head")]
    fn a_weight_on_a_missing_head_is_not_dropped_silently() {
        let vs = nn::VarStore::new(Device::Cpu);
        let (g, headless) = (tiny_generator(&vs), tiny_discriminator(&vs, false));
        let judged = ScoreConfig { discriminator_head: 1.0, ..ScoreConfig::default() };
        FusedScorer::new(&g, Some(&headless), &judged, &set(8, 1), 4);
    }

    #[test]
    fn the_flip_average_scores_an_image_and_its_mirror_alike_and_differs_from_one_view() {
        let vs = nn::VarStore::new(Device::Cpu);
        let g = tiny_generator(&vs);
        let (train, test) = (set(40, 3), set(6, 4));
        let mirrored = ImageSet {
            images: test.images.flip([3]),
            classes: test.classes.clone(),
            labels: test.labels.clone(),
            indices: test.indices.clone(),
        };
        let all = ScoreConfig {
            reconstruction: 1.0,
            anomaly_head: 1.0,
            nearest_normals: 1.0,
            neighbours: 1,
            discriminator_head: 1.0,
            rotation: 1.0,
            discriminator_nearest_normals: 1.0,
            flip_average: true,
        };
        let d = tiny_discriminator(&vs, true);
        let averaged = FusedScorer::new(&g, Some(&d), &all, &train, 16);
        let (a, b) = (score_set(&averaged, &test, 4), score_set(&averaged, &mirrored, 4));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4, "{x} vs its mirror {y}");
        }
        let one_view = FusedScorer::new(&g, Some(&d), &ScoreConfig { flip_average: false, ..all }, &train, 16);
        let c = score_set(&one_view, &test, 4);
        assert!(a.iter().zip(&c).any(|(x, y)| (x - y).abs() > 1e-3), "{a:?} {c:?}");
        // Each training normal still leaves itself out of its neighbours: its own averaged
        // bottleneck sits in the bank.
        let own = averaged.evidence(&train.images.narrow(0, 0, 1), false);
        for c in [2, 5] {
            let distance = own[c].double_value(&[0]);
            assert!((distance + 1.0).abs() < 1e-5, "{}: {distance}", COMPONENTS[c]);
        }
    }
}
