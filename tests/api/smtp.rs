//! A real SMTP server on a loopback port (mailin-embedded), started by the test: it speaks
//! the protocol, keeps what it accepts, and refuses chosen addresses with 550.

use std::collections::HashSet;
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{Handler, Response, Server, response};

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("an email")
    }

    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashSet<String>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let address = to.trim_matches(|c| c == '<' || c == '>').to_lowercase();
        if self.refused.lock().unwrap().contains(&address) {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<HashSet<String>>>,
}

/// A free loopback port with nothing listening on it yet.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// Starts listening on `port` (e.g. one the application was told about while the server was down).
    pub fn start_on(port: u16) -> SmtpServer {
        SmtpServer::start_with(port, None)
    }

    /// A server that offers STARTTLS with this certificate (PEM files: leaf, key, issuing CA).
    pub fn start_tls(cert: &str, key: &str, chain: &str) -> SmtpServer {
        // The test binary links two rustls crypto providers (lettre's ring, mailin's
        // aws-lc); the server side must be told which to use. Already set is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = mailin_embedded::SslConfig::Trusted {
            cert_path: cert.to_string(),
            key_path: key.to_string(),
            chain_path: chain.to_string(),
        };
        SmtpServer::start_with(free_port(), Some(tls))
    }

    fn start_with(port: u16, tls: Option<mailin_embedded::SslConfig>) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("SMTP port free");
        let received = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(HashSet::new()));
        let sink = Sink {
            received: received.clone(),
            refused: refused.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::spawn(move || {
            let mut server = Server::new(sink);
            server
                .with_name("smtp.test")
                .with_num_threads(4)
                .with_tcp_listener(listener);
            if let Some(tls) = tls {
                server.with_ssl(tls).expect("the test certificate loads");
            }
            let _ = server.serve();
        });
        SmtpServer {
            port,
            received,
            refused,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Answers 550 to this recipient from now on.
    pub fn refuse(&self, address: &str) {
        self.refused.lock().unwrap().insert(address.to_lowercase());
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived (the worker sends in the background).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let until = std::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || std::time::Instant::now() > until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
