//! The stop signal: SIGTERM (systemd stopping the service) and SIGINT
//! (Ctrl-C) turned into one flag that any task can wait for.
//!
//! Owns the process's signal handlers. It must never stop anything itself:
//! whoever waits decides how to finish (stop claiming outbox work, let the
//! in-flight item complete, flush SQLite, exit 0).
//!
//! Why a flag and not `tokio::signal::ctrl_c()` inside each `select!`: once
//! tokio has replaced the default handler, a signal that arrives while no
//! listener exists (between two loop turns) is swallowed and the process
//! never stops. Installing the handlers once, up front, and latching the
//! first signal in a `watch` channel closes that gap.

use tokio::sync::watch;

/// A latched "please stop". Cheap to clone; every clone sees the same signal.
#[derive(Clone)]
pub struct StopSignal {
    rx: watch::Receiver<Option<&'static str>>,
}

impl StopSignal {
    /// Installs the SIGTERM and SIGINT handlers now. Must run inside a tokio
    /// runtime (or with a runtime entered: `let _g = rt.enter();`, which is
    /// how the UI's main thread can use it).
    pub fn install() -> std::io::Result<StopSignal> {
        let (tx, rx) = watch::channel(None);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            let mut int = signal(SignalKind::interrupt())?;
            tokio::spawn(async move {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                tracing::info!(signal = name, "stop requested: finishing in-flight work");
                let _ = tx.send(Some(name));
                // Keep the handlers installed: a second signal must not fall
                // back to the default action and kill us mid-flush.
                loop {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(Some("Ctrl-C"));
            std::future::pending::<()>().await;
        });
        Ok(StopSignal { rx })
    }

    /// A signal that never fires (tests, embedded use).
    pub fn never() -> (StopSignal, StopTrigger) {
        let (tx, rx) = watch::channel(None);
        (StopSignal { rx }, StopTrigger(tx))
    }

    /// Which signal arrived, if one did.
    pub fn received(&self) -> Option<&'static str> {
        *self.rx.borrow()
    }

    /// Waits for the signal; returns at once if it already came. Cancel-safe,
    /// so it can sit in a `select!` inside a loop.
    pub async fn wait(&self) -> &'static str {
        let mut rx = self.rx.clone();
        match rx.wait_for(|v| v.is_some()).await {
            Ok(v) => v.unwrap_or("stop"),
            // The sender lives in a task that never ends; if the runtime is
            // going away we are stopping anyway.
            Err(_) => "runtime stopping",
        }
    }
}

/// Fires a [`StopSignal`] made with [`StopSignal::never`] by hand.
pub struct StopTrigger(watch::Sender<Option<&'static str>>);

impl StopTrigger {
    pub fn fire(&self) {
        let _ = self.0.send(Some("requested"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fired_stop_is_latched_for_every_clone() {
        let (stop, trigger) = StopSignal::never();
        let other = stop.clone();
        assert_eq!(stop.received(), None);
        trigger.fire();
        assert_eq!(stop.wait().await, "requested");
        // Waiting again (a later loop turn) returns at once.
        assert_eq!(other.wait().await, "requested");
        assert_eq!(other.received(), Some("requested"));
    }
}
