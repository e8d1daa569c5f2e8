//! SIGTERM and SIGINT as a request to stop cleanly: the handler only raises a flag, and the
//! trainer, which checks it before every step, writes a checkpoint at the step it reached and
//! returns [`crate::Error::Interrupted`]. A scheduler's time limit or preemption (Slurm sends
//! SIGTERM) then costs at most the step under way, and the same command continues the run.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal that asked to stop, 0 for none.
static REQUESTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only an atomic store: anything else is not async-signal-safe.
    REQUESTED.store(signal, Ordering::SeqCst);
}

/// Routes SIGTERM and SIGINT to the flag (the binary calls this once, first thing), and gives
/// SIGPIPE back its default: `ganad doctor | head` ends quietly, as other Unix tools do, where
/// Rust's runtime would ignore the signal and the next print would panic.
pub fn install() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The signal that asked to stop, if one did.
pub fn requested() -> Option<i32> {
    match REQUESTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The signal's name for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "a signal",
    }
}

/// Raises the flag as a signal would (tests).
pub fn request(signal: i32) {
    REQUESTED.store(signal, Ordering::SeqCst);
}

/// Lowers it again (tests).
pub fn clear() {
    REQUESTED.store(0, Ordering::SeqCst);
}
