//! The serving certificate: loaded at start, reloaded when its files change.
//!
//! cert-manager renews the certificate into a Secret; the kubelet swaps the mounted volume's
//! `..data` symlink atomically. The directories of both files are watched, and the files are
//! also re-read every [`RECHECK`] because symlink swaps are easy to miss. A reload that fails
//! keeps the current certificate; new handshakes get a new certificate as soon as it loads,
//! open connections keep theirs.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::metrics::Metrics;

/// How often the files are re-read even without a change notification.
pub const RECHECK: Duration = Duration::from_secs(60);

/// Change notifications closer together than this are handled once.
const SETTLE: Duration = Duration::from_millis(200);

/// The two PEM files.
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A loaded certificate and how to reload it.
pub struct Tls {
    pub config: RustlsConfig,
    files: CertFiles,
    metrics: Arc<Metrics>,
    /// The contents last tried, loaded or not: the same contents are not tried twice.
    last: tokio::sync::Mutex<u64>,
}

impl Tls {
    /// Loads the certificate; the server does not start without one.
    pub async fn load(files: CertFiles, metrics: Arc<Metrics>) -> Result<Tls, String> {
        let (cert, key) = read(&files).await?;
        let fingerprint = fingerprint(&Ok((cert.clone(), key.clone())));
        let not_after = not_after(&cert);
        check_chain(&files, &cert)?;
        let config = RustlsConfig::from_pem(cert, key).await.map_err(|e| {
            format!(
                "cannot load {} and {}: {e}",
                files.cert.display(),
                files.key.display()
            )
        })?;
        if let Some(t) = not_after {
            metrics.certificate_not_after.set(t as f64);
        }
        tracing::info!(cert = %files.cert.display(), not_after = not_after.unwrap_or_default(), "serving certificate loaded");
        Ok(Tls {
            config,
            files,
            metrics,
            last: tokio::sync::Mutex::new(fingerprint),
        })
    }

    /// Reloads if the files' contents changed since the last attempt.
    pub async fn check(&self) {
        let contents = read(&self.files).await;
        let fp = fingerprint(&contents);
        let mut last = self.last.lock().await;
        if *last == fp {
            return;
        }
        *last = fp;
        let result = match contents {
            Ok((cert, key)) => match check_chain(&self.files, &cert) {
                Ok(()) => {
                    let not_after = not_after(&cert);
                    self.config
                        .reload_from_pem(cert, key)
                        .await
                        .map(|()| not_after)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(not_after) => {
                self.metrics.reload(true);
                if let Some(t) = not_after {
                    self.metrics.certificate_not_after.set(t as f64);
                }
                tracing::info!(cert = %self.files.cert.display(), not_after = not_after.unwrap_or_default(), "serving certificate reloaded");
            }
            Err(e) => {
                self.metrics.reload(false);
                tracing::error!(cert = %self.files.cert.display(), error = %e, "serving certificate reload failed; keeping the current certificate");
            }
        }
    }

    /// Watches the files' directories and re-reads them every `recheck`, until dropped.
    pub fn spawn_reloader(self: Arc<Self>, recheck: Duration) -> tokio::task::JoinHandle<()> {
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| is_change(&e.kind)) {
                // Full means a check is already due.
                let _ = tx.try_send(());
            }
        });
        let mut watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the certificate files; re-reading them periodically only");
                None
            }
        };
        if let Some(w) = watcher.as_mut() {
            let mut dirs: Vec<&Path> = [&self.files.cert, &self.files.key]
                .iter()
                .map(|p| {
                    p.parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(Path::new("."))
                })
                .collect();
            dirs.dedup();
            for d in dirs {
                if let Err(e) = w.watch(d, RecursiveMode::NonRecursive) {
                    tracing::warn!(dir = %d.display(), error = %e, "cannot watch the certificate directory; re-reading it periodically only");
                }
            }
        }
        tokio::spawn(async move {
            // Owned by the task: dropping it stops the notifications.
            let _watcher = watcher;
            let mut tick = tokio::time::interval(recheck);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    got = rx.recv() => {
                        if got.is_none() {
                            // The watcher is gone; the interval still runs.
                            tick.tick().await;
                        } else {
                            tokio::time::sleep(SETTLE).await;
                            while rx.try_recv().is_ok() {}
                        }
                    }
                    _ = tick.tick() => {}
                }
                self.check().await;
            }
        })
    }
}

/// Says what is wrong with the certificate file, in its own terms: for an empty or garbled
/// chain the TLS library speaks of a peer ("peer sent no certificates"), which misleads.
fn check_chain(files: &CertFiles, pem: &[u8]) -> Result<(), String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let file = files.cert.display();
    let mut count = 0;
    for der in CertificateDer::pem_slice_iter(pem) {
        let der = der.map_err(|e| format!("{file} is not a PEM certificate chain: {e}"))?;
        count += 1;
        x509_parser::parse_x509_certificate(&der)
            .map_err(|e| format!("certificate {count} of {file} is not valid X.509: {e}"))?;
    }
    if count == 0 {
        return Err(format!("{file} holds no PEM certificate"));
    }
    Ok(())
}

/// Whether a file event may change what the files hold. Opening or reading a file is
/// reported too, the reloader's own reads included: were those a reason to check, every check
/// would set off the next one.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

async fn read(files: &CertFiles) -> Result<(Vec<u8>, Vec<u8>), String> {
    let cert = tokio::fs::read(&files.cert)
        .await
        .map_err(|e| format!("cannot read {}: {e}", files.cert.display()))?;
    let key = tokio::fs::read(&files.key)
        .await
        .map_err(|e| format!("cannot read {}: {e}", files.key.display()))?;
    Ok((cert, key))
}

fn fingerprint(contents: &Result<(Vec<u8>, Vec<u8>), String>) -> u64 {
    let mut h = DefaultHasher::new();
    contents.hash(&mut h);
    h.finish()
}

/// The expiry of the first certificate of a PEM file, in Unix seconds.
pub fn not_after(pem: &[u8]) -> Option<i64> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.validity().not_after.timestamp())
}
