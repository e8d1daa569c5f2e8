//! Fashion-MNIST: files, verification, splits and tensors.

pub mod augment;
pub mod batch;
pub mod fashion_mnist;
pub mod idx;
pub mod source;
pub mod split;

pub use batch::{ImageSet, SplitData, IMAGE_SIZE};
pub use fashion_mnist::{FashionMnist, LabelledImages, CLASS_NAMES, NUM_CLASSES};
pub use source::SourceOptions;
pub use split::{Split, SplitSpec};
