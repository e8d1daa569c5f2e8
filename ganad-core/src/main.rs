//! The `ganad` binary: turns `cli::run` into an exit code. Errors print as one message
//! (what, where, how to fix), never as a backtrace.

use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
