//! The dashboard's memory: a ring of cluster samples covering the last 15 minutes (by
//! default), one sample per beat period or coarser, so it never holds more than
//! [`MAX_SAMPLES`] whatever the beat.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

/// The most samples kept; a short beat period makes the samples coarser instead.
pub(crate) const MAX_SAMPLES: usize = 900;

/// The cluster at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Unix milliseconds.
    pub t: u64,
    /// msg_servers up.
    pub up: usize,
    /// Logged-in connections on the msg_servers that are up.
    pub sessions: u64,
    /// Messages received from clients per second, cluster-wide.
    pub msg_in: f64,
    /// Messages written to clients per second, cluster-wide.
    pub msg_out: f64,
    /// Per msg_server, in the configured order: `[sessions, in/s, out/s]`, `null` while
    /// that server is down.
    pub servers: Vec<Option<[f64; 3]>>,
}

/// A bounded ring of samples.
#[derive(Debug)]
pub struct History {
    every: Duration,
    samples: VecDeque<Sample>,
    cap: usize,
}

impl History {
    /// A ring covering `window` with one sample every `beat` (or coarser).
    pub fn new(window: Duration, beat: Duration) -> History {
        let (every, cap) = shape(window, beat);
        History {
            every,
            samples: VecDeque::with_capacity(cap),
            cap,
        }
    }

    /// How often a sample should be taken.
    pub fn every(&self) -> Duration {
        self.every
    }

    pub fn push(&mut self, s: Sample) {
        if self.samples.len() == self.cap {
            self.samples.pop_front();
        }
        self.samples.push_back(s);
    }

    /// The samples newer than `since` (Unix ms), oldest first; all of them for 0.
    pub fn since(&self, since: u64) -> Vec<Sample> {
        // Samples are in time order: skip the old ones from the back.
        let newer = self
            .samples
            .iter()
            .rev()
            .take_while(|s| s.t > since)
            .count();
        self.samples
            .iter()
            .skip(self.samples.len() - newer)
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.cap
    }
}

/// The sampling period and ring size for `window` at `beat`.
fn shape(window: Duration, beat: Duration) -> (Duration, usize) {
    let window = window.max(Duration::from_secs(1));
    let finest = window / MAX_SAMPLES as u32;
    let every = beat.max(finest).max(Duration::from_millis(100));
    let cap = (window.as_millis() / every.as_millis().max(1)).clamp(2, MAX_SAMPLES as u128);
    (every, cap as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: u64) -> Sample {
        Sample {
            t,
            up: 1,
            sessions: t,
            msg_in: 0.0,
            msg_out: 0.0,
            servers: vec![Some([t as f64, 0.0, 0.0])],
        }
    }

    #[test]
    fn fifteen_minutes_at_the_original_beat_is_180_samples() {
        let h = History::new(Duration::from_secs(900), Duration::from_secs(5));
        assert_eq!(h.every(), Duration::from_secs(5));
        assert_eq!(h.capacity(), 180);
    }

    #[test]
    fn a_fast_beat_makes_coarser_samples_not_more() {
        let h = History::new(Duration::from_secs(900), Duration::from_millis(200));
        assert_eq!(h.every(), Duration::from_secs(1));
        assert_eq!(h.capacity(), MAX_SAMPLES);
        let h = History::new(Duration::from_secs(10), Duration::from_secs(5));
        assert_eq!(h.capacity(), 2);
    }

    #[test]
    fn the_ring_drops_the_oldest_and_answers_what_is_newer() {
        let mut h = History::new(Duration::from_secs(20), Duration::from_secs(5));
        assert_eq!(h.capacity(), 4);
        for t in 1..=6 {
            h.push(sample(t));
        }
        assert_eq!(h.len(), 4);
        let ts = |v: Vec<Sample>| v.iter().map(|s| s.t).collect::<Vec<_>>();
        assert_eq!(ts(h.since(0)), [3, 4, 5, 6]);
        assert_eq!(ts(h.since(4)), [5, 6]);
        assert_eq!(ts(h.since(6)), Vec::<u64>::new());
        assert_eq!(ts(h.since(100)), Vec::<u64>::new());
    }
}
