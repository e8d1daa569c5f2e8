//! The networks: plain tch modules, no optimizers, no I/O.

pub mod classifier;
pub mod discriminator;
pub mod generator;
pub mod layers;
pub mod lenet;

pub use classifier::Classifier;
pub use discriminator::{Discriminator, DiscriminatorOutput, ExtraHeads};
pub use generator::{Encoding, Generator};
pub use layers::Precision;
pub use lenet::{LeNetDecoder, LeNetEncoder};
