//! The baselines the GAN is measured against that have networks of their own beyond the
//! GAN's (the classifier and the autoencoder reuse the GAN's pieces; see `training::model`).

pub mod deep_sad;
