//! A local fake of Discord's gateway: HELLO, IDENTIFY → READY, heartbeats answered, and
//! whatever dispatches a test pushes, in order, with sequence numbers.

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
    /// Signalled when a client has identified and received READY.
    pub ready: Arc<Notify>,
    /// Every IDENTIFY payload received.
    pub identifies: Arc<Mutex<Vec<Value>>>,
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
        let ready = Arc::new(Notify::new());
        let identifies = Arc::new(Mutex::new(Vec::new()));
        let (ready_for_task, identifies_for_task) = (ready.clone(), identifies.clone());
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
                                Some(2) => {
                                    identifies_for_task.lock().expect("identifies").push(payload);
                                    seq += 1;
                                    let ready = dispatch("READY", ready_payload(bot, &guilds), seq);
                                    let _ = ws.send(Message::Text(ready.to_string())).await;
                                    ready_for_task.notify_waiters();
                                    ready_for_task.notify_one();
                                }
                                _ => {}
                            }
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
            ready,
            identifies,
            task,
        }
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
pub fn ready_payload(bot: u64, guilds: &[u64]) -> Value {
    json!({
        "v": 10,
        "user": payloads::user(bot, "steward", true),
        "guilds": guilds.iter().map(|g| json!({"id": g.to_string(), "unavailable": true})).collect::<Vec<_>>(),
        "session_id": "fake-session",
        "resume_gateway_url": "ws://127.0.0.1:1",
        "shard": [0, 1],
        "application": {"id": bot.to_string(), "flags": 0},
    })
}
