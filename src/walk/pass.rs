//! One pass over the listing, the facts of each page it reads, and the
//! one place the walk decides, at the end of a pass, whether what it has
//! read is proven whole ([`verdict`]).
//!
//! Two proofs exist (`walk/proof.rs` gives the argument of the second):
//!
//! - **One page.** The walk's first page, at the first page of the
//!   listing, came back shorter than the page size and its own total
//!   says it holds the whole listing: the page is the listing as it was
//!   when the page was read, so every snapshot that existed then is on
//!   it. One request.
//! - **Counted between two looks.** After a pass, a probe (a page past the
//!   end, alone) takes a count; the next pass reads the listing again.
//!   When the snapshots seen both before and after the probe reach its
//!   count, every snapshot that existed when it was counted was seen.
//!
//! Whatever the order of the listing, neither proof can be met by a walk
//! that missed a snapshot that existed throughout; a listing that keeps
//! changing faster than a pass reads it meets neither, and the walk ends
//! with the error once its passes are spent.

use super::proof::{Evidence, Met};
use crate::model::ListingProof;

/// The facts of one answer to a page of a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PageFacts {
    pub(super) page: u64,
    /// The number of the pass's first page (the walk's start).
    pub(super) first_page: u64,
    /// The page size the server serves this pass.
    pub(super) size: u64,
    /// The snapshots on the pages before it, at that size.
    pub(super) offset: u64,
    /// The snapshots it holds.
    pub(super) count: u64,
    /// Its own `meta.total`.
    pub(super) total: u64,
}

impl PageFacts {
    /// What its own total says it should hold.
    pub(super) fn expected(&self) -> u64 {
        self.total.saturating_sub(self.offset).min(self.size)
    }

    /// It is shorter than the page size, and its own total says the
    /// listing ends on it: nothing followed it when it was read.
    pub(super) fn short_end(&self) -> bool {
        self.count < self.size && self.offset.saturating_add(self.count) == self.total
    }
}

/// What one pass read.
#[derive(Debug)]
pub(super) struct Pass {
    /// 1 for the walk's own pass, 2 and on for the looks after a probe.
    pub(super) number: u32,
    /// Pages read.
    reads: u64,
    /// Pages in a row that brought nothing new to this pass.
    pub(super) stalled: u32,
    /// Its only page so far was the listing's first, short, and whole by
    /// its own total.
    whole_first_page: bool,
    /// The lowest and highest total its pages read.
    totals: Option<(u64, u64)>,
    /// The first page whose count contradicted its own total.
    contradiction: Option<String>,
}

impl Pass {
    pub(super) fn new(number: u32) -> Self {
        Self {
            number,
            reads: 0,
            stalled: 0,
            whole_first_page: false,
            totals: None,
            contradiction: None,
        }
    }

    /// Records one page's facts.
    pub(super) fn page(&mut self, facts: &PageFacts) {
        self.reads += 1;
        self.whole_first_page =
            self.reads == 1 && facts.page == 1 && facts.first_page == 1 && facts.short_end();
        self.totals = Some(match self.totals {
            Some((low, high)) => (low.min(facts.total), high.max(facts.total)),
            None => (facts.total, facts.total),
        });
        if facts.count != facts.expected() && self.contradiction.is_none() {
            self.contradiction = Some(format!(
                "page {} held {} snapshots where its own total of {} means {}",
                facts.page,
                facts.count,
                facts.total,
                facts.expected()
            ));
        }
    }

    /// The lowest and highest total its pages read (none: it read none).
    pub(super) fn totals(&self) -> Option<(u64, u64)> {
        self.totals
    }

    /// Pages read by this pass.
    pub(super) fn reads(&self) -> u64 {
        self.reads
    }

    /// Whether the totals moved while the pass read.
    pub(super) fn totals_moved(&self) -> bool {
        self.totals.is_some_and(|(low, high)| low != high)
    }

    /// The first page whose count contradicted its own total, if any.
    pub(super) fn contradiction(&self) -> Option<&str> {
        self.contradiction.as_deref()
    }

    /// Records what contradicts the page just read, unless something did
    /// already: a page that contradicts itself is not the whole listing.
    pub(super) fn contradict(&mut self, what: String) {
        self.whole_first_page = false;
        self.contradiction.get_or_insert(what);
    }
}

/// What the end of a pass decides.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// What was read is proven whole.
    Proven(ListingProof),
    /// Not proven yet: take a count and read again (the reason, for the
    /// log and for the error once the passes are spent).
    ReadAgain(String),
    /// Nothing can prove it: the walk keeps no ids.
    Unprovable(String),
}

/// The verdict at the end of `pass`, with the `evidence` of the walk so
/// far; `before_start` is the number of snapshots on the pages before
/// the walk's start; `keyed` says whether the walk keeps ids.
pub(super) fn verdict(pass: &Pass, evidence: &Evidence, before_start: u64, keyed: bool) -> Verdict {
    if pass.number == 1 && pass.reads == 1 && pass.whole_first_page {
        return Verdict::Proven(ListingProof::OnePage);
    }
    if !keyed {
        return Verdict::Unprovable(
            "dedup(false) keeps no ids, and only ids can show that two looks at the listing agree"
                .into(),
        );
    }
    if pass.number == 1 {
        let why = match pass.contradiction() {
            Some(c) => format!("one look proves nothing of a listing longer than a page ({c})"),
            None => "one look proves nothing of a listing longer than a page".into(),
        };
        return Verdict::ReadAgain(why);
    }
    let met = evidence
        .met(before_start)
        .filter(|_| pass.contradiction().is_none());
    match met {
        Some(Met { after_pass, total }) => Verdict::Proven(ListingProof::Counted {
            counted: total,
            after_pass,
        }),
        None => {
            let mut why = evidence.shortfall(before_start);
            if let Some(c) = pass.contradiction() {
                why.push_str("; ");
                why.push_str(c);
            }
            Verdict::ReadAgain(why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::proof::seen_around_a_count;

    fn facts(page: u64, count: u64, total: u64) -> PageFacts {
        PageFacts {
            page,
            first_page: 1,
            size: 10,
            offset: (page - 1) * 10,
            count,
            total,
        }
    }

    fn pass(number: u32, pages: &[PageFacts]) -> Pass {
        let mut pass = Pass::new(number);
        for p in pages {
            pass.page(p);
        }
        pass
    }

    #[test]
    fn a_short_first_page_whole_by_its_total_is_proven_alone() {
        let p = pass(1, &[facts(1, 3, 3)]);
        assert_eq!(
            verdict(&p, &Evidence::default(), 0, true),
            Verdict::Proven(ListingProof::OnePage)
        );
        // Without ids too: nothing to compare.
        assert_eq!(
            verdict(&p, &Evidence::default(), 0, false),
            Verdict::Proven(ListingProof::OnePage)
        );
        // An empty listing.
        let p = pass(1, &[facts(1, 0, 0)]);
        assert_eq!(
            verdict(&p, &Evidence::default(), 0, true),
            Verdict::Proven(ListingProof::OnePage)
        );
    }

    #[test]
    fn a_first_page_that_is_not_whole_by_its_own_total_needs_a_second_look() {
        for page in [
            facts(1, 10, 10), // full: more may follow
            facts(1, 3, 4),   // short, but its total says more (a cap, a hole)
            facts(1, 3, 2),   // short, its total says fewer
        ] {
            let p = pass(1, &[page]);
            assert!(
                matches!(
                    verdict(&p, &Evidence::default(), 0, true),
                    Verdict::ReadAgain(_)
                ),
                "{page:?}"
            );
        }
        // A short page at a resumed walk's start proves nothing of the
        // pages before it.
        let mut resumed = facts(3, 3, 23);
        resumed.first_page = 3;
        let p = pass(1, &[resumed]);
        assert!(matches!(
            verdict(&p, &Evidence::default(), 20, true),
            Verdict::ReadAgain(_)
        ));
    }

    #[test]
    fn two_pages_are_never_proven_by_one_look() {
        let p = pass(1, &[facts(1, 10, 13), facts(2, 3, 13)]);
        match verdict(&p, &Evidence::default(), 0, true) {
            Verdict::ReadAgain(why) => assert!(why.contains("one look"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_ids_a_longer_listing_is_unprovable() {
        let p = pass(1, &[facts(1, 10, 13), facts(2, 3, 13)]);
        assert!(matches!(
            verdict(&p, &Evidence::default(), 0, false),
            Verdict::Unprovable(_)
        ));
    }

    #[test]
    fn a_second_look_that_meets_the_count_is_proven() {
        let evidence = seen_around_a_count(13, 13, 13);
        let p = pass(2, &[facts(1, 10, 13), facts(2, 3, 13)]);
        assert_eq!(
            verdict(&p, &evidence, 0, true),
            Verdict::Proven(ListingProof::Counted {
                counted: 13,
                after_pass: 1
            })
        );
    }

    #[test]
    fn a_second_look_short_of_the_count_reads_again_and_says_why() {
        let evidence = seen_around_a_count(1, 1, 2);
        let p = pass(2, &[facts(1, 1, 2)]);
        match verdict(&p, &evidence, 0, true) {
            Verdict::ReadAgain(why) => {
                assert!(
                    why.contains("of the 2 snapshots counted after pass 1, 1 were seen"),
                    "{why}"
                );
                assert!(
                    why.contains("page 1 held 1 snapshots where its own total of 2 means 2"),
                    "{why}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pass_whose_pages_contradict_their_totals_proves_nothing() {
        let evidence = seen_around_a_count(1, 1, 1);
        // Full pages where the total says there is one snapshot.
        let p = pass(2, &[facts(1, 10, 1), facts(2, 0, 1)]);
        match verdict(&p, &evidence, 0, true) {
            Verdict::ReadAgain(why) => assert!(why.contains("its own total of 1"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn totals_that_move_are_recorded() {
        let p = pass(1, &[facts(1, 10, 13), facts(2, 4, 14)]);
        assert!(p.totals_moved());
        assert_eq!(p.reads(), 2);
        let p = pass(1, &[facts(1, 10, 13), facts(2, 3, 13)]);
        assert!(!p.totals_moved());
        assert_eq!(p.contradiction(), None);
    }
}
