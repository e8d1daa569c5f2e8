//! The networks: plain tch modules, no optimizers, no I/O.

pub mod discriminator;
pub mod generator;
mod init;

pub use discriminator::{Discriminator, DiscriminatorOutput};
pub use generator::{Encoding, Generator};
