//! What one idle session costs in memory (docs/BENCHMARKS.md, "what an idle connection
//! holds"): its task is a single allocation, tokio's task cell, which is aligned to 128 bytes
//! on x86-64 and holds about 112 bytes of tokio's own (header, scheduler, task id, stage tag,
//! trailer) beside actix's context future. The future is the actor inline plus its context and
//! mailbox, so a field added to [`SessionActor`] can cost a whole 128-byte step per connection.

use std::mem::size_of;

use actix::dev::ContextFut;

use super::*;

/// The largest context future whose task cell stays at 768 bytes (6 × 128).
const CONTEXT_FUTURE_MAX: usize = 768 - 112;

#[test]
fn a_session_task_fits_in_six_cache_lines_of_128_bytes() {
    let future = size_of::<ContextFut<SessionActor, Context<SessionActor>>>();
    assert!(
        future <= CONTEXT_FUTURE_MAX,
        "the session's context future is {future} bytes (the actor {} of them): over \
         {CONTEXT_FUTURE_MAX}, each session's task takes another 128 bytes; box what idle \
         sessions do not use",
        size_of::<SessionActor>()
    );
}
