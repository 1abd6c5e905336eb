//! The node's background tasks on the `parlor-redis` runtime: the publisher (queued events, many
//! per round trip), the pinger (is Redis answering?) and the subscriber (the global channel and
//! every room's, with reconnection and the recovery that follows an outage).

use super::*;

/// Publishes queued events, in order, many per round trip.
pub(super) async fn publisher(
    inner: Weak<Inner>,
    mut queue: mpsc::Receiver<(String, Vec<u8>)>,
    mut conn: ConnectionManager,
) {
    while let Some(first) = queue.recv().await {
        let mut pipe = redis::pipe();
        pipe.publish(&first.0, &first.1).ignore();
        let mut n = 1u64;
        while n < PUBLISH_BATCH as u64 {
            let Ok((channel, payload)) = queue.try_recv() else {
                break;
            };
            pipe.publish(&channel, &payload).ignore();
            n += 1;
        }
        let sent = tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<()>(&mut conn)).await;
        if !matches!(sent, Ok(Ok(()))) {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            inner.lost.fetch_add(n, Ordering::Relaxed);
            tracing::warn!(events = n, "events not published: Redis unreachable");
        }
    }
}

/// Keeps `answering` current.
pub(super) async fn pinger(inner: Weak<Inner>, mut conn: ConnectionManager) {
    let mut interval = tokio::time::interval(PING_INTERVAL);
    loop {
        interval.tick().await;
        let answered = matches!(
            tokio::time::timeout(
                REDIS_TIMEOUT,
                redis::cmd("PING").query_async::<String>(&mut conn)
            )
            .await,
            Ok(Ok(_))
        );
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let was = inner.answering.swap(answered, Ordering::Relaxed);
        if was != answered {
            tracing::warn!(
                up = answered,
                "Redis {}",
                if answered {
                    "answers again"
                } else {
                    "does not answer"
                }
            );
        }
    }
}

/// Holds the subscriber connection: subscribes the global channel and every room's, passes
/// messages on, and reconnects after a failure. After an outage (not at the first connection)
/// it tells the listeners and the other nodes that this node is back.
pub(super) async fn subscriber(
    inner: Weak<Inner>,
    client: redis::Client,
    mut changes: mpsc::UnboundedReceiver<Subscription>,
) {
    let mut connected_before = false;
    let mut backoff = Duration::from_millis(50);
    loop {
        if inner.strong_count() == 0 {
            return;
        }
        let pubsub = tokio::time::timeout(REDIS_TIMEOUT, client.get_async_pubsub()).await;
        let Ok(Ok(pubsub)) = pubsub else {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
            continue;
        };
        let (mut sink, mut stream) = pubsub.split();
        let (prefix, global, channels): (
            String,
            String,
            Vec<(ConversationId, Recipient<RemoteEvent>)>,
        ) = match inner.upgrade() {
            Some(inner) => (
                inner.prefix.clone(),
                inner.global.clone(),
                inner
                    .rooms
                    .lock()
                    .map(|rooms| rooms.iter().map(|(id, room)| (*id, room.clone())).collect())
                    .unwrap_or_default(),
            ),
            None => return,
        };
        // Changes queued before this connection are already in the room map.
        while changes.try_recv().is_ok() {}
        let mut ok = sink.subscribe(&global).await.is_ok();
        for chunk in channels.chunks(256) {
            if !ok {
                break;
            }
            let names: Vec<String> = chunk
                .iter()
                .map(|(id, _)| envelope::conversation_channel(&prefix, *id))
                .collect();
            ok = sink.subscribe(&names).await.is_ok();
        }
        if !ok {
            continue;
        }
        backoff = Duration::from_millis(50);
        {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            inner.subscribed.store(true, Ordering::Relaxed);
            // It just answered; the pinger confirms from now on.
            inner.answering.store(true, Ordering::Relaxed);
            tracing::info!(rooms = channels.len(), "subscribed to Redis");
            for (_, room) in &channels {
                room.do_send(RemoteEvent::Subscribed);
            }
            if connected_before {
                // The presence registry publishes the catch-up for the other nodes once
                // this node's users are registered again.
                if let Some(listeners) = inner.listeners() {
                    for listener in &listeners.recovered {
                        listener.do_send(Recovered);
                    }
                }
            }
        }
        connected_before = true;
        loop {
            tokio::select! {
                message = stream.next() => {
                    let Some(message) = message else { break };
                    let Some(inner) = inner.upgrade() else { return };
                    inner.dispatch(message.get_channel_name(), message.get_payload_bytes());
                }
                change = changes.recv() => {
                    let Some(change) = change else { return };
                    let done = match change {
                        Subscription::Subscribe(id) => {
                            let subscribed = sink.subscribe(envelope::conversation_channel(&prefix, id)).await;
                            if subscribed.is_ok()
                                && let Some(room) = inner.upgrade().and_then(|i| i.room(id))
                            {
                                room.do_send(RemoteEvent::Subscribed);
                            }
                            subscribed
                        }
                        Subscription::Unsubscribe(id) => {
                            sink.unsubscribe(envelope::conversation_channel(&prefix, id)).await
                        }
                    };
                    if done.is_err() {
                        break;
                    }
                }
            }
        }
        if let Some(inner) = inner.upgrade() {
            inner.subscribed.store(false, Ordering::Relaxed);
            tracing::warn!("lost the Redis subscription; reconnecting");
        }
    }
}
