//! The pacer: wakes the connections that live events were queued for in chunks of [`CHUNK`],
//! one thread's worth at a time, so that a broadcast to thousands of members does not put
//! thousands of connection tasks ahead of everything else the thread has to do.
//!
//! Each actix thread runs its tasks from one first-in, first-out queue. Without pacing, a room
//! broadcasting to 12,000 members woke 12,000 connection tasks at once, and whatever was woken
//! next (a sender's next frame being read, the session handling it, the room handling its
//! commit) waited behind every one of those writes: a few hundred milliseconds on one core.
//! The messages that followed were then committed and broadcast one wave after another, each
//! member's connection written once per message.
//!
//! With pacing, a push into an idle [`Outbox`](super::Outbox) hands the connection's waker to
//! its thread's pacer instead of waking it. The pacer wakes [`CHUNK`] connections, then goes to
//! the back of the thread's queue behind them and whatever else is waiting, and so on. The
//! thread keeps reading and committing while a wave goes out, and a message committed meanwhile
//! joins the frames of the connections not yet written: each of those is written once, with
//! every frame that has arrived for it (one `send`). Order is unchanged: frames stay in their
//! outbox's queue, only the wake-up is deferred.
//!
//! The pacer is a task per thread, started by the first room or presence registry on that
//! thread ([`install`]). Where there is none (a thread without actix, a test), [`wake`] wakes
//! at once. Its queue is bounded by the connections: an outbox hands a waker over only when its
//! connection was idle, and has another to hand over only after the connection has run and
//! found its queue empty again, so a connection appears more than once only if it was woken
//! for another reason (its client's frames) meanwhile; every entry leaves within
//! ⌈entries / [`CHUNK`]⌉ turns.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Connections woken per turn of the pacer: about one turn of tokio's local queue (61 tasks),
/// so that other work gets a turn at least that often during a wave.
pub const CHUNK: usize = 64;

/// One thread's pacer.
#[derive(Default)]
struct Pacer {
    /// Connections to wake, in the order their first frame was queued.
    pending: VecDeque<Waker>,
    /// The pacer task, when it found nothing to do.
    parked: Option<Waker>,
}

thread_local! {
    /// This thread's pacer, while its task runs.
    static PACER: RefCell<Option<Pacer>> = const { RefCell::new(None) };
}

/// Starts this thread's pacer if it has none. Call it from inside an actix (tokio `LocalSet`)
/// context, such as an actor's `started`.
pub fn install() {
    let fresh = PACER
        .try_with(|pacer| {
            let mut pacer = pacer.borrow_mut();
            let fresh = pacer.is_none();
            if fresh {
                *pacer = Some(Pacer::default());
            }
            fresh
        })
        .unwrap_or(false);
    if fresh {
        actix_rt::spawn(Run {
            batch: Vec::with_capacity(CHUNK),
        });
    }
}

/// Wakes `waker` (a connection with newly queued frames) on this thread's pacer's next turn,
/// or now where the thread has no pacer.
pub fn wake(waker: Waker) {
    let mut waker = Some(waker);
    let parked = PACER
        .try_with(|pacer| {
            let mut pacer = pacer.borrow_mut();
            let pacer = pacer.as_mut()?;
            pacer.pending.extend(waker.take());
            pacer.parked.take()
        })
        .ok()
        .flatten();
    if let Some(parked) = parked {
        parked.wake();
    }
    // Not taken: this thread has no pacer.
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The pacer's task. Dropped (the runtime is ending), it removes the thread's pacer and wakes
/// whatever was still waiting for it.
struct Run {
    /// The wakers of the current turn (kept, so that a turn allocates nothing).
    batch: Vec<Waker>,
}

impl Future for Run {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let turn = PACER.try_with(|pacer| {
            let mut pacer = pacer.borrow_mut();
            let pacer = pacer.as_mut()?;
            if pacer.pending.is_empty() {
                pacer.parked = Some(cx.waker().clone());
                return Some(false);
            }
            let n = pacer.pending.len().min(CHUNK);
            this.batch.extend(pacer.pending.drain(..n));
            Some(true)
        });
        match turn {
            Ok(Some(true)) => {
                for waker in this.batch.drain(..) {
                    waker.wake();
                }
                // To the back of the thread's queue, behind the connections just woken.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Ok(Some(false)) => Poll::Pending,
            // The thread's pacer is gone (or the thread is ending).
            Ok(None) | Err(_) => Poll::Ready(()),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let left = PACER
            .try_with(|pacer| pacer.borrow_mut().take())
            .ok()
            .flatten();
        for waker in left.into_iter().flat_map(|pacer| pacer.pending) {
            waker.wake();
        }
    }
}

// Test code only: its four `expect`s state what the test itself set up (301 parked tasks that
// all run to the end); no client, disk or network reaches them.
#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    /// A task that parks once, handing its waker to `wakers`, and logs `name` when it next runs.
    fn parked_task(
        name: usize,
        wakers: Rc<RefCell<Vec<Waker>>>,
        log: Rc<RefCell<Vec<usize>>>,
    ) -> impl Future<Output = ()> {
        let mut parked = false;
        std::future::poll_fn(move |cx| {
            if parked {
                log.borrow_mut().push(name);
                return Poll::Ready(());
            }
            parked = true;
            wakers.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Runs 300 parked "connections" and one other task (named 1000), wakes every connection
    /// through `wake_connection` and then the other task directly, and returns the order in
    /// which they ran.
    async fn run_order(wake_connection: impl Fn(Waker)) -> Vec<usize> {
        let wakers = Rc::new(RefCell::new(Vec::new()));
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for name in (0..300).chain([1000]) {
            tasks.push(actix_rt::spawn(parked_task(
                name,
                wakers.clone(),
                log.clone(),
            )));
        }
        while wakers.borrow().len() < 301 {
            tokio::task::yield_now().await;
        }
        let mut all = std::mem::take(&mut *wakers.borrow_mut());
        let other = all.pop().expect("301 wakers");
        for waker in all {
            wake_connection(waker);
        }
        other.wake();
        for task in tasks {
            task.await.expect("task ran");
        }
        Rc::try_unwrap(log).expect("tasks done").into_inner()
    }

    #[actix_rt::test]
    async fn without_a_pacer_a_task_woken_after_a_broadcast_waits_for_all_of_it() {
        let order = run_order(|waker| waker.wake()).await;
        assert_eq!(order.len(), 301);
        assert_eq!(order.last(), Some(&1000), "FIFO: the other task runs last");
    }

    #[actix_rt::test]
    async fn a_task_woken_after_a_paced_broadcast_runs_before_most_of_it() {
        install();
        let order = run_order(wake).await;
        assert_eq!(order.len(), 301);
        let other = order
            .iter()
            .position(|&n| n == 1000)
            .expect("other task ran");
        assert!(other <= CHUNK, "other task ran at {other}: {order:?}");
        let connections: Vec<usize> = order.into_iter().filter(|&n| n != 1000).collect();
        assert_eq!(connections, (0..300).collect::<Vec<_>>(), "woken in order");
    }
}
