//! One SMTP connection, kept open between messages, on a socket with TCP_NODELAY.
//!
//! Why not lettre's pooled transport for `smtp://`: lettre writes a message's body and its
//! closing `\r\n.\r\n` as two writes. Without TCP_NODELAY, Nagle's algorithm holds the small
//! second write until the server acknowledges the first, and servers delay that
//! acknowledgement by up to 40 ms — so every email cost ~40 ms and 10,000 took minutes
//! (measured: ~30 messages/s against two different SMTP servers). lettre's connection type
//! still speaks SMTP here (EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA); we only open the socket.
//! `smtps://` (TLS from the first byte) keeps lettre's own transport.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::Mutex;

use super::SendFailure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    Never,
    Opportunistic,
    Required,
}

/// `smtp://[user:pass@]host[:port][?tls=required|opportunistic]`, as lettre reads it.
#[derive(Debug, Clone)]
pub struct SmtpUrl {
    host: String,
    port: u16,
    starttls: StartTls,
    credentials: Option<Credentials>,
    timeout: Duration,
    extra_root: Option<Vec<u8>>,
}

impl SmtpUrl {
    /// The settings of an `smtp://` URL, or `None` for other schemes (left to lettre).
    pub fn from_url(
        raw: &str,
        timeout: Duration,
        extra_root: Option<Vec<u8>>,
    ) -> Result<Option<SmtpUrl>, String> {
        let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
        if url.scheme() != "smtp" {
            return Ok(None);
        }
        let host = url
            .host_str()
            .ok_or("the SMTP URL has no host")?
            .to_string();
        let starttls = match url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string())
        {
            None => StartTls::Never,
            Some(v) if v == "required" => StartTls::Required,
            Some(v) if v == "opportunistic" => StartTls::Opportunistic,
            Some(other) => {
                return Err(format!("tls={other} is not one of required, opportunistic"));
            }
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.to_string())
            };
            Some(Credentials::new(
                decode(url.username()).unwrap_or_default(),
                decode(url.password().unwrap_or_default()).unwrap_or_default(),
            ))
        };
        Ok(Some(SmtpUrl {
            port: url.port().unwrap_or(if starttls == StartTls::Required {
                587
            } else {
                25
            }),
            host,
            starttls,
            credentials,
            timeout,
            extra_root,
        }))
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendFailure> {
        let transient = |reason: String| SendFailure {
            permanent: false,
            reason,
        };
        let stream = tokio::time::timeout(
            self.timeout,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| {
            transient(format!(
                "connecting to {}:{} timed out",
                self.host, self.port
            ))
        })?
        .map_err(|e| {
            transient(format!(
                "cannot connect to {}:{}: {e}",
                self.host, self.port
            ))
        })?;
        stream
            .set_nodelay(true)
            .map_err(|e| transient(e.to_string()))?;
        self.handshake(stream).await.map_err(classify)
    }

    async fn handshake(
        &self,
        stream: tokio::net::TcpStream,
    ) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let hello = ClientId::default();
        let mut conn =
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await?;
        let wants_tls = match self.starttls {
            StartTls::Never => false,
            StartTls::Opportunistic => conn.can_starttls(),
            StartTls::Required => true,
        };
        if wants_tls {
            conn.starttls(
                tls_parameters(&self.host, self.extra_root.as_deref())?,
                &hello,
            )
            .await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(conn)
    }
}

/// TLS settings for `host`: the usual web roots, plus a private CA when one is configured.
pub fn tls_parameters(
    host: &str,
    extra_root: Option<&[u8]>,
) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(pem) = extra_root {
        builder = builder
            .add_root_certificate(lettre::transport::smtp::client::Certificate::from_pem(pem)?);
    }
    builder.build()
}

/// One kept-open connection; reconnects after any failure.
pub struct SmtpConnection {
    settings: SmtpUrl,
    conn: Mutex<Option<AsyncSmtpConnection>>,
}

impl SmtpConnection {
    pub fn new(settings: SmtpUrl) -> SmtpConnection {
        SmtpConnection {
            settings,
            conn: Mutex::new(None),
        }
    }

    pub async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendFailure> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(self.settings.connect().await?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err(SendFailure {
                permanent: false,
                reason: "no SMTP connection".into(),
            });
        };
        let sent = tokio::time::timeout(self.settings.timeout, conn.send(envelope, bytes)).await;
        match sent {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                // After a refusal the server may still be fine, but a fresh connection is
                // the simplest way to be sure the next message starts clean.
                *slot = None;
                Err(classify(e))
            }
            Err(_) => {
                *slot = None;
                Err(SendFailure {
                    permanent: false,
                    reason: "the SMTP server did not answer in time".into(),
                })
            }
        }
    }
}

fn classify(e: lettre::transport::smtp::Error) -> SendFailure {
    SendFailure {
        permanent: e.is_permanent(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_read_like_lettre_reads_them() {
        let t = Duration::from_secs(1);
        let plain = SmtpUrl::from_url("smtp://127.0.0.1:2525", t, None)
            .unwrap()
            .unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.starttls),
            ("127.0.0.1", 2525, StartTls::Never)
        );
        let submission = SmtpUrl::from_url(
            "smtp://user%40x:p%3Ass@mail.example.vn?tls=required",
            t,
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(submission.port, 587);
        assert_eq!(submission.starttls, StartTls::Required);
        assert!(submission.credentials.is_some());
        assert!(
            SmtpUrl::from_url("smtps://mail.example.vn", t, None)
                .unwrap()
                .is_none()
        );
        assert!(SmtpUrl::from_url("smtp://mail.example.vn?tls=sometimes", t, None).is_err());
    }
}
