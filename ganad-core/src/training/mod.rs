//! Training: what a run's networks are (`model`), the trainer, its optimizer and checkpoints.

pub mod adam;
pub mod checkpoint;
pub mod model;
pub mod train;
