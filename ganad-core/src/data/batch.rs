//! From bytes to tensors: scale to [−1, 1], pad 28→32 with background, place on the device once.

use super::fashion_mnist::{FashionMnist, LabelledImages};
use super::split::{Split, SplitSpec};
use crate::error::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Tensor};

pub const IMAGE_SIZE: i64 = 32;
const PAD: usize = 2; // (32 − 28) / 2: the U-Net needs a size divisible by 16

/// A set of images on a device, with their labels (true = anomaly) and original classes.
#[derive(Debug)]
pub struct ImageSet {
    /// `[N, 1, 32, 32]`, float, in [−1, 1].
    pub images: Tensor,
    pub classes: Vec<u8>,
    pub labels: Vec<bool>,
    /// Indices into the split the images came from.
    pub indices: Vec<usize>,
}

impl ImageSet {
    /// The images at `indices` of `source`; labels are "class ≠ normal_class".
    pub fn new(source: &LabelledImages, indices: &[usize], normal_class: u8, device: Device) -> Self {
        let side = IMAGE_SIZE as usize;
        // Background is pixel 0, i.e. −1 after scaling.
        let mut data = vec![-1f32; indices.len() * side * side];
        for (n, &i) in indices.iter().enumerate() {
            let image = source.images.image(i);
            let out = &mut data[n * side * side..(n + 1) * side * side];
            for r in 0..28 {
                for c in 0..28 {
                    out[(r + PAD) * side + c + PAD] = image[r * 28 + c] as f32 / 127.5 - 1.0;
                }
            }
        }
        let images = Tensor::from_slice(&data).view([indices.len() as i64, 1, IMAGE_SIZE, IMAGE_SIZE]).to_device(device);
        let classes: Vec<u8> = indices.iter().map(|&i| source.labels[i]).collect();
        let labels = classes.iter().map(|&c| c != normal_class).collect();
        ImageSet { images, classes, labels, indices: indices.to_vec() }
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The images at positions `rows` (a gather: only the batch is copied). `[B, 1, 32, 32]`
    pub fn batch(&self, rows: &[i64]) -> Tensor {
        let idx = Tensor::from_slice(rows).to_device(self.images.device());
        self.images.index_select(0, &idx)
    }

    /// Consecutive chunks of `batch_size` in file order (for scoring).
    pub fn chunks(&self, batch_size: usize) -> impl Iterator<Item = Tensor> + '_ {
        let n = self.len() as i64;
        (0..n).step_by(batch_size.max(1)).map(move |start| self.images.narrow(0, start, (batch_size as i64).min(n - start)))
    }
}

/// The tensors of one split: what training, validation and testing read.
#[derive(Debug)]
pub struct SplitData {
    pub split: Split,
    /// The unlabelled training images, trained on as normal: the normal class's and, where the
    /// protocol pollutes them, the unlabelled anomalies after them.
    pub train_normal: ImageSet,
    pub train_anomaly: ImageSet,
    pub validation: ImageSet,
    pub test: ImageSet,
    /// Seconds spent loading, verifying and splitting (filled by `experiment::prepare`).
    pub prepare_s: f64,
}

impl SplitData {
    /// Splits `dataset` by `spec` and places every part on `device` once.
    pub fn new(dataset: &FashionMnist, spec: &SplitSpec, device: Device) -> Result<Self> {
        let split = Split::new(&dataset.train, &dataset.test, spec)?;
        let k = split.normal_class;
        Ok(SplitData {
            train_normal: ImageSet::new(&dataset.train, &[split.train_normal.as_slice(), &split.train_pollution].concat(), k, device),
            train_anomaly: ImageSet::new(&dataset.train, &split.train_anomaly, k, device),
            validation: ImageSet::new(&dataset.train, &split.validation, k, device),
            test: ImageSet::new(&dataset.test, &split.test, k, device),
            split,
            prepare_s: 0.0,
        })
    }

    pub fn device(&self) -> Device {
        self.train_normal.images.device()
    }
}

/// A permutation of `0..n` for `epoch`, fixed by `seed`.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::IdxImages;

    #[test]
    fn images_are_scaled_and_padded_with_background() {
        let mut pixels = vec![0u8; 2 * 784];
        pixels[784] = 255; // top-left pixel of image 1
        let src = LabelledImages { images: IdxImages { count: 2, rows: 28, cols: 28, pixels }, labels: vec![3, 5] };
        let set = ImageSet::new(&src, &[1, 0], 3, Device::Cpu);
        assert_eq!(set.images.size(), vec![2, 1, 32, 32]);
        assert_eq!(set.images.double_value(&[0, 0, 2, 2]), 1.0);
        assert_eq!(set.images.double_value(&[0, 0, 0, 0]), -1.0);
        assert_eq!(set.images.double_value(&[1, 0, 2, 2]), -1.0);
        assert_eq!(set.labels, vec![true, false]);
        assert_eq!(set.batch(&[1]).size(), vec![1, 1, 32, 32]);
        let sizes: Vec<i64> = set.chunks(3).map(|t| t.size()[0]).collect();
        assert_eq!(sizes, vec![2]);
    }

    #[test]
    fn epoch_order_is_a_seeded_permutation() {
        let a = epoch_order(100, 1, 0);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, epoch_order(100, 1, 0));
        assert_ne!(a, epoch_order(100, 1, 1));
        assert_ne!(a, epoch_order(100, 2, 0));
    }
}
