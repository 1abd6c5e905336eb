//! The `parlor` binary: parse the command line, run (which sets up logging once the
//! configuration is read).

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Each WebSocket is a file descriptor: lift the soft limit to the hard one (commonly 1024
    // soft, far more hard), or the server refuses connections at a few thousand clients.
    if let Ok((soft, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE)
        && soft < hard
    {
        let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
    }
    match parlor::cli::run(parlor::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// mimalloc: fewer and cheaper allocator calls than glibc's across the actor threads (measured
/// in docs/BENCHMARKS.md), built without transparent huge pages (`no_thp` in Cargo.toml).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
