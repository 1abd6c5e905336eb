//! A soak client ([`super`]): its connections, what it sends, and what it checks of what it
//! gets.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::SoakArgs;

#[derive(Default)]
pub(super) struct Tally {
    pub(super) sent: u64,
    pub(super) acked: u64,
    pub(super) delivered: u64,
    pub(super) uploads: u64,
    pub(super) reconnects: u64,
    pub(super) rejoins: u64,
    pub(super) lost: u64,
    pub(super) duplicated: u64,
    pub(super) resend_mismatches: u64,
    pub(super) error_frames: u64,
    pub(super) unexpected_closes: u64,
    pub(super) truncated_replays: u64,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One client's state across its connections.
pub(super) struct Client {
    pub(super) index: usize,
    pub(super) token: String,
    pub(super) conversations: Vec<i64>,
    /// Seqs held per conversation (received or its own acknowledged sends).
    pub(super) held: HashMap<i64, BTreeSet<i64>>,
    /// Sends not yet acknowledged, by ref: (conversation, client_msg_id, content, attachment).
    pub(super) pending: HashMap<String, (i64, String, String, Option<i64>)>,
    /// The seq each acknowledged `client_msg_id` got.
    pub(super) acked_ids: HashMap<String, i64>,
    pub(super) counter: u64,
}

impl Client {
    /// The largest seq of `conversation` below which nothing is missing.
    fn contiguous(&self, conversation: i64) -> i64 {
        let mut upto = 0;
        for seq in self.held.get(&conversation).into_iter().flatten() {
            if *seq != upto + 1 {
                break;
            }
            upto = *seq;
        }
        upto
    }
}

async fn send(ws: &mut Socket, frame: Value) -> anyhow::Result<()> {
    ws.send(Message::text(frame.to_string())).await?;
    Ok(())
}

/// Joins every conversation with `since_seq`; the refs are `j<conversation>`.
async fn join_all(ws: &mut Socket, client: &Client) -> anyhow::Result<()> {
    for &c in &client.conversations {
        let since = client.contiguous(c);
        send(
            ws,
            json!({"type": "conversation:join", "ref": format!("j{c}"),
            "data": {"conversation_id": c, "since_seq": since}}),
        )
        .await?;
    }
    Ok(())
}

async fn send_message(ws: &mut Socket, client: &Client, reference: &str) -> anyhow::Result<()> {
    let (conversation, id, content, attachment) = &client.pending[reference];
    let mut data =
        json!({"conversation_id": conversation, "content": content, "client_msg_id": id});
    if let Some(upload) = attachment {
        data["attachment_id"] = json!(upload);
    }
    send(
        ws,
        json!({"type": "message:send", "ref": reference, "data": data}),
    )
    .await
}

/// Handles one frame; `Some(last_seq)` for a join's ack of `conversation`.
fn on_frame(
    client: &mut Client,
    text: &str,
    epoch: &mut HashSet<(i64, i64)>,
    tally: &mut Tally,
) -> Option<(i64, i64)> {
    let frame: Value = serde_json::from_str(text).ok()?;
    match frame["type"].as_str()? {
        "message:new" => {
            let message = &frame["data"]["message"];
            let (c, seq) = (
                message["conversation_id"].as_i64()?,
                message["seq"].as_i64()?,
            );
            if !epoch.insert((c, seq)) {
                tally.duplicated += 1;
            }
            client.held.entry(c).or_default().insert(seq);
            tally.delivered += 1;
            None
        }
        "ack" => {
            let reference = frame["ref"].as_str()?;
            if let Some(c) = reference
                .strip_prefix('j')
                .and_then(|c| c.parse::<i64>().ok())
            {
                if frame["data"]["truncated"] == true {
                    tally.truncated_replays += 1;
                }
                return Some((c, frame["data"]["last_seq"].as_i64()?));
            }
            let (c, id, ..) = client.pending.remove(reference)?;
            let seq = frame["data"]["message"]["seq"].as_i64()?;
            tally.acked += 1;
            if client
                .acked_ids
                .insert(id, seq)
                .is_some_and(|first| first != seq)
            {
                tally.resend_mismatches += 1;
            }
            epoch.insert((c, seq));
            client.held.entry(c).or_default().insert(seq);
            None
        }
        "error" => {
            tally.error_frames += 1;
            if tally.error_frames <= 3 {
                eprintln!("soak: client {} got {text}", client.index);
            }
            None
        }
        _ => None,
    }
}

/// Uploads a small text file as the client: its id.
async fn upload(base: &str, token: &str, n: u64) -> anyhow::Result<i64> {
    let part = reqwest::multipart::Part::bytes(format!("soak file {n}\n").into_bytes())
        .file_name(format!("soak-{n}.txt"));
    let form = reqwest::multipart::Form::new().part("file", part);
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    answer["id"].as_i64().context("upload id")
}

/// Shared clock and rendezvous of the clients.
pub(super) struct Run {
    pub(super) base: String,
    pub(super) stop_sending: Instant,
    pub(super) args: Rc<SoakArgs>,
    /// Clients done sending (the last reconnect waits for all of them).
    pub(super) done: Cell<usize>,
    pub(super) tally: RefCell<Tally>,
}

/// One connection: joins, then traffic until `until`; `true` when it ended by the clock.
async fn connection(client: &mut Client, run: &Run, until: Instant) -> anyhow::Result<bool> {
    let ws_base = run.base.replacen("http", "ws", 1);
    let url = format!("{ws_base}/api/v1/ws?token={}", client.token);
    let (mut ws, _) = crate::server::connect(url).await?;
    join_all(&mut ws, client).await?;
    let refs: Vec<String> = client.pending.keys().cloned().collect();
    for reference in refs {
        send_message(&mut ws, client, &reference).await?;
    }
    let mut epoch = HashSet::new();
    let args = &run.args;
    let offset = args
        .send_period
        .mul_f64(client.index as f64 / args.clients.max(1) as f64);
    let mut tick = tokio::time::interval_at((Instant::now() + offset).into(), args.send_period);
    let mut step = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick(), if Instant::now() < run.stop_sending => {
                step += 1;
                client.counter += 1;
                let n = client.counter;
                let c = client.conversations[(n as usize) % client.conversations.len()];
                match step % 4 {
                    1 => send(&mut ws, json!({"type": "typing:start", "ref": format!("t{n}"), "data": {"conversation_id": c}})).await?,
                    2 => {
                        let seq = client.contiguous(c);
                        if seq > 0 {
                            send(&mut ws, json!({"type": "message:read", "ref": format!("r{n}"), "data": {"conversation_id": c, "seq": seq}})).await?;
                        }
                    }
                    // Leaves it for the rest of this connection; the next one joins it again with
                    // `since_seq` and gets what it missed.
                    3 if n.is_multiple_of(5) => {
                        run.tally.borrow_mut().rejoins += 1;
                        send(&mut ws, json!({"type": "conversation:leave", "ref": format!("l{n}"), "data": {"conversation_id": c}})).await?;
                    }
                    _ => {}
                }
                let attachment = if client.index.is_multiple_of(10) && n.is_multiple_of(20) {
                    run.tally.borrow_mut().uploads += 1;
                    Some(upload(&run.base, &client.token, n).await?)
                } else {
                    None
                };
                let reference = format!("m{n}");
                let id = format!("soak-{}-{n}", client.index);
                client.pending.insert(reference.clone(), (c, id, format!("soak {} {n}", client.index), attachment));
                run.tally.borrow_mut().sent += 1;
                send_message(&mut ws, client, &reference).await?;
            }
            frame = tokio::time::timeout_at(until.into(), ws.next()) => {
                let Ok(frame) = frame else {
                    let _ = ws.close(None).await;
                    return Ok(true);
                };
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        let mut tally = run.tally.borrow_mut();
                        on_frame(client, &text, &mut epoch, &mut tally);
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return Ok(false),
                    Some(Ok(_)) => {}
                }
            }
        }
    }
}

/// The last connection: rejoins, collects each join's `last_seq`, and counts what is missing.
async fn settle(client: &mut Client, run: &Run) -> anyhow::Result<()> {
    let ws_base = run.base.replacen("http", "ws", 1);
    let url = format!("{ws_base}/api/v1/ws?token={}", client.token);
    let (mut ws, _) = crate::server::connect(url).await?;
    join_all(&mut ws, client).await?;
    let mut last: HashMap<i64, i64> = HashMap::new();
    let mut epoch = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while last.len() < client.conversations.len() {
        let frame = tokio::time::timeout_at(deadline.into(), ws.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = frame else {
            anyhow::bail!("client {}: the final rejoin did not complete", client.index);
        };
        let mut tally = run.tally.borrow_mut();
        if let Some((c, seq)) = on_frame(client, &text, &mut epoch, &mut tally) {
            last.insert(c, seq);
        }
    }
    let _ = ws.close(None).await;
    let mut tally = run.tally.borrow_mut();
    for (c, last_seq) in last {
        let held = client.held.get(&c);
        tally.lost += (1..=last_seq)
            .filter(|s| !held.is_some_and(|h| h.contains(s)))
            .count() as u64;
    }
    tally.lost += client.pending.len() as u64;
    Ok(())
}

pub(super) async fn client_task(mut client: Client, run: Rc<Run>) -> anyhow::Result<()> {
    let args = run.args.clone();
    // Staggered: client i first reconnects after a share of the period.
    let stagger = args
        .reconnect
        .mul_f64((client.index as f64 + 1.0) / args.clients.max(1) as f64);
    let mut until = Instant::now() + stagger;
    loop {
        let now = Instant::now();
        // After the sending stops, a connection lives two seconds: long enough for the acks of
        // resent messages.
        let cut = if now >= run.stop_sending {
            now + Duration::from_secs(2)
        } else {
            until.min(run.stop_sending + Duration::from_secs(2))
        };
        match connection(&mut client, &run, cut).await {
            Ok(true) => {}
            Ok(false) => run.tally.borrow_mut().unexpected_closes += 1,
            Err(err) => {
                run.tally.borrow_mut().unexpected_closes += 1;
                eprintln!("soak: client {}: {err:#}", client.index);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        if Instant::now() >= run.stop_sending && client.pending.is_empty() {
            break;
        }
        if Instant::now() >= run.stop_sending + Duration::from_secs(20) {
            break;
        }
        run.tally.borrow_mut().reconnects += 1;
        until = Instant::now() + args.reconnect;
    }
    run.done.set(run.done.get() + 1);
    while run.done.get() < args.clients {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(&mut client, &run).await
}
