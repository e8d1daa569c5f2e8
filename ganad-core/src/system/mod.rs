//! What every layer stands on: atomic writes, scratch directories, the device and its precision,
//! signals, and the run-directory lock.

pub mod atomic;
pub mod device;
pub mod interrupt;
pub mod lock;
pub mod tempdir;
