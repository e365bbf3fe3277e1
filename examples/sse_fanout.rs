//! The live stream's load client, for benches/live.sh: thousands of stream clients on one
//! machine, each timing when a change reaches it.
//!
//! ```sh
//! sse_fanout BASE_URL DIALOGUE ORGANIZER_TOKEN QUESTIONS_FILE CLIENTS ROUNDS [CODES_FILE VOTES]
//! ```
//! 1. opens CLIENTS streams (plain HTTP/1.1 on their own sockets, as phones would);
//! 2. ROUNDS times, puts another question (from QUESTIONS_FILE) on screen and times, for
//!    every client, from just before the request until its `current_question` event;
//! 3. with CODES_FILE, casts VOTES votes on one question, one every 200 ms from different
//!    participants, and times, for every client, from each vote's answer until a `votes`
//!    event shows it (the vote lag), while the command in `BACKGROUND` (if set) runs —
//!    benches/live.sh runs loadgen there, voting at 5,000/s on other questions. The probe
//!    question is put on screen first, unless `PROBE=queue`. With `WATCH=1` every client
//!    names the probe in `?votes=`, as a page names the questions it lists.
//!
//! With `STREAM_BASE` set (another instance of the same PostgreSQL database), the streams
//! are opened there while the changes and votes go to BASE_URL: the times then include the
//! crossing between instances.
//!
//! Prints the receive times (p50, p99, max) and how many clients got each change.

// A benchmark tool: it stops loudly on anything unexpected rather than report wrong figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What every client watches for: the question of the current round, and the votes of
/// the probe question with when each was answered.
struct Watch {
    target: RwLock<(String, Instant)>,
    round: AtomicUsize,
    probe: String,
    acks: RwLock<Vec<Instant>>,
    changes: Mutex<Vec<f64>>,
    vote_lags: Mutex<Vec<f64>>,
    connected: AtomicUsize,
}

fn read_lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The count the `votes` data gives `probe`, if it names it.
fn probe_count(data: &str, probe: &str) -> Option<usize> {
    let key = format!("\"{probe}\":");
    let start = data.find(&key)? + key.len();
    let digits: String = data[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

async fn client(address: String, host: String, path: String, watch: Arc<Watch>) {
    let Ok(mut socket) = TcpStream::connect(&address).await else {
        return;
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    );
    if socket.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut pending = String::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let mut counted = false;
    let mut seen_round = usize::MAX;
    let mut seen_votes = 0usize;
    loop {
        let n = match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = Instant::now();
        pending.push_str(&String::from_utf8_lossy(&buffer[..n]));
        if !counted && pending.contains("200 OK") {
            counted = true;
            watch.connected.fetch_add(1, Ordering::AcqRel);
        }
        // Messages end with a blank line; chunk-size lines between them are ignored.
        while let Some(end) = pending.find("\n\n") {
            let message: String = pending.drain(..end + 2).collect();
            let mut kind = "";
            let mut data = "";
            for line in message.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    kind = v;
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = v;
                }
            }
            match kind {
                "current_question" => {
                    let round = watch.round.load(Ordering::Acquire);
                    let (target, started) = watch.target.read().unwrap().clone();
                    if round != seen_round && !target.is_empty() && data.contains(&target) {
                        seen_round = round;
                        watch.changes.lock().unwrap().push(millis(now - started));
                    }
                }
                "votes" => {
                    if let Some(count) = probe_count(data, &watch.probe) {
                        let acks = watch.acks.read().unwrap();
                        let mut lags = watch.vote_lags.lock().unwrap();
                        for k in seen_votes..count.min(acks.len()) {
                            // A vote shown before its answer reached the voter lags by 0.
                            lags.push(millis(now.saturating_duration_since(acks[k])));
                        }
                        seen_votes = seen_votes.max(count.min(acks.len()));
                    }
                }
                _ => {}
            }
        }
    }
}

fn report(label: &str, values: &mut [f64], expected: usize) {
    values.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| {
        if values.is_empty() {
            return 0.0;
        }
        let i = ((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1;
        values[i]
    };
    println!(
        "{label}: {} of {expected} received | ms p50 {:.1} p99 {:.1} max {:.1}",
        values.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

/// Puts `question` on the dialogue's screen, as the organizer does.
async fn put_on_screen(
    http: &reqwest::Client,
    base: &str,
    dialogue: &str,
    token: &str,
    question: &str,
) {
    let reply = http
        .put(format!("{base}/api/v1/dialogues/{dialogue}/live"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "current_question_id": question }))
        .send()
        .await
        .expect("PUT live");
    assert!(reply.status().is_success(), "PUT live: {}", reply.status());
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 7 && args.len() != 9 {
        eprintln!(
            "usage: sse_fanout BASE_URL DIALOGUE TOKEN QUESTIONS_FILE CLIENTS ROUNDS [CODES_FILE VOTES]"
        );
        std::process::exit(2);
    }
    let base = args[1].trim_end_matches('/').to_string();
    let (dialogue, token) = (args[2].clone(), args[3].clone());
    let questions = read_lines(&args[4]);
    let clients: usize = args[5].parse().expect("CLIENTS");
    let rounds: usize = args[6].parse().expect("ROUNDS");
    let voting = args
        .get(7)
        .map(|codes| (read_lines(codes), args[8].parse::<usize>().expect("VOTES")));
    let stream_base = std::env::var("STREAM_BASE").unwrap_or_else(|_| base.clone());
    let host = stream_base
        .trim_end_matches('/')
        .trim_start_matches("http://")
        .to_string();
    let probe = questions.last().cloned().unwrap_or_default();
    let watch = Arc::new(Watch {
        target: RwLock::new((String::new(), Instant::now())),
        round: AtomicUsize::new(0),
        probe: probe.clone(),
        acks: RwLock::new(Vec::new()),
        changes: Mutex::new(Vec::new()),
        vote_lags: Mutex::new(Vec::new()),
        connected: AtomicUsize::new(0),
    });
    // `WATCH=1`: each client names the probe as a question it shows (`?votes=`), as a
    // phone's page names the questions it lists.
    let path = match std::env::var("WATCH").as_deref() {
        Ok("1") => format!("/api/v1/dialogues/{dialogue}/live/events?votes={probe}"),
        _ => format!("/api/v1/dialogues/{dialogue}/live/events"),
    };
    let opened = Instant::now();
    for batch in 0..clients.div_ceil(250) {
        for _ in 0..250.min(clients - batch * 250) {
            tokio::spawn(client(
                host.clone(),
                host.clone(),
                path.clone(),
                watch.clone(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while watch.connected.load(Ordering::Acquire) < clients
        && opened.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connected = watch.connected.load(Ordering::Acquire);
    println!(
        "{connected} of {clients} clients connected in {:.1} s",
        opened.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // A fresh connection for each request: the server may close an idle keep-alive
    // connection (after 5 s) just as the next request goes out on it.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client");
    for round in 0..rounds {
        let question = &questions[round % (questions.len() - 1).max(1)];
        *watch.target.write().unwrap() = (question.clone(), Instant::now());
        watch.round.store(round, Ordering::Release);
        put_on_screen(&http, &base, &dialogue, &token, question).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    report(
        &format!("current_question over {rounds} changes"),
        &mut watch.changes.lock().unwrap(),
        connected * rounds,
    );

    if let Some((codes, votes)) = voting {
        // Background load for the vote phase (benches/live.sh: loadgen voting at 5,000/s).
        let background = std::env::var("BACKGROUND").ok().map(|command| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .spawn()
                .expect("the background command starts")
        });
        // Where the probe stands decides how soon its count goes out when a thousand
        // counts change at once: on screen (the default, `PROBE=screen`) it goes first;
        // `PROBE=queue` leaves it in the queue, where it waits for its turn.
        if std::env::var("PROBE").as_deref() != Ok("queue") {
            put_on_screen(&http, &base, &dialogue, &token, &probe).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        for k in 0..votes {
            let reply = http
                .put(format!("{base}/api/v1/questions/{probe}/vote"))
                .bearer_auth(&codes[k % codes.len()])
                .send()
                .await;
            // An overloaded server may drop or time out a probe vote; the lags measured
            // so far stand, and the report says how many probes were cast.
            match reply {
                Ok(reply) if reply.status().is_success() => {}
                Ok(reply) => {
                    println!("probe vote {k} refused: {}; probing stops", reply.status());
                    break;
                }
                Err(e) => {
                    println!("probe vote {k} failed: {e}; probing stops");
                    break;
                }
            }
            watch.acks.write().unwrap().push(Instant::now());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        if let Some(mut child) = background {
            child.wait().ok();
        }
        let cast = watch.acks.read().unwrap().len();
        report(
            &format!("vote lag over {cast} of {votes} probe votes"),
            &mut watch.vote_lags.lock().unwrap(),
            connected * cast,
        );
    }
}
