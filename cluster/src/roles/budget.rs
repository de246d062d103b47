//! A budget of reports per second, shared by every connection of one server, so that many
//! connections misbehaving at once cannot flood the log or the channels: past it, reports
//! wait (their counts are kept) until the next second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct Budget {
    per_sec: u32,
    window: Mutex<(Instant, u32)>,
}

impl Budget {
    pub fn new(per_sec: u32) -> Budget {
        Budget {
            per_sec,
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Whether one more report fits in this second's budget (and takes it if so).
    pub fn take(&self) -> bool {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.duration_since(w.0) >= Duration::from_secs(1) {
            *w = (now, 0);
        }
        if w.1 < self.per_sec {
            w.1 += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holds_only_its_budget() {
        let b = Budget::new(3);
        assert_eq!((0..10).filter(|_| b.take()).count(), 3);
        *b.window.lock().unwrap() = (Instant::now() - Duration::from_secs(2), 3);
        assert!(b.take(), "a new second brings a new budget");
    }
}
