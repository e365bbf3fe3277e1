//! A local SMTP server for benchmarks: accepts every message and writes the running count
//! to a file once a tenth of a second, so a script can time delivery.
//!
//! `cargo run --release --example smtp_sink -- 127.0.0.1:2525 /tmp/count`

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mailin_embedded::{Handler, Response, Server, response};

#[derive(Clone)]
struct Counter(Arc<AtomicUsize>);

impl Handler for Counter {
    fn data_end(&mut self) -> Response {
        self.0.fetch_add(1, Ordering::Relaxed);
        response::OK
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:2525".into());
    let count_file = args.next().unwrap_or_else(|| "smtp-count".into());
    let counter = Counter(Arc::new(AtomicUsize::new(0)));
    let shared = counter.0.clone();
    std::thread::spawn(move || {
        loop {
            // Written aside and renamed, so a reader never sees a half-written number.
            let aside = format!("{count_file}.tmp");
            if std::fs::write(&aside, shared.load(Ordering::Relaxed).to_string()).is_ok() {
                let _ = std::fs::rename(&aside, &count_file);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let listener = TcpListener::bind(&address)?;
    let mut server = Server::new(counter);
    server
        .with_name("sink.local")
        .with_num_threads(8)
        .with_tcp_listener(listener);
    eprintln!("smtp sink listening on {address}");
    server.serve().map_err(|e| format!("{e:?}"))?;
    Ok(())
}
