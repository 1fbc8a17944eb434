//! Customers at the hatch: each payment the simulator shows in CREATED is
//! approved, rejected or ignored, after a think time, decided by a hash of
//! its reference and the campaign seed (so a reference's fate does not
//! depend on when the till was killed).

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use luka::sim::SimHandle;
use luka::vipps::dto::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Choice {
    Approve,
    Reject,
    Ignore,
}

/// The customer's choice for a reference, and how long they think first.
pub fn choice(reference: &str, seed: u64) -> (Choice, Duration) {
    let mut h = DefaultHasher::new();
    (reference, seed).hash(&mut h);
    let x = h.finish();
    let c = match x % 100 {
        0..=59 => Choice::Approve,
        60..=79 => Choice::Reject,
        _ => Choice::Ignore,
    };
    (c, Duration::from_millis((x >> 8) % 700))
}

#[derive(Clone, Default)]
pub struct Customers {
    acted: Arc<Mutex<BTreeMap<String, Choice>>>,
}

impl Customers {
    /// What the customers did, per reference (ignored ones included).
    pub fn acted(&self) -> BTreeMap<String, Choice> {
        self.acted.lock().unwrap().clone()
    }

    /// Starts acting on the simulator's payments until `stop` turns true.
    pub fn spawn(
        &self,
        sim: SimHandle,
        seed: u64,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let acted = self.acted.clone();
        tokio::spawn(async move {
            let mut done: HashSet<String> = HashSet::new();
            while !*stop.borrow() {
                let now = time::OffsetDateTime::now_utc();
                for p in sim.payments() {
                    if p.state != State::Created || done.contains(&p.reference) {
                        continue;
                    }
                    let (c, think) = choice(&p.reference, seed);
                    if now - p.created_at < think {
                        continue;
                    }
                    let _ = match c {
                        Choice::Approve => sim.approve(&p.reference),
                        Choice::Reject => sim.reject(&p.reference),
                        Choice::Ignore => Ok(()),
                    };
                    done.insert(p.reference.clone());
                    acted.lock().unwrap().insert(p.reference, c);
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(30)) => {}
                    _ = stop.changed() => {}
                }
            }
        })
    }
}
