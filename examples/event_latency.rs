//! How long an event takes from one instance's commit to another instance's bus, on
//! PostgreSQL (benches/events.sh runs it; results in docs/PERFORMANCE.md).
//!
//! Two `Db` handles on one database are two instances as far as events go: each has its own
//! instance id, and the second listens as a server does. The first commits `COUNT`
//! transactions, each emitting one event, `GAP` apart; a thread waits on the second's bus.
//! For each event it reports the time from just before the write (the transaction and its
//! commit included) to its arrival, and from the end of the write (the commit returned) to
//! its arrival.
//!
//! ```sh
//! cargo build --release --examples
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench target/release/examples/event_latency
//! COUNT=5000 GAP_MS=1 … event_latency    # more, faster
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use doithoai::db::Db;
use doithoai::events::{self, Event};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL=postgres://…");
    let count = env_number("COUNT", 2000) as usize;
    let gap = Duration::from_millis(env_number("GAP_MS", 5));
    let sender = Db::open(&url, 2).expect("the database opens");
    let receiver = Db::open(&url, 2).expect("the database opens");
    receiver.listen_to_other_instances().unwrap();
    let mut bus = receiver.bus().subscribe();
    let (arrived_tx, arrived) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(event) = bus.blocking_recv() {
            if let Event::DialogueChanged { dialogue_id } = event {
                let n: usize = dialogue_id.parse().unwrap();
                arrived_tx.send((n, Instant::now())).ok();
            }
        }
    });
    // The listener connects in the background; let it settle.
    std::thread::sleep(Duration::from_millis(500));
    let mut started = Vec::with_capacity(count);
    let mut committed = Vec::with_capacity(count);
    for n in 0..count {
        let start = Instant::now();
        sender
            .write_now(|_| {
                events::emit(Event::DialogueChanged {
                    dialogue_id: n.to_string(),
                });
                Ok(())
            })
            .unwrap();
        started.push(start);
        committed.push(Instant::now());
        std::thread::sleep(gap);
    }
    let mut from_start = Vec::with_capacity(count);
    let mut from_commit = Vec::with_capacity(count);
    let deadline = Instant::now() + Duration::from_secs(10);
    while from_start.len() < count {
        let wait = deadline.saturating_duration_since(Instant::now());
        let Ok((n, at)) = arrived.recv_timeout(wait) else {
            break;
        };
        from_start.push(at - started[n]);
        from_commit.push(at.saturating_duration_since(committed[n]));
    }
    println!(
        "{} of {count} events arrived ({} ms apart)",
        from_start.len(),
        gap.as_millis()
    );
    report("write start → other bus", &mut from_start);
    report("commit → other bus", &mut from_commit);
}

fn report(what: &str, times: &mut [Duration]) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<26} p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(at(1.0)),
    );
}
