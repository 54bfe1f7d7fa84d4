//! A local fake of Discord's gateway: HELLO, IDENTIFY → READY, heartbeats answered, and
//! whatever dispatches a test pushes, in order, with sequence numbers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

use super::payloads;

/// A running fake gateway; it stops when dropped.
pub struct FakeGateway {
    pub url: String,
    dispatches: mpsc::UnboundedSender<(String, Value)>,
    /// Sessions started (READY) or resumed (RESUMED) so far.
    sessions: Arc<AtomicUsize>,
    /// Every IDENTIFY and RESUME payload received.
    pub identifies: Arc<Mutex<Vec<Value>>>,
    drop_now: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGateway {
    /// Starts the fake; `bot` is the user READY introduces.
    pub async fn start(bot: u64, guilds: Vec<u64>) -> FakeGateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("ws://{}", listener.local_addr().expect("address"));
        let (dispatches, mut queue) = mpsc::unbounded_channel::<(String, Value)>();
        let sessions = Arc::new(AtomicUsize::new(0));
        let identifies = Arc::new(Mutex::new(Vec::new()));
        let (sessions_for_task, identifies_for_task) = (sessions.clone(), identifies.clone());
        let own_url = url.clone();
        let drop_now = Arc::new(Notify::new());
        let drop_for_task = drop_now.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    continue;
                };
                let hello =
                    json!({"op": 10, "d": {"heartbeat_interval": 41250}, "s": null, "t": null});
                if ws.send(Message::Text(hello.to_string())).await.is_err() {
                    continue;
                }
                let mut seq = 0u64;
                loop {
                    tokio::select! {
                        frame = ws.next() => {
                            let Some(Ok(frame)) = frame else { break };
                            let Ok(text) = frame.to_text() else { continue };
                            let Ok(payload) = serde_json::from_str::<Value>(text) else { continue };
                            match payload["op"].as_u64() {
                                Some(1) => {
                                    let ack = json!({"op": 11, "d": null, "s": null, "t": null});
                                    let _ = ws.send(Message::Text(ack.to_string())).await;
                                }
                                Some(6) => {
                                    // RESUME: replay nothing, confirm, carry on.
                                    identifies_for_task.lock().expect("identifies").push(payload);
                                    seq += 1;
                                    let resumed = dispatch("RESUMED", json!({}), seq);
                                    let _ = ws.send(Message::Text(resumed.to_string())).await;
                                    sessions_for_task.fetch_add(1, Ordering::SeqCst);
                                }
                                Some(2) => {
                                    identifies_for_task.lock().expect("identifies").push(payload);
                                    seq += 1;
                                    let ready = dispatch("READY", ready_payload(bot, &guilds, &own_url), seq);
                                    let _ = ws.send(Message::Text(ready.to_string())).await;
                                    sessions_for_task.fetch_add(1, Ordering::SeqCst);
                                }
                                _ => {}
                            }
                        }
                        () = drop_for_task.notified() => {
                            // Vanish without a close frame, as a network failure would.
                            break;
                        }
                        next = queue.recv() => {
                            let Some((name, data)) = next else { return };
                            seq += 1;
                            let frame = dispatch(&name, data, seq);
                            if ws.send(Message::Text(frame.to_string())).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        });
        FakeGateway {
            url,
            dispatches,
            sessions,
            identifies,
            drop_now,
            task,
        }
    }

    /// How many sessions have started or resumed so far.
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::SeqCst)
    }

    /// Waits until `n` sessions have started or resumed.
    pub async fn wait_for_sessions(&self, n: usize, within: std::time::Duration) {
        let start = std::time::Instant::now();
        while self.sessions.load(Ordering::SeqCst) < n {
            assert!(
                start.elapsed() < within,
                "session {n} did not start in {within:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Drops the current connection without a close frame.
    pub fn drop_connection(&self) {
        self.drop_now.notify_one();
    }

    /// Sends a dispatch event (`MESSAGE_CREATE`, `GUILD_MEMBER_ADD` …) to the client.
    pub fn send(&self, name: &str, data: Value) {
        let _ = self.dispatches.send((name.to_string(), data));
    }
}

fn dispatch(name: &str, data: Value, seq: u64) -> Value {
    json!({"op": 0, "t": name, "s": seq, "d": data})
}

/// READY as serenity's model expects it.
pub fn ready_payload(bot: u64, guilds: &[u64], resume_url: &str) -> Value {
    json!({
        "v": 10,
        "user": payloads::user(bot, "steward", true),
        "guilds": guilds.iter().map(|g| json!({"id": g.to_string(), "unavailable": true})).collect::<Vec<_>>(),
        "session_id": "fake-session",
        "resume_gateway_url": resume_url,
        "shard": [0, 1],
        "application": {"id": bot.to_string(), "flags": 0},
    })
}
