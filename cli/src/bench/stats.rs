//! What a run counts: a latency histogram, the run's counters, and per-stream sequence
//! sets that tell a message seen for the first time from a duplicate.
//!
//! Everything here is shared by every connection of a run, so it is lock-free on the
//! message path: the histogram and the counters are atomics; a [`SeqSet`] belongs to one
//! receiving connection and needs no lock at all.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Values below this are counted exactly (one bucket per nanosecond).
const LINEAR: u64 = 128;
/// Buckets per power of two above [`LINEAR`]: a recorded value is off by at most 1/64.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for any u64.
const BUCKETS: usize = LINEAR as usize + (64 - 7) * SUB as usize;

/// A log-bucketed latency histogram in nanoseconds, shared by every receiver of a run.
///
/// Buckets are exact below 128 ns and 1/64 of a power of two wide above, so every
/// percentile is within 1.6% of the true value. Recording is one relaxed atomic add.
pub struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn index(v: u64) -> usize {
        if v < LINEAR {
            return v as usize;
        }
        let e = 63 - v.leading_zeros(); // 2^e <= v < 2^(e+1), e >= 7
        let sub = (v >> (e - SUB_BITS)) - SUB; // 0..64
        LINEAR as usize + (e as usize - 7) * SUB as usize + sub as usize
    }

    /// The smallest value that falls in bucket `i`.
    fn lower(i: usize) -> u64 {
        if i < LINEAR as usize {
            return i as u64;
        }
        let j = i - LINEAR as usize;
        let e = (j / SUB as usize) as u32 + 7;
        let sub = (j % SUB as usize) as u64;
        (SUB + sub) << (e - SUB_BITS)
    }

    /// The middle of bucket `i`, what a percentile in it reports.
    fn middle(i: usize) -> u64 {
        let lo = Self::lower(i);
        let hi = if i + 1 < BUCKETS {
            Self::lower(i + 1)
        } else {
            u64::MAX
        };
        lo + (hi - lo) / 2
    }

    pub fn record(&self, nanos: u64) {
        self.counts[Self::index(nanos)].fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counts, for percentiles.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// The counts of a [`Histogram`] at one moment.
pub struct Snapshot {
    counts: Vec<u64>,
}

impl Snapshot {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The value at quantile `q` (0.0..=1.0) in nanoseconds; `None` when nothing was
    /// recorded.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        // The rank of the value wanted, 1-based: p99 of 1000 values is the 990th.
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Histogram::middle(i));
            }
        }
        None
    }

    pub fn max(&self) -> Option<u64> {
        self.counts
            .iter()
            .rposition(|c| *c > 0)
            .map(Histogram::middle)
    }
}

/// The counters of a run, shared by every connection.
///
/// Connections add to them once per batch of frames rather than once per message, so the
/// progress bar and the final figures cost next to nothing on the message path.
#[derive(Default)]
pub struct Counters {
    /// Messages written by senders.
    pub sent: AtomicU64,
    /// Distinct deliveries: a message reaching one receiver for the first time.
    pub delivered: AtomicU64,
    /// A message reaching the same receiver again.
    pub duplicates: AtomicU64,
    /// `ERROR` frames and frames the tool could not read.
    pub errors: AtomicU64,
    /// Messages that are not this run's (another client's, a replay of an old run).
    pub foreign: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Counters {
    pub fn error(&self, what: impl FnOnce() -> String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(what());
        }
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// The sequence numbers one receiver has seen from one sender: a message seen twice is a
/// duplicate. Memory stays small while messages arrive roughly in order: only the seqs
/// above the first gap are kept.
#[derive(Debug, Default)]
pub struct SeqSet {
    /// Every seq below this has been seen.
    next: u64,
    /// Seqs seen above `next`.
    ahead: BTreeSet<u64>,
}

impl SeqSet {
    /// Records `seq`; false when it was seen before.
    pub fn insert(&mut self, seq: u64) -> bool {
        if seq < self.next {
            return false;
        }
        if seq == self.next {
            self.next += 1;
            while self.ahead.remove(&self.next) {
                self.next += 1;
            }
            return true;
        }
        self.ahead.insert(seq)
    }
}

/// The clock of a run: message bodies carry nanoseconds since its start, and every
/// connection of the run reads the same clock, so a receiver measures the whole trip.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            base: Instant::now(),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for v in (0..100_000u64).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let i = Histogram::index(v);
            assert!(i < BUCKETS, "{v} -> {i}");
            assert!(i >= last || v > 100_000, "buckets must not go down");
            last = i;
            assert!(Histogram::lower(i) <= v, "{v} below its bucket");
            if i + 1 < BUCKETS {
                assert!(v < Histogram::lower(i + 1), "{v} above its bucket");
            }
        }
    }

    #[test]
    fn percentiles_are_within_the_bucket_precision() {
        let h = Histogram::new();
        // 1..=10_000 microseconds, once each.
        for us in 1..=10_000u64 {
            h.record(us * 1000);
        }
        let s = h.snapshot();
        assert_eq!(s.total(), 10_000);
        for (q, want) in [
            (0.5, 5_000_000.0),
            (0.99, 9_900_000.0),
            (0.999, 9_990_000.0),
        ] {
            let got = s.quantile(q).unwrap() as f64;
            assert!(
                (got - want).abs() / want < 1.0 / 64.0,
                "q{q}: {got} vs {want}"
            );
        }
        let max = s.max().unwrap() as f64;
        assert!((max - 1e7).abs() / 1e7 < 1.0 / 64.0, "max {max}");
        assert_eq!(Histogram::new().snapshot().quantile(0.5), None);
    }

    #[test]
    fn small_values_are_exact() {
        let h = Histogram::new();
        h.record(3);
        h.record(3);
        h.record(100);
        let s = h.snapshot();
        assert_eq!(s.quantile(0.5), Some(3));
        assert_eq!(s.quantile(1.0), Some(100));
    }

    #[test]
    fn seq_set_finds_duplicates_in_any_order() {
        let mut s = SeqSet::default();
        for q in [0, 1, 3, 2, 5, 4] {
            assert!(s.insert(q), "{q} is new");
        }
        for q in [0, 3, 5] {
            assert!(!s.insert(q), "{q} is a duplicate");
        }
        assert!(s.ahead.is_empty(), "in-order seqs leave nothing behind");
        assert!(s.insert(9));
        assert!(!s.insert(9));
        assert!(s.insert(6));
    }
}
