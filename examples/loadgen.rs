//! A load client at a steady rate, for benches/questions.sh: submissions or votes, each
//! request a different person or question, latency measured from when the request was
//! due (so a slow server cannot hide its queue by slowing the client down).
//!
//! ```sh
//! cargo run --release --example loadgen -- submit 5000 10 http://127.0.0.1:8096 DIALOGUE codes.txt 0
//! cargo run --release --example loadgen -- vote   5000 10 http://127.0.0.1:8096 questions.txt codes.txt 0
//! ```
//! Arguments: mode, requests per second, seconds, base URL, the dialogue's id (submit) or a
//! file of question ids (vote), a file of participant codes, and an offset that keeps the
//! requests of several runs apart. Prints one line: statuses, achieved rate, latencies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore};

/// Connections kept open at most, as a hall's phones behind a few access points would.
const CONNECTIONS: usize = 64;

struct Plan {
    mode: String,
    rate: u64,
    seconds: u64,
    base: String,
    target: String,
    codes: Vec<String>,
    questions: Vec<String>,
    offset: u64,
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

fn plan() -> Plan {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 8 {
        eprintln!(
            "usage: loadgen submit|vote RATE SECONDS BASE_URL DIALOGUE|QUESTIONS_FILE CODES_FILE OFFSET"
        );
        std::process::exit(2);
    }
    let mode = args[1].clone();
    let questions = if mode == "vote" {
        read_lines(&args[5])
    } else {
        Vec::new()
    };
    Plan {
        rate: args[2].parse().expect("RATE is a number"),
        seconds: args[3].parse().expect("SECONDS is a number"),
        base: args[4].trim_end_matches('/').to_string(),
        target: args[5].clone(),
        codes: read_lines(&args[6]),
        questions,
        offset: args[7].parse().expect("OFFSET is a number"),
        mode,
    }
}

const TOPICS: [&str; 5] = [
    "employment",
    "loans_livelihood",
    "record_expungement",
    "vocational_training",
    "residence_documents",
];

/// Request `k`: who sends it and what.
fn request(client: &reqwest::Client, plan: &Plan, k: u64) -> reqwest::RequestBuilder {
    let people = plan.codes.len() as u64;
    let code = &plan.codes[(k % people) as usize];
    match plan.mode.as_str() {
        "submit" => client
            .post(format!("{}/api/v1/dialogues/{}/questions", plan.base, plan.target))
            .bearer_auth(code)
            .json(&serde_json::json!({
                "body": format!("Câu hỏi số {k}: xin hỏi thủ tục vay vốn học nghề cho người đã chấp hành xong án phạt tù ở địa phương như thế nào?"),
                "topic": TOPICS[(k % 5) as usize],
            })),
        _ => {
            // Distinct (person, question) pairs for k below people × questions.
            let count = plan.questions.len() as u64;
            let question = &plan.questions[((k + k / people) % count) as usize];
            client
                .put(format!("{}/api/v1/questions/{question}/vote", plan.base))
                .bearer_auth(code)
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let plan = Arc::new(plan());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let slots = Arc::new(Semaphore::new(CONNECTIONS));
    let results = Arc::new(Mutex::new(Vec::new()));
    let total = plan.rate * plan.seconds;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / plan.rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, plan, slots, results) =
            (client.clone(), plan.clone(), slots.clone(), results.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore open");
            let status = match request(&client, &plan, plan.offset + i).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    response.bytes().await.ok();
                    status
                }
                Err(_) => 0,
            };
            results.lock().await.push((status, due.elapsed()));
        }));
    }
    for task in tasks {
        task.await.ok();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let results = results.lock().await;
    let mut statuses = std::collections::BTreeMap::new();
    for (status, _) in results.iter() {
        *statuses.entry(*status).or_insert(0u64) += 1;
    }
    let mut latencies: Vec<Duration> = results.iter().map(|(_, l)| *l).collect();
    latencies.sort();
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
    println!(
        "{} at {}/s for {}s: statuses {} | achieved {:.0}/s | latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
        plan.mode,
        plan.rate,
        plan.seconds,
        statuses.join(" "),
        results.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}
