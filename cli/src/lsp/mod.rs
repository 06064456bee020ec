//! `canarylint lsp`: a language server over standard input and output.
//!
//! Diagnostics for open YAML and JSON documents with Flagger objects, checked against the
//! objects of the workspace folders (and of the open documents, which win over the files on
//! disk), and quick fixes. Standard output carries only the protocol; logs go to standard error.
//!
//! - [`server`]: the protocol handlers, document state, debounced linting
//! - [`workspace`]: reading the workspace folders into inventory objects, configuration
//! - [`convert`]: byte spans and file names to protocol positions and URIs
//! - [`actions`]: the quick fixes, as byte-range edits

pub mod actions;
pub mod convert;
pub mod server;
pub mod workspace;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tower_lsp_server::{LspService, Server};

/// Serves one client on standard input and output until it exits or closes the input.
pub fn run() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("canarylint-lsp")
        .enable_all()
        .build()?;
    let stopping = Arc::new(AtomicBool::new(false));
    let flag = stopping.clone();
    runtime.block_on(async move {
        let (service, socket) =
            LspService::new(move |client| server::Backend::new(client, flag.clone()));
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // Stop reading the workspace if that is still going on, and do not wait for it.
    stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(())
}
