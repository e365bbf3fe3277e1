//! How fast the minutes' PDF is drawn, how much memory it takes and how large it is, against
//! wkhtmltopdf on the same text (benches/minutes.sh runs it; results in
//! docs/PERFORMANCE.md).
//!
//! For each size (50, 500 and 5,000 questions by default) it starts itself again as a child
//! process, so that each size has its own peak memory: the child builds a synthetic record
//! (every question about 60 Vietnamese words, every answer about 120, all answered in
//! writing), draws the PDF `RUNS` times through `minutes::document::pdf` (the code the
//! endpoint runs), and reports the best and median wall time, the process's peak resident
//! memory (`VmHWM`, the record and the document included) and the file's size. It then
//! writes the same document as HTML (the same blocks and text, Liberation Serif 13 pt, the
//! same margins) and the parent times `wkhtmltopdf` on it, with its peak memory from
//! `/usr/bin/time` (or from polling `/proc/<pid>/status` without it), and prints the ratios.
//!
//! ```sh
//! cargo build --release --example minutes_bench
//! target/release/examples/minutes_bench                 # 50, 500, 5000
//! SIZES=500 RUNS=9 WK_RUNS=3 target/release/examples/minutes_bench
//! KEEP=/tmp/bench target/release/examples/minutes_bench # keep the PDFs and the HTML
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use doithoai::db::DialogueId;
use doithoai::dialogues::model::{
    AgendaItem, Dialogue, DialogueStatus, FullDialogue, Official, OfficialRole,
};
use doithoai::minutes::document;
use doithoai::minutes::model::{Commitment, Minutes};
use doithoai::minutes::record::{QuestionEntry, Record};
use doithoai::participants::model::Category;
use doithoai::pdf::{Align, Block, Document, Style};
use doithoai::questions::model::Topic;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so that every run draws the same text.
struct Words(u64);

const VOCABULARY: &[&str] = &[
    "người",
    "dân",
    "chấp",
    "hành",
    "xong",
    "án",
    "phạt",
    "tù",
    "muốn",
    "vay",
    "vốn",
    "để",
    "mở",
    "tiệm",
    "sửa",
    "xe",
    "thủ",
    "tục",
    "hồ",
    "sơ",
    "giấy",
    "chứng",
    "nhận",
    "ủy",
    "ban",
    "nhân",
    "huyện",
    "xã",
    "thị",
    "trấn",
    "học",
    "nghề",
    "việc",
    "làm",
    "doanh",
    "nghiệp",
    "tiếp",
    "nhận",
    "lao",
    "động",
    "hỗ",
    "trợ",
    "gia",
    "đình",
    "cộng",
    "đồng",
    "hòa",
    "nhập",
    "ổn",
    "định",
    "cuộc",
    "sống",
    "ngân",
    "hàng",
    "chính",
    "sách",
    "xã",
    "hội",
    "mức",
    "lãi",
    "suất",
    "thời",
    "hạn",
    "trả",
    "nợ",
    "cơ",
    "quan",
    "công",
    "an",
    "tư",
    "pháp",
    "lý",
    "lịch",
    "xóa",
    "án",
    "tích",
    "cư",
    "trú",
    "căn",
    "cước",
    "đăng",
    "ký",
    "thường",
    "trú",
    "tạm",
    "trú",
    "cai",
    "nghiện",
    "ma",
    "túy",
    "điều",
    "trị",
    "methadone",
    "y",
    "tế",
    "bảo",
    "hiểm",
    "trường",
    "hợp",
    "khó",
    "khăn",
    "đặc",
    "biệt",
    "phòng",
    "lao",
    "động",
    "thương",
    "binh",
    "quy",
    "định",
    "nghị",
    "định",
    "thông",
    "tư",
    "hướng",
    "dẫn",
    "thực",
    "hiện",
    "trong",
    "thời",
    "gian",
    "sớm",
    "nhất",
    "có",
    "thể",
    "được",
    "không",
    "những",
    "các",
    "của",
    "và",
    "với",
    "theo",
    "từ",
    "đến",
    "tại",
    "về",
];

impl Words {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// About `words` words in sentences of 8 to 20, each starting with a capital.
    fn text(&mut self, words: usize) -> String {
        let mut out = String::new();
        let mut left = words;
        while left > 0 {
            let length = (8 + (self.next() % 13) as usize).min(left);
            for i in 0..length {
                let word = VOCABULARY[(self.next() % VOCABULARY.len() as u64) as usize];
                if i == 0 {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    let mut chars = word.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                } else {
                    out.push(' ');
                    out.push_str(word);
                }
            }
            out.push(if self.next().is_multiple_of(4) {
                '?'
            } else {
                '.'
            });
            left -= length;
        }
        out
    }
}

/// A record of `n` questions, each answered in writing, over every topic.
fn synthetic(n: usize) -> Record {
    let at = |h, m| {
        NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap()
    };
    let id = DialogueId::new();
    let dialogue = Dialogue {
        id: id.clone(),
        title: "Hội nghị đối thoại với người chấp hành xong hình phạt tù, người thi hành án \
                hình sự tại cộng đồng, người nghiện ma túy"
            .into(),
        description: String::new(),
        host_unit: "UBND huyện Bến Lức".into(),
        parent_unit: "UBND tỉnh Long An".into(),
        locality: "Bến Lức".into(),
        venue: "Hội trường UBND huyện Bến Lức".into(),
        starts_at: at(7, 0),
        ends_at: at(10, 0),
        question_deadline: None,
        time_zone: "Asia/Ho_Chi_Minh".into(),
        capacity: 300,
        self_registration: true,
        anonymous_questions: true,
        status: DialogueStatus::Concluded,
        current_question_id: None,
        created_by: None,
        created_at: at(1, 0),
        updated_at: at(1, 0),
        calendar_sequence: 0,
    };
    let official = |i: i32, name: &str, position: &str, role| Official {
        id: format!("o{i}"),
        dialogue_id: id.clone(),
        sort_order: i,
        name: name.into(),
        position: position.into(),
        role,
    };
    let officials = vec![
        official(
            1,
            "Lê Thành Út",
            "Chủ tịch UBND huyện Bến Lức",
            OfficialRole::Chair,
        ),
        official(
            2,
            "Trần Thị Thu Hà",
            "Chuyên viên Văn phòng HĐND và UBND huyện",
            OfficialRole::Secretary,
        ),
    ];
    let agenda = ["Khai mạc", "Đối thoại", "Kết luận"]
        .iter()
        .enumerate()
        .map(|(i, title)| AgendaItem {
            id: format!("a{i}"),
            dialogue_id: id.clone(),
            sort_order: i as i32,
            title: (*title).into(),
            presenter: None,
        })
        .collect();
    let agencies: Vec<String> = [
        "Công an huyện",
        "Ngân hàng Chính sách xã hội huyện",
        "Phòng Lao động - Thương binh và Xã hội huyện",
        "Phòng Tư pháp huyện",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut words = Words(0x9E37_79B9_7F4A_7C15);
    let mut topics: Vec<(Topic, Vec<QuestionEntry>)> =
        Topic::ALL.iter().map(|t| (*t, Vec::new())).collect();
    for i in 0..n {
        let slot = i % topics.len();
        topics[slot].1.push(QuestionEntry {
            number: 0,
            body: words.text(60),
            asker: i.is_multiple_of(3).then(|| "Nguyễn Văn Ánh".to_string()),
            agency: Some(agencies[i % agencies.len()].clone()),
            answer: Some(words.text(120)),
            spoken: Vec::new(),
            due_at: None,
        });
    }
    let mut number = 0;
    for (_, questions) in &mut topics {
        for q in questions {
            number += 1;
            q.number = number;
        }
    }
    topics.retain(|(_, qs)| !qs.is_empty());
    Record {
        full: FullDialogue {
            dialogue,
            officials,
            agenda,
        },
        minutes: Some(Minutes {
            dialogue_id: id.to_string(),
            number: Some("12".into()),
            opened_at: Some(at(7, 0)),
            closed_at: Some(at(9, 45)),
            summary: Some(words.text(80)),
            conclusion: Some(words.text(150)),
            published_at: None,
            created_at: at(10, 0),
            updated_at: at(10, 0),
            recipients: Some("UBND tỉnh Long An (để báo cáo);\nLưu: VT.".into()),
        }),
        checked_in: vec![
            (Category::CompletedSentence, 120),
            (Category::CommunitySentence, 45),
            (Category::DrugRehabilitation, 30),
        ],
        agencies,
        topics,
        commitments: vec![Commitment {
            party: "Công ty TNHH May mặc Bến Lức".into(),
            kind: "employment_mou".into(),
            description: "Tiếp nhận người lao động sau khi chấp hành xong án phạt tù".into(),
            jobs_offered: Some(20),
            created_at: at(9, 0),
        }],
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Debian's wkhtmltopdf (built on an unpatched Qt) prints CSS lengths at 3/4 of their size
/// (13 pt type comes out at 9.75 pt) and ignores `--zoom` and `--disable-smart-shrinking`:
/// every length in the HTML is multiplied by this, so that its PDF has the same type size,
/// and so about the same lines and pages, as ours.
const WK_SCALE: f32 = 4.0 / 3.0;

/// The same document as HTML: the same blocks, text, faces, sizes and alignment.
fn html(doc: &Document) -> String {
    let k = WK_SCALE;
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Biên bản</title>\
         <style>body{{font-family:'Liberation Serif','Times New Roman',serif;font-size:{body}pt;\
         line-height:1.2;margin:0}}p{{margin:0 0 {after}pt 0}}\
         .j{{text-align:justify;text-indent:{indent}cm}}.c{{text-align:center}}\
         h3{{font-size:{body}pt;margin:{before}pt 0 {small}pt 0;page-break-after:avoid}}\
         table{{width:100%;border-collapse:collapse}}td{{vertical-align:top;text-align:center}}\
         .sig{{page-break-inside:avoid}}.r{{font-size:{rec}pt}}</style></head><body>\n",
        body = 13.0 * k,
        after = 6.0 * k,
        indent = 1.0 * k,
        before = 4.0 * k,
        small = 3.0 * k,
        rec = 11.0 * k,
    );
    let spans = |p: &doithoai::pdf::Paragraph| {
        let mut s = String::new();
        for span in &p.spans {
            let text = escape(&span.text);
            match span.style {
                Style::Regular => s.push_str(&text),
                Style::Bold => write!(s, "<b>{text}</b>").unwrap(),
                Style::Italic => write!(s, "<i>{text}</i>").unwrap(),
            }
        }
        s
    };
    for block in &doc.blocks {
        match block {
            Block::Heading(text) => writeln!(out, "<h3>{}</h3>", escape(text)).unwrap(),
            Block::Paragraph(p) | Block::Line(p) => {
                let class = match (p.align, p.indent) {
                    (Align::Center, _) => "c",
                    (Align::Justify, true) => "j",
                    _ => "",
                };
                writeln!(
                    out,
                    "<p class=\"{class}\" style=\"font-size:{}pt;margin-bottom:{}pt\">{}</p>",
                    p.size * k,
                    p.space_after * k,
                    spans(p)
                )
                .unwrap();
            }
            Block::Header(h) => writeln!(
                out,
                "<table><tr><td style=\"width:40%\">{}<br><b>{}</b></td><td><b>{}</b><br>\
                 <b>{}</b></td></tr><tr><td>{}</td><td><i>{}</i></td></tr></table><br>",
                escape(&h.parent_unit),
                escape(&h.host_unit),
                doithoai::pdf::NATIONAL_TITLE,
                doithoai::pdf::MOTTO,
                escape(&h.number),
                escape(&h.place_date)
            )
            .unwrap(),
            Block::Signatures(list) => {
                out.push_str("<table class=\"sig\"><tr>");
                for s in list {
                    out.push_str("<td>");
                    for line in &s.title {
                        write!(out, "<b>{}</b><br>", escape(line)).unwrap();
                    }
                    write!(
                        out,
                        "<div style=\"height:{}pt\"></div><b>{}</b></td>",
                        70.0 * k,
                        escape(&s.name)
                    )
                    .unwrap();
                }
                out.push_str("</tr></table>\n");
            }
            Block::Recipients(list) => {
                out.push_str("<p class=\"r\"><i>Nơi nhận:</i>");
                for r in list {
                    write!(out, "<br>- {}", escape(r)).unwrap();
                }
                out.push_str("</p>\n");
            }
            Block::Table(_) | Block::Qr { .. } | Block::Space(_) | Block::PageBreak => {}
        }
    }
    out.push_str("</body></html>\n");
    out
}

fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The child: one size, `runs` drawings; prints `RESULT n best_ms median_ms bytes
/// peak_kb record_kb`, and leaves the PDF and the HTML in `dir`.
fn child(n: usize, runs: usize, dir: &Path) {
    let record = synthetic(n);
    let record_kb = peak_kb();
    let mut times = Vec::new();
    let mut pdf = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        pdf = document::pdf(&record);
        times.push(start.elapsed());
        // Each run's file is dropped before the next, as a server drops its answer.
        if times.len() < runs {
            pdf = Vec::new();
        }
    }
    let peak = peak_kb();
    let best = *times.iter().min().unwrap();
    let median = median(&mut times);
    std::fs::write(dir.join(format!("ours-{n}.pdf")), &pdf).unwrap();
    std::fs::write(
        dir.join(format!("same-{n}.html")),
        html(&document::document(&record)),
    )
    .unwrap();
    println!(
        "RESULT {n} {:.1} {:.1} {} {peak} {record_kb}",
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        pdf.len()
    );
}

/// Runs wkhtmltopdf once: wall time and peak memory (kB).
fn wkhtmltopdf(html: &Path, pdf: &Path) -> (Duration, u64) {
    let args = [
        "--quiet",
        "--encoding",
        "utf-8",
        "-s",
        "A4",
        "-T",
        "20mm",
        "-B",
        "20mm",
        "-L",
        "30mm",
        "-R",
        "15mm",
        html.to_str().unwrap(),
        pdf.to_str().unwrap(),
    ];
    let timer = Path::new("/usr/bin/time");
    let report = pdf.with_extension("time");
    let start = Instant::now();
    let peak = if timer.exists() {
        let status = Command::new(timer)
            .args(["-f", "%M", "-o", report.to_str().unwrap(), "wkhtmltopdf"])
            .args(args)
            .env("QT_QPA_PLATFORM", "offscreen")
            .stderr(std::process::Stdio::null())
            .status()
            .expect("wkhtmltopdf");
        assert!(status.success(), "wkhtmltopdf failed");
        std::fs::read_to_string(&report)
            .ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
            .unwrap_or(0)
    } else {
        let mut process = Command::new("wkhtmltopdf")
            .args(args)
            .env("QT_QPA_PLATFORM", "offscreen")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("wkhtmltopdf");
        let status_file = format!("/proc/{}/status", process.id());
        let mut peak = 0;
        loop {
            if let Some(kb) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            }) {
                peak = peak.max(kb);
            }
            if process.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    };
    (start.elapsed(), peak)
}

fn pages(pdf: &Path) -> String {
    Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find(|l| l.starts_with("Pages:"))
                .map(|l| l.trim_start_matches("Pages:").trim().to_string())
        })
        .unwrap_or_else(|| "-".into())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 5 && args[1] == "--child" {
        child(
            args[2].parse().unwrap(),
            args[3].parse().unwrap(),
            Path::new(&args[4]),
        );
        return;
    }
    let sizes: Vec<usize> = std::env::var("SIZES")
        .unwrap_or_else(|_| "50,500,5000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs = env_number("RUNS", 5);
    let wk_runs = env_number("WK_RUNS", 1);
    let dir: PathBuf = match std::env::var("KEEP") {
        Ok(path) => PathBuf::from(path),
        Err(_) => std::env::temp_dir().join(format!("minutes-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let have_wk = Command::new("wkhtmltopdf")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    println!(
        "minutes_bench: {} CPUs, RUNS={runs}, WK_RUNS={wk_runs}, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if have_wk {
            "wkhtmltopdf present"
        } else {
            "no wkhtmltopdf: its columns are empty"
        }
    );
    let mut rows = Vec::new();
    for n in sizes {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--child",
                &n.to_string(),
                &runs.to_string(),
                dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("RESULT "))
            .expect("a RESULT line")
            .to_string();
        let f: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        let (best, med, bytes, peak, record_kb) = (f[1], f[2], f[3], f[4], f[5]);
        let ours = dir.join(format!("ours-{n}.pdf"));
        let mut row = format!(
            "{n:>6} | {:>5} | {best:>8.1} | {med:>8.1} | {:>6.1} ({:>5.1}) | {:>7.0}",
            pages(&ours),
            peak / 1024.0,
            record_kb / 1024.0,
            bytes / 1024.0
        );
        if have_wk {
            let html = dir.join(format!("same-{n}.html"));
            let theirs = dir.join(format!("wkhtmltopdf-{n}.pdf"));
            let mut times = Vec::new();
            let mut peak_wk = 0;
            for _ in 0..wk_runs.max(1) {
                let (t, p) = wkhtmltopdf(&html, &theirs);
                times.push(t);
                peak_wk = peak_wk.max(p);
            }
            let best_wk = times.iter().min().unwrap().as_secs_f64() * 1e3;
            let size_wk = std::fs::metadata(&theirs).map(|m| m.len()).unwrap_or(0) as f64;
            write!(
                row,
                " | {:>5} | {best_wk:>8.0} | {:>6.1} | {:>7.0} | {:>6.1}× | {:>5.2}",
                pages(&theirs),
                peak_wk as f64 / 1024.0,
                size_wk / 1024.0,
                best_wk / best,
                bytes / size_wk
            )
            .unwrap();
        }
        rows.push(row);
    }
    println!();
    println!(
        "     n | pages | best ms  | median ms| peak MB (record) | PDF KiB | wk pages | wk ms    | wk MB  | wk KiB  | faster  | size ratio"
    );
    for row in rows {
        println!("{row}");
    }
    println!();
    println!(
        "ours: minutes::document::pdf, best and median of {runs}; peak MB is the child process's \
         VmHWM (record included; in brackets the peak before drawing).\nwk: wkhtmltopdf on the same \
         text as HTML, best of {wk_runs}, peak from /usr/bin/time (max RSS). faster = wk best / our \
         best; size ratio = our file / wk's file.\nfiles in {}",
        dir.display()
    );
}
