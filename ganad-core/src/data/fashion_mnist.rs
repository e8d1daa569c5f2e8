//! The Fashion-MNIST dataset in memory: verified images and labels of both splits.

use super::idx::{self, IdxImages};
use super::source::{self, FileSpec, SourceOptions};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub const NUM_CLASSES: usize = 10;
pub const CLASS_NAMES: [&str; NUM_CLASSES] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/// Images (28×28 bytes) and labels (class 0..9) of one split.
#[derive(Debug, Clone)]
pub struct LabelledImages {
    pub images: IdxImages,
    pub labels: Vec<u8>,
}

impl LabelledImages {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of images of each class.
    pub fn class_counts(&self) -> [usize; NUM_CLASSES] {
        let mut counts = [0; NUM_CLASSES];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// Indices of the images of `class`, in file order.
    pub fn indices_of(&self, class: u8) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.labels[i] == class).collect()
    }
}

/// Both splits, with the directory they were read from.
#[derive(Debug, Clone)]
pub struct FashionMnist {
    pub train: LabelledImages,
    pub test: LabelledImages,
    pub source: PathBuf,
}

impl FashionMnist {
    /// Finds (see [`source::locate`]), verifies and parses the dataset.
    pub fn load(opts: &SourceOptions) -> Result<Self> {
        Self::from_dir(&source::locate(opts)?)
    }

    /// Verifies and parses the four files in `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::from_dir_with(dir, &source::fashion_mnist_files())
    }

    /// [`Self::from_dir`] against a given file list (train images, train labels, test images, test labels).
    pub fn from_dir_with(dir: &Path, specs: &[FileSpec]) -> Result<Self> {
        let read = |spec: &FileSpec| -> Result<(PathBuf, Vec<u8>)> {
            let path = source::find_file(dir, spec).ok_or_else(|| Error::Dataset {
                path: dir.join(&spec.name),
                what: "missing (neither raw nor .gz)".into(),
                fix: source::fix_hint(dir),
            })?;
            let bytes = source::read_verified(&path, spec)?;
            Ok((path, bytes))
        };
        let split = |images: &FileSpec, labels: &FileSpec| -> Result<LabelledImages> {
            let (ip, ib) = read(images)?;
            let (lp, lb) = read(labels)?;
            let images = idx::parse_images(&ib, &ip)?;
            let labels = idx::parse_labels(&lb, &lp)?;
            let bad = |what: String| Error::Dataset { path: lp.clone(), what, fix: source::fix_hint(dir) };
            if labels.len() != images.count {
                return Err(bad(format!("{} labels for {} images in {}", labels.len(), images.count, ip.display())));
            }
            if (images.rows, images.cols) != (28, 28) {
                return Err(bad(format!("images are {}×{}, expected 28×28", images.rows, images.cols)));
            }
            if let Some(l) = labels.iter().find(|&&l| l as usize >= NUM_CLASSES) {
                return Err(bad(format!("label {l} is outside 0..9")));
            }
            Ok(LabelledImages { images, labels })
        };
        Ok(FashionMnist { train: split(&specs[0], &specs[1])?, test: split(&specs[2], &specs[3])?, source: dir.to_path_buf() })
    }
}

/// Checks a class index given by a user.
pub fn check_class(class: i64) -> Result<u8> {
    if (0..NUM_CLASSES as i64).contains(&class) {
        Ok(class as u8)
    } else {
        Err(Error::config("normal_class", format!("{class} is not a Fashion-MNIST class; use 0..9 ({})", class_list())))
    }
}

pub fn class_list() -> String {
    CLASS_NAMES.iter().enumerate().map(|(i, n)| format!("{i}={n}")).collect::<Vec<_>>().join(", ")
}
