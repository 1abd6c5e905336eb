//! Tests of [`Outbox`](super::outbox::Outbox) and the body that drains it.

use std::task::{Context, Poll};

use futures_util::{FutureExt as _, Stream};

use super::outbox::*;
use super::wire::{Frame, WireBody};
use actix::prelude::*;

/// Receives nothing: its context is never run.
struct Stalled;

impl Actor for Stalled {
    type Context = actix::Context<Self>;
}

impl Handler<SessionSignal> for Stalled {
    type Result = ();
    fn handle(&mut self, _: SessionSignal, _: &mut Self::Context) {}
}

fn frame(bytes: usize) -> Frame {
    Frame::text(&"x".repeat(bytes))
}

fn outbox(limit: usize) -> (Outbox, WireBody) {
    let stalled: actix::Context<Stalled> = actix::Context::new();
    Outbox::new(stalled.address().recipient(), limit)
}

/// What the connection takes now: `Some(None)` once the body ended, `None` when it waits.
fn take(body: &mut WireBody) -> Option<Option<usize>> {
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    match std::pin::Pin::new(body).poll_next(&mut cx) {
        Poll::Ready(Some(Ok(bytes))) => Some(Some(bytes.len())),
        Poll::Ready(None) => Some(None),
        Poll::Ready(Some(Err(never))) => match never {},
        Poll::Pending => None,
    }
}

#[actix::test]
async fn outbox_refuses_events_past_its_bound_until_the_session_catches_up() {
    let (outbox, mut body) = outbox(1000);
    let event = frame(396).len();
    assert_eq!(event, 400, "396 bytes of JSON and a 4-byte header");
    // Answers are never refused and do not count.
    outbox.answer(frame(5000));
    assert!(outbox.send(frame(396)));
    assert!(outbox.send(frame(396)));
    assert_eq!(outbox.queued(), 800);
    // 1200 bytes would be over 1000: refused, and the session is marked.
    assert!(!outbox.send(frame(396)));
    // Once overflowed, nothing more is queued even with room to spare.
    assert_eq!(take(&mut body), Some(Some(5004)));
    assert_eq!(take(&mut body), Some(Some(400)));
    assert!(!outbox.send(frame(1)));
}

#[actix::test]
async fn outbox_admits_events_as_the_connection_takes_them() {
    let (outbox, mut body) = outbox(1000);
    for _ in 0..50 {
        assert!(outbox.send(frame(596)));
        assert_eq!(take(&mut body), Some(Some(600)));
        assert_eq!(outbox.queued(), 0);
    }
    assert_eq!(
        take(&mut body),
        None,
        "nothing queued: the connection waits"
    );
    // A single event larger than the bound still goes to an empty queue.
    assert!(outbox.send(frame(5000)));
}

#[actix::test]
async fn frames_leave_in_order_and_the_close_comes_last() {
    let (outbox, mut body) = outbox(100_000);
    outbox.answer(frame(1));
    assert!(outbox.send(frame(2)));
    outbox.replay(frame(3));
    outbox.close(Some(Frame::ping()), false);
    assert!(!outbox.connected());
    outbox.answer(frame(4));
    let sizes: Vec<_> = std::iter::from_fn(|| take(&mut body).flatten()).collect();
    assert_eq!(
        sizes,
        vec![3, 4, 5, 2],
        "answer, event, replay, then the close"
    );
    assert_eq!(take(&mut body), Some(None), "then the body ends");
}

#[actix::test]
async fn a_slow_consumer_close_drops_what_is_queued() {
    let (outbox, mut body) = outbox(100_000);
    assert!(outbox.send(frame(10)));
    assert!(outbox.send(frame(10)));
    outbox.close(Some(Frame::ping()), true);
    assert_eq!(take(&mut body), Some(Some(2)));
    assert_eq!(take(&mut body), Some(None));
}

#[actix::test]
async fn held_frames_count_against_the_same_bound() {
    let (outbox, _body) = outbox(1000);
    assert!(outbox.send(frame(596)));
    assert!(outbox.fits(400));
    assert!(!outbox.fits(401), "600 queued + 401 held is over 1000");
    assert!(!outbox.send(frame(1)), "the session is marked overflowed");
}

#[actix::test]
async fn a_replay_waits_while_half_the_bound_is_queued() {
    let (outbox, mut body) = outbox(1000);
    outbox.replay(frame(796));
    assert!(
        outbox.drained().now_or_never().is_none(),
        "800 of 1000 queued: the replay waits"
    );
    let waiting = outbox.clone();
    let wait = tokio::spawn(async move { waiting.drained().await });
    tokio::task::yield_now().await;
    assert_eq!(take(&mut body), Some(Some(800)));
    assert!(wait.await.is_ok(), "taken: the replay goes on");
    assert!(outbox.drained().now_or_never().is_some());
    // Replayed frames are never refused, whatever is queued.
    outbox.replay(frame(5000));
    assert_eq!(outbox.queued(), 5004);
}

#[actix::test]
async fn a_dropped_connection_closes_the_outbox() {
    let (outbox, body) = outbox(1000);
    drop(body);
    assert!(!outbox.connected());
    assert!(outbox.send(frame(10)), "not an overflow");
    assert_eq!(outbox.queued(), 0, "nothing is kept for a gone connection");
    assert!(outbox.drained().now_or_never().is_some());
}
