//! A TCP relay in front of the API server: client (d) of the throughput comparison, the
//! cheapest hop there is.
//!
//! A direct kube-rs exec through it pays what any server between a client and the API server
//! pays at the least: one more process that is woken for every segment, reads it and sends it
//! on, and a second loopback connection in the kernel. It does none of webshell's own work
//! (TLS, WebSocket framing, flow control). On a machine whose cores the whole path shares, its
//! ratio to the direct exec is therefore the floor for any bridge, webshell included.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Bytes each direction reads at once: as much as a TLS record or more, so that the relay's
/// own cost per byte is as low as it gets.
const BUFFER: usize = 64 * 1024;

/// A running relay; dropping it stops it (connections in progress end with it).
pub struct Relay {
    /// Where clients connect.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Relay {
    /// Relays every connection to `127.0.0.1:<port>` on to `upstream`.
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                while connections.try_join_next().is_some() {}
                connections.spawn(async move {
                    if let Err(e) = relay(client, upstream).await {
                        eprintln!("bench: relay connection failed: {e}");
                    }
                });
            }
        });
        Ok(Relay { addr, task })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut client: TcpStream, upstream: SocketAddr) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    match tokio::io::copy_bidirectional_with_sizes(&mut client, &mut server, BUFFER, BUFFER).await {
        // A client that closes its exec connection while the API server still sends (the
        // status came, the rest is the close handshake) is the usual end, not a failure.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            Ok(())
        }
        other => other.map(drop),
    }
}
