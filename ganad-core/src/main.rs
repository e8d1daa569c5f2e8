//! The `ganad` binary: turns `cli::run` into an exit code. Errors print as one message
//! (what, where, how to fix), never as a backtrace.

use clap::Parser;
use std::process::ExitCode;

mod cli;

// gperftools' tcmalloc, where build.rs found it, serves every `malloc` in the process,
// libtorch's included: linked by the binary's own crate, it comes before libc. libtorch
// allocates and frees temporaries on every operation, and glibc's allocator took about an eighth
// of a batch-1 step (examples/profile_step). Only the binary: a notebook's kernel has already
// allocated with glibc when it loads the crate, and a process must keep one allocator.
#[cfg_attr(tcmalloc, link(name = "libtcmalloc_minimal.so.4", kind = "dylib", modifiers = "+verbatim"))]
unsafe extern "C" {}

fn main() -> ExitCode {
    ganad_core::interrupt::install();
    match cli::run(cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Stopped by a signal: the shell's 128 + its number, as if it had ended the process.
            match (e.downcast_ref::<ganad_core::Error>(), ganad_core::interrupt::requested()) {
                (Some(ganad_core::Error::Interrupted { .. }), Some(signal)) => ExitCode::from(128 + signal as u8),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
