//! [`Sequencer`]: puts one conversation's events back in order on one node.
//!
//! Every stored message, edit and deletion moves its conversation's version by exactly one, on
//! whichever node it was written, so the versions a node sees are gapless unless an event is
//! late or lost. The sequencer delivers changes in version order: a change arriving before its
//! predecessors is held, and the room reads the missing ones from the database when they do
//! not arrive within `cluster.gap_fill_ms` ([`Sequencer::fill`]). Events that are not changes
//! (receipts, typing indicators, the close) wait for the message they follow. Nothing is
//! delivered twice: a change at or below the delivered version is dropped, and an item that
//! carried more than the change (a sender's `ack`) leaves that part behind
//! ([`Supersede::superseded`]).
//!
//! Pure data: the room owns the timers and the database reads.

use std::collections::BTreeMap;

/// Items the sequencer orders.
pub trait Supersede: Sized {
    /// What is left to deliver of this item when its change reached the sessions another way
    /// (read from the database, or delivered already): a sender's acknowledgement, say.
    fn superseded(self) -> Option<Self>;
}

/// Most items held at once; past it the room fills from the database at once.
pub const MAX_HELD: usize = 10_000;

/// The ordering state of one conversation on one node.
#[derive(Debug)]
pub struct Sequencer<T> {
    /// Every change up to this version is delivered.
    version: i64,
    /// Every message up to this seq is delivered.
    seq: i64,
    /// Changes above `version + 1`, by version, with the seq of new messages.
    held: BTreeMap<i64, (Option<i64>, T)>,
    /// Events waiting for the message they follow, in arrival order.
    waiting: Vec<(i64, T)>,
}

impl<T: Supersede> Sequencer<T> {
    /// Everything up to `version` and `seq` is delivered.
    pub fn new(version: i64, seq: i64) -> Self {
        Self {
            version,
            seq,
            held: BTreeMap::new(),
            waiting: Vec::new(),
        }
    }

    /// The version every change up to which is delivered.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The seq every message up to which is delivered.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Whether something waits for a change that has not arrived.
    pub fn stalled(&self) -> bool {
        !self.held.is_empty() || !self.waiting.is_empty()
    }

    /// Items held or waiting.
    pub fn len(&self) -> usize {
        self.held.len() + self.waiting.len()
    }

    /// Whether nothing is held or waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The change that took the conversation to `version` (storing message `seq`, for a new
    /// one). Returns what is deliverable now, in order.
    pub fn change(&mut self, version: i64, seq: Option<i64>, item: T) -> Vec<T> {
        let mut out = Vec::new();
        if version <= self.version {
            out.extend(item.superseded());
            return out;
        }
        if let Some((_, earlier)) = self.held.insert(version, (seq, item)) {
            // The same change twice (a retried publication): the first copy's remainder goes.
            out.extend(earlier.superseded());
        }
        self.drain(&mut out);
        out
    }

    /// An event that follows message `seq` (0: nothing). Returns what is deliverable now.
    pub fn after(&mut self, seq: i64, item: T) -> Vec<T> {
        if seq <= self.seq {
            return vec![item];
        }
        self.waiting.push((seq, item));
        Vec::new()
    }

    /// Changes read from the database: every change in `(version, through]` that still has an
    /// effect, as `(version, seq of a new message, item)`. Held changes up to `through` are
    /// superseded by them; what was held beyond follows. Returns what is deliverable, in order.
    pub fn fill(&mut self, mut changes: Vec<(i64, Option<i64>, T)>, through: i64) -> Vec<T> {
        changes.sort_by_key(|(version, _, _)| *version);
        let mut out = Vec::new();
        for (version, seq, item) in changes {
            if version <= self.version || version > through {
                out.extend(item.superseded());
                continue;
            }
            out.push(item);
            if let Some(seq) = seq {
                self.seq = self.seq.max(seq);
            }
            self.release_waiting(&mut out);
        }
        self.version = self.version.max(through);
        self.drain(&mut out);
        out
    }

    /// Starts again from the database's state: what is held or waiting is dropped but for its
    /// remainder, which is returned.
    pub fn reset(&mut self, version: i64, seq: i64) -> Vec<T> {
        let mut out: Vec<T> = std::mem::take(&mut self.held)
            .into_values()
            .filter_map(|(_, item)| item.superseded())
            .collect();
        out.extend(
            std::mem::take(&mut self.waiting)
                .into_iter()
                .filter_map(|(_, item)| item.superseded()),
        );
        self.version = version;
        self.seq = seq;
        out
    }

    /// Delivers held changes that are now next in line, and the events waiting for them.
    fn drain(&mut self, out: &mut Vec<T>) {
        loop {
            while let Some(entry) = self.held.first_entry() {
                if *entry.key() > self.version {
                    break;
                }
                let (_, item) = entry.remove();
                out.extend(item.superseded());
            }
            let Some(entry) = self.held.first_entry() else {
                break;
            };
            if *entry.key() != self.version + 1 {
                break;
            }
            let version = *entry.key();
            let (seq, item) = entry.remove();
            self.version = version;
            if let Some(seq) = seq {
                self.seq = self.seq.max(seq);
            }
            out.push(item);
            self.release_waiting(out);
        }
        self.release_waiting(out);
    }

    fn release_waiting(&mut self, out: &mut Vec<T>) {
        if self.waiting.iter().all(|(seq, _)| *seq > self.seq) {
            return;
        }
        let seq = self.seq;
        let (ready, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(s, _)| *s <= seq);
        self.waiting = still;
        out.extend(ready.into_iter().map(|(_, item)| item));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A test item: the change it stands for, and whether it carries an acknowledgement.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Item {
        Change(i64),
        Ack(i64),
        Receipt(i64),
    }

    impl Supersede for Item {
        fn superseded(self) -> Option<Self> {
            match self {
                Self::Ack(v) => Some(Self::Ack(v)),
                Self::Change(_) | Self::Receipt(_) => None,
            }
        }
    }

    #[test]
    fn a_change_waits_for_its_predecessor_and_a_receipt_for_its_message() {
        let mut seq = Sequencer::new(0, 0);
        assert_eq!(seq.after(2, Item::Receipt(2)), vec![]);
        assert_eq!(seq.change(2, Some(2), Item::Change(2)), vec![]);
        assert!(seq.stalled());
        assert_eq!(
            seq.change(1, Some(1), Item::Change(1)),
            vec![Item::Change(1), Item::Change(2), Item::Receipt(2)]
        );
        assert_eq!(seq.change(2, Some(2), Item::Change(2)), vec![]);
        assert!(!seq.stalled());
    }

    #[test]
    fn a_fill_supersedes_what_was_held_but_keeps_the_acknowledgement() {
        let mut seq = Sequencer::new(0, 0);
        assert_eq!(seq.change(2, Some(2), Item::Ack(2)), vec![]);
        assert_eq!(seq.change(4, Some(4), Item::Change(4)), vec![]);
        let read = vec![
            (1, Some(1), Item::Change(1)),
            (2, Some(2), Item::Change(2)),
            (3, Some(3), Item::Change(3)),
        ];
        assert_eq!(
            seq.fill(read, 3),
            vec![
                Item::Change(1),
                Item::Change(2),
                Item::Change(3),
                Item::Ack(2),
                Item::Change(4)
            ]
        );
        assert_eq!((seq.version(), seq.seq()), (4, 4));
    }

    proptest! {
        /// Whatever order the changes arrive in, and whichever are lost, the sessions get every
        /// version exactly once and in order: the late ones from the database when asked to
        /// fill, and no acknowledgement is ever lost.
        #[test]
        fn every_version_is_delivered_once_and_in_order(
            n in 1i64..40,
            order in prop::collection::vec(any::<u32>(), 40),
            lost in prop::collection::vec(any::<bool>(), 40),
            acked in prop::collection::vec(any::<bool>(), 40),
            fill_at in 0usize..45,
        ) {
            let mut arrivals: Vec<i64> = (1..=n).collect();
            arrivals.sort_by_key(|v| order[(*v - 1) as usize]);
            let mut seq = Sequencer::new(0, 0);
            let mut out = Vec::new();
            for (i, v) in arrivals.iter().enumerate() {
                if i == fill_at {
                    // Fill up to the highest version "committed" so far: all of them.
                    let read = (1..=n).map(|v| (v, Some(v), Item::Change(v))).collect();
                    out.extend(seq.fill(read, n));
                }
                if lost[(*v - 1) as usize] {
                    continue;
                }
                let item = if acked[(*v - 1) as usize] { Item::Ack(*v) } else { Item::Change(*v) };
                out.extend(seq.change(*v, Some(*v), item));
            }
            if seq.version() < n {
                let read = (1..=n).map(|v| (v, Some(v), Item::Change(v))).collect();
                out.extend(seq.fill(read, n));
            }
            prop_assert!(!seq.stalled());
            // Each version's change once, in order (an Ack stands for its change when it was
            // delivered in sequence).
            let mut versions: Vec<i64> = Vec::new();
            let mut acks: Vec<i64> = Vec::new();
            for item in &out {
                match item {
                    Item::Change(v) => versions.push(*v),
                    Item::Ack(v) => {
                        if !versions.contains(v) {
                            versions.push(*v);
                        }
                        acks.push(*v);
                    }
                    Item::Receipt(_) => {}
                }
            }
            prop_assert_eq!(versions, (1..=n).collect::<Vec<_>>());
            let mut expected_acks: Vec<i64> = (1..=n)
                .filter(|v| acked[(*v - 1) as usize] && !lost[(*v - 1) as usize])
                .collect();
            acks.sort_unstable();
            expected_acks.sort_unstable();
            prop_assert_eq!(acks, expected_acks);
        }
    }
}
