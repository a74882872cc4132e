//! E-mail: messages are queued as jobs in the transaction of the change they tell about,
//! then sent by the worker through SMTP, or written as `.eml` files in a folder when no
//! SMTP server is configured (the embedded default: nothing is lost, nothing leaves).

use std::path::PathBuf;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use relais_domain::calendrier::now_ms;
use relais_store::{StoreError, Tx, jobs};
use serde::{Deserialize, Serialize};

/// The job kind that sends one e-mail.
pub const JOB: &str = "courriel";
/// Attempts before a message is given up (the worker backs off between them).
const ATTEMPTS: i64 = 8;

/// One plain-text message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Courriel {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Queues a message in the caller's transaction.
pub async fn queue(tx: &mut Tx, mail: &Courriel) -> Result<(), StoreError> {
    let payload = serde_json::to_string(mail).expect("a message serializes");
    jobs::enqueue_in(tx, JOB, &payload, now_ms(), ATTEMPTS).await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("adresse d’envoi invalide : {0}")]
    Address(String),
    #[error("message illisible dans la file : {0}")]
    Payload(String),
    #[error("configuration SMTP invalide : {0}")]
    Config(String),
    #[error("envoi refusé : {0}")]
    Send(String),
}

/// Where messages go.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl Mailer {
    /// Through an SMTP server: `smtp://host:port` (STARTTLS when offered is not forced),
    /// `smtp://host:port?tls=required`, or `smtps://host:port`; credentials as `user:pass@`.
    pub fn smtp(url: &str, from: &str) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(e.to_string()))?
            .build();
        Ok(Mailer {
            from: mailbox(from)?,
            transport: Transport::Smtp(transport),
        })
    }

    /// Into `.eml` files in `dir` (created if needed).
    pub fn folder(dir: PathBuf, from: &str) -> Result<Mailer, MailError> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| MailError::Config(format!("{}: {e}", dir.display())))?;
        Ok(Mailer {
            from: mailbox(from)?,
            transport: Transport::Folder(AsyncFileTransport::new(&dir), dir),
        })
    }

    /// Where messages go, for the logs (never with credentials).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "serveur SMTP".to_string(),
            Transport::Folder(_, dir) => format!("dossier {}", dir.display()),
        }
    }

    /// Sends a queued message (the payload of a [`JOB`]).
    pub async fn send_queued(&self, payload: &str) -> Result<(), MailError> {
        let mail: Courriel =
            serde_json::from_str(payload).map_err(|e| MailError::Payload(e.to_string()))?;
        self.send(&mail).await
    }

    pub async fn send(&self, mail: &Courriel) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mailbox(&mail.to)?)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Address(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Folder(t, _) => t
                .send(message)
                .await
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string())),
        }
    }
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address(format!("{address} ({e})")))
}
