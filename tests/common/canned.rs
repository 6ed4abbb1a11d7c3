//! A server that answers every request with one canned status and body,
//! for decoding tests that run thousands of cases through the whole client.

use std::sync::{Arc, Mutex};

use digitalocean_snapshots::{Client, DropletSnapshot, Page, RetryPolicy, Snapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// A server that answers every request with the current status and body.
pub struct Canned {
    runtime: Runtime,
    answer: Arc<Mutex<(u16, Vec<u8>)>>,
    client: Client,
}

impl Canned {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = Arc::new(Mutex::new((200, Vec::new())));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::clone(&answer);
        runtime.spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let _ = socket.set_nodelay(true);
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut head = Vec::new();
                    loop {
                        // One request head per answer; keep-alive.
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => head.extend_from_slice(&buf[..n]),
                            }
                        }
                        head.clear();
                        let (status, body) = shared.lock().unwrap().clone();
                        let mut response = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        response.extend_from_slice(&body);
                        if socket.write_all(&response).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        // Above the 10 MB bodies below: these tests are about decoding;
        // the size limit has its own tests (tests/limits.rs).
        let client = Client::builder()
            .token(super::TOKEN)
            .base_url(format!("http://{addr}"))
            .retry_policy(RetryPolicy::none())
            .max_response_bytes(32 * 1024 * 1024)
            .pace(0, std::time::Duration::ZERO)
            .build()
            .unwrap();
        Self {
            runtime,
            answer,
            client,
        }
    }

    /// The account listing's first page, answered with `status` and
    /// `body`: its items.
    pub fn snapshots(
        &self,
        status: u16,
        body: impl Into<Vec<u8>>,
    ) -> digitalocean_snapshots::Result<Vec<Snapshot>> {
        self.snapshots_page(status, body).map(|page| page.items)
    }

    /// The account listing's first page, answered with `status` and `body`.
    pub fn snapshots_page(
        &self,
        status: u16,
        body: impl Into<Vec<u8>>,
    ) -> digitalocean_snapshots::Result<Page<Snapshot>> {
        *self.answer.lock().unwrap() = (status, body.into());
        // The largest page the API serves: the bodies here hold up to a
        // few dozen items, and a page larger than asked is refused.
        self.runtime
            .block_on(self.client.list_snapshots().per_page(200).send())
    }

    /// A droplet listing's first page, answered with `status` and `body`.
    pub fn droplet_snapshots_page(
        &self,
        status: u16,
        body: impl Into<Vec<u8>>,
    ) -> digitalocean_snapshots::Result<Page<DropletSnapshot>> {
        *self.answer.lock().unwrap() = (status, body.into());
        self.runtime
            .block_on(self.client.list_droplet_snapshots(1).per_page(200).send())
    }
}

thread_local! {
    /// One server per test thread: tests run in parallel, cases in order.
    static CANNED: &'static Canned = Box::leak(Box::new(Canned::start()));
}

pub fn canned() -> &'static Canned {
    CANNED.with(|canned| *canned)
}
