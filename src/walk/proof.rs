//! The evidence a walk gathers across its passes, and the count that
//! proves a listing whole.
//!
//! # The argument
//!
//! DigitalOcean documents that a listing is paged by number, that every
//! answer carries `meta.total` (the number of snapshots in the listing),
//! and that a snapshot's id identifies it; it documents no order, no
//! clock, and no isolation between two page reads. The proof uses only
//! these, and one property of any server that answers requests: an
//! answer to a request sent after another answer was received reflects
//! the account as it was then or later (reads do not go back in time;
//! the `walk` module docs say what happens where they do).
//!
//! After a pass, the walk sends a **probe**: a request for a page past
//! the end, alone, whose answer carries a total `T` (and no rows unless
//! the listing grew, or the server serves fewer than the probe asks).
//! Call the moment its total was counted `c`. Then it reads the listing
//! again (the next pass). A snapshot seen in an
//! answer received before the probe was sent, and again in an answer to
//! a request sent after the probe's answer came back, existed before
//! `c` and after it; ids are never reused, so it existed at `c`. When
//! at least `T` distinct snapshots are seen on both sides of the probe,
//! they are all `T` snapshots the account held at `c`: every snapshot
//! that existed at `c` was seen. A snapshot that existed throughout the
//! walk existed at `c`, so the walk delivered it; de-duplication by id
//! delivered it once.
//!
//! Nothing in this depends on the order of the listing, on `created_at`,
//! on the `Date` header, on how long a snapshot takes to appear, or on
//! the totals of the pages themselves (each may be counted by a second
//! query, at another moment than its rows were read): the probe's own
//! total is counted at some moment, and only that moment matters.
//!
//! The evidence is kept per snapshot in one byte, the last **stage** it
//! was seen in: pass `n` is stage `2n - 1`, the probe after it stage
//! `2n`. Seeing a snapshot at stage `s` that was last seen at stage `l <
//! s` credits every probe strictly between them; a probe's own rows
//! credit the probes before it and mark the snapshot as seen before it
//! (they were: at stage `l`), never as seen on both sides of itself.
//! A pass that sees a snapshot again credits the probes since it was
//! last seen, so a snapshot missed by one pass (a page boundary moved
//! while it was read) and seen by the next still counts for the probes
//! on either side.

/// The most passes a walk makes, whatever `max_passes` says: stages
/// (two a pass) are kept in one byte a snapshot.
pub(super) const PASS_CEILING: u32 = 100;

/// The stage of pass `pass` (1-based).
pub(super) fn pass_stage(pass: u32) -> u8 {
    u8::try_from(pass.min(PASS_CEILING) * 2 - 1).unwrap_or(u8::MAX)
}

/// The stage of the probe after pass `pass`.
pub(super) fn probe_stage(pass: u32) -> u8 {
    u8::try_from(pass.min(PASS_CEILING) * 2).unwrap_or(u8::MAX)
}

/// What one probe counted, and how many snapshots were seen on both
/// sides of it so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Probe {
    total: u64,
    both_sides: u64,
    /// The pass before it agreed with its own totals on every page.
    clean_before: bool,
}

/// The probes of a walk and the snapshots seen around each.
#[derive(Debug, Default)]
pub(super) struct Evidence {
    /// The probe after pass `n` is at index `n - 1`.
    probes: Vec<Probe>,
    /// The lowest and highest total each pass read, pass `n` at `n - 1`.
    totals: Vec<(u64, u64)>,
}

/// A probe whose count the snapshots seen around it meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Met {
    /// The pass the probe followed.
    pub(super) after_pass: u32,
    pub(super) total: u64,
}

impl Evidence {
    /// The probe after pass `pass` answered with `total`; `clean_before`
    /// says no page of that pass contradicted its own total.
    pub(super) fn probe_answered(&mut self, pass: u32, total: u64, clean_before: bool) {
        let index = usize::try_from(pass.saturating_sub(1)).unwrap_or(usize::MAX);
        if self.probes.len() == index {
            self.probes.push(Probe {
                total,
                both_sides: 0,
                clean_before,
            });
        }
    }

    /// Pass `pass` read totals from `lowest` to `highest`.
    pub(super) fn pass_ended(&mut self, pass: u32, lowest: u64, highest: u64) {
        let index = usize::try_from(pass.saturating_sub(1)).unwrap_or(usize::MAX);
        if self.totals.len() == index {
            self.totals.push((lowest, highest));
        }
    }

    /// Whether every pass from the one before probe `index` (0-based) on
    /// read the probe's total on every page. A count means something only
    /// while the answers around it agree with it: a listing that held
    /// still, read from states no older than the count. A replica behind
    /// the others, answering from an older state, most often shows itself
    /// here (its total differs); a listing that kept changing needs
    /// another count anyway.
    fn agreed(&self, index: usize, total: u64) -> bool {
        self.totals
            .get(index..)
            .is_some_and(|after| !after.is_empty() && after.iter().all(|t| *t == (total, total)))
    }

    /// Whether the pass before the latest count contradicted its totals.
    pub(super) fn last_pass_contradicted(&self) -> bool {
        self.probes.last().is_some_and(|p| !p.clean_before)
    }

    /// A snapshot seen at `stage`, last seen at `previous` (`None`: the
    /// walk had not seen it): credits the probes it was seen around, and
    /// returns the stage to keep for it.
    pub(super) fn sighting(&mut self, previous: Option<u8>, stage: u8) -> u8 {
        let Some(last) = previous else {
            return stage;
        };
        if last >= stage {
            return last;
        }
        // Probes at stages strictly between `last` and `stage`: the one
        // after pass j sits at stage 2j.
        let first = usize::from(last / 2) + 1;
        let final_ = usize::from((stage - 1) / 2);
        for j in first..=final_ {
            if let Some(probe) = self.probes.get_mut(j - 1) {
                probe.both_sides += 1;
            }
        }
        if stage.is_multiple_of(2) {
            // At a probe: seen before it, not on both sides of it.
            last.max(stage - 1)
        } else {
            stage
        }
    }

    /// The latest probe whose count is met by the snapshots seen on both
    /// sides of it, less `before_start` (the snapshots on the pages
    /// before the walk's start page, which it does not read). A count is
    /// only as good as the totals around it: one taken after a pass whose
    /// pages contradicted their own totals (a total that lies, a hole)
    /// is not used.
    pub(super) fn met(&self, before_start: u64) -> Option<Met> {
        self.probes
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, p)| p.clean_before && self.agreed(*i, p.total))
            .find(|(_, p)| p.both_sides >= p.total.saturating_sub(before_start))
            .map(|(i, p)| Met {
                after_pass: u32::try_from(i + 1).unwrap_or(u32::MAX),
                total: p.total,
            })
    }

    /// Says how far the best probe is from being met.
    pub(super) fn shortfall(&self, before_start: u64) -> String {
        match self
            .probes
            .iter()
            .enumerate()
            .max_by_key(|(_, p)| i128::from(p.both_sides) - i128::from(p.total))
        {
            Some((i, p)) => format!(
                "of the {} snapshots counted after pass {}, {} were seen both before the count and after it",
                p.total.saturating_sub(before_start),
                i + 1,
                p.both_sides
            ),
            None => "no count was taken between two passes".into(),
        }
    }
}

/// Evidence of two passes around one count of `total`: `before`
/// snapshots seen by the first pass, the first `again` of them seen
/// again by the second; every page of both read `total`.
#[cfg(test)]
pub(super) fn seen_around_a_count(before: u64, again: u64, total: u64) -> Evidence {
    let mut evidence = Evidence::default();
    let marks: Vec<u8> = (0..before)
        .map(|_| evidence.sighting(None, pass_stage(1)))
        .collect();
    evidence.pass_ended(1, total, total);
    evidence.probe_answered(1, total, true);
    for mark in marks
        .into_iter()
        .take(usize::try_from(again).unwrap_or(usize::MAX))
    {
        evidence.sighting(Some(mark), pass_stage(2));
    }
    evidence.pass_ended(2, total, total);
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs sightings `(snapshot, stage)` in order; probes answer as
    /// `(after pass, total)` before the first sighting of a later stage.
    fn run(probes: &[(u32, u64)], sightings: &[(u32, u8)]) -> Evidence {
        let mut evidence = Evidence::default();
        let mut marks = std::collections::HashMap::new();
        for &(id, stage) in sightings {
            for &(pass, total) in probes {
                if probe_stage(pass) <= stage {
                    evidence.probe_answered(pass, total, true);
                }
            }
            let previous = marks.get(&id).copied();
            let mark = evidence.sighting(previous, stage);
            marks.insert(id, mark);
        }
        // Every pass read the total of the probe after it (or the last).
        let last = sightings.iter().map(|s| s.1).max().unwrap_or(0);
        for pass in 1..=u32::from(last).div_ceil(2) {
            let total = probes
                .iter()
                .find(|p| p.0 == pass)
                .or(probes.last())
                .map_or(0, |p| p.1);
            evidence.pass_ended(pass, total, total);
        }
        evidence
    }

    #[test]
    fn stages_alternate_passes_and_probes_and_saturate() {
        assert_eq!((pass_stage(1), probe_stage(1), pass_stage(2)), (1, 2, 3));
        assert_eq!(pass_stage(u32::MAX), 199);
        assert_eq!(probe_stage(u32::MAX), 200);
    }

    #[test]
    fn a_listing_seen_whole_on_both_sides_of_the_probe_is_met() {
        let e = run(&[(1, 3)], &[(1, 1), (2, 1), (3, 1), (3, 3), (1, 3), (2, 3)]);
        assert_eq!(
            e.met(0),
            Some(Met {
                after_pass: 1,
                total: 3
            })
        );
    }

    #[test]
    fn a_snapshot_seen_on_one_side_only_leaves_the_count_short() {
        // 4 counted; snapshot 4 made before the count but after pass 1
        // read its place: seen after only.
        let e = run(
            &[(1, 4)],
            &[(1, 1), (2, 1), (3, 1), (1, 3), (2, 3), (3, 3), (4, 3)],
        );
        assert_eq!(e.met(0), None);
        assert!(
            e.shortfall(0)
                .contains("of the 4 snapshots counted after pass 1, 3 were seen"),
            "{}",
            e.shortfall(0)
        );
    }

    #[test]
    fn repeats_within_a_pass_count_once() {
        let e = run(&[(1, 2)], &[(1, 1), (1, 1), (1, 3), (1, 3), (1, 3)]);
        assert_eq!(e.met(0), None, "{e:?}");
    }

    #[test]
    fn a_probes_own_rows_are_not_on_both_sides_of_it() {
        // Snapshot 2 is new at the probe and seen after: not before it.
        let e = run(&[(1, 2)], &[(1, 1), (2, 2), (1, 3), (2, 3)]);
        assert_eq!(e.met(0), None);
        // Snapshot 1 seen in pass 1, at the probe, and after: counts once.
        let e = run(&[(1, 1)], &[(1, 1), (1, 2), (1, 3)]);
        assert_eq!(
            e.met(0),
            Some(Met {
                after_pass: 1,
                total: 1
            })
        );
    }

    #[test]
    fn a_probes_rows_count_as_after_for_the_probes_before_it() {
        let e = run(&[(1, 1), (2, 1)], &[(1, 1), (1, 4)]);
        assert_eq!(
            e.met(0),
            Some(Met {
                after_pass: 1,
                total: 1
            })
        );
    }

    #[test]
    fn a_snapshot_missed_by_one_pass_counts_for_the_probes_it_spans() {
        // Seen in pass 1 and pass 3 only: both probes 1 and 2 are met.
        let e = run(&[(1, 1), (2, 1)], &[(1, 1), (1, 5)]);
        assert_eq!(
            e.met(0),
            Some(Met {
                after_pass: 2,
                total: 1
            })
        );
        assert_eq!(e.probes[0].both_sides, 1);
    }

    #[test]
    fn the_pages_before_the_start_are_not_asked_of_the_count() {
        let e = run(&[(1, 12)], &[(1, 1), (1, 3)]);
        assert_eq!(e.met(10), None);
        assert!(e.met(11).is_some());
    }

    #[test]
    fn a_count_after_a_pass_that_contradicted_its_totals_is_not_used() {
        let mut e = Evidence::default();
        let m = e.sighting(None, pass_stage(1));
        e.probe_answered(1, 1, false);
        e.sighting(Some(m), pass_stage(2));
        assert_eq!(e.met(0), None);
    }

    #[test]
    fn a_count_the_passes_around_it_disagree_with_is_not_used() {
        let mut e = Evidence::default();
        let m = e.sighting(None, pass_stage(1));
        e.pass_ended(1, 1, 1);
        e.probe_answered(1, 1, true);
        e.sighting(Some(m), pass_stage(2));
        // The pass after it read a total of 2 on some page.
        e.pass_ended(2, 1, 2);
        assert_eq!(e.met(0), None);
        assert!(seen_around_a_count(1, 1, 1).met(0).is_some());
    }

    #[test]
    fn no_probe_no_proof() {
        let e = Evidence::default();
        assert_eq!(e.met(0), None);
        assert!(e.shortfall(0).contains("no count"));
    }
}
