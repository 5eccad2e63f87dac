//! Proposals as people read them: the one status word list (`lazy consensus`, `voting`,
//! `closing`, `passed`, `failed`), the tally so far in votes (three decimals), participation
//! against the quorum, time left, and what a passed proposal does; and the tranches of
//! retrospective awards with what is pending, released and whether the trigger holds.
//! Every front end (status, proposals, events, the site, the bot, the Forgejo sync) shows
//! these.

use super::{duration, shown};
use crate::money::Amount;
use crate::rules::governance::{format_weight, trigger_holds, Kind, Proposal};
use crate::rules::state::State;
use crate::time::{Timestamp, DAY, HOUR};
use serde::Serialize;

/// Where a proposal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ProposalStatus {
    /// A lazy-consensus proposal within its window: objections are taken.
    #[serde(rename = "lazy consensus")]
    LazyConsensus,
    /// A vote runs.
    #[serde(rename = "voting")]
    Voting,
    /// The window has ended; anyone may append the closing row.
    #[serde(rename = "closing")]
    Closing,
    /// Closed, passed.
    #[serde(rename = "passed")]
    Passed,
    /// Closed, failed.
    #[serde(rename = "failed")]
    Failed,
}

impl ProposalStatus {
    /// Every status.
    pub const ALL: [ProposalStatus; 5] = [
        ProposalStatus::LazyConsensus,
        ProposalStatus::Voting,
        ProposalStatus::Closing,
        ProposalStatus::Passed,
        ProposalStatus::Failed,
    ];

    /// The word shown to people (and in `--json`, and in Forgejo's labels).
    pub fn word(self) -> &'static str {
        match self {
            ProposalStatus::LazyConsensus => "lazy consensus",
            ProposalStatus::Voting => "voting",
            ProposalStatus::Closing => "closing",
            ProposalStatus::Passed => "passed",
            ProposalStatus::Failed => "failed",
        }
    }
}

/// The status of a proposal at `now`.
pub fn proposal_status(p: &Proposal, now: Timestamp) -> ProposalStatus {
    match &p.outcome {
        Some(o) if o.passed => ProposalStatus::Passed,
        Some(_) => ProposalStatus::Failed,
        None if now >= p.closes_at() => ProposalStatus::Closing,
        None if p.in_vote() => ProposalStatus::Voting,
        None => ProposalStatus::LazyConsensus,
    }
}

/// One proposal, as every front end shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProposalView {
    /// Its number: the seq of its propose row.
    pub seq: u64,
    /// Its kind (`policy-amendment`, ...).
    pub kind: &'static str,
    /// Its title.
    pub title: String,
    /// Who proposed it.
    pub proposer: String,
    /// Where its full text lives.
    pub link: String,
    /// `sha256:` of its full text.
    pub text_hash: String,
    /// What it does if it passes, in words.
    pub effect: String,
    /// Where it is.
    pub status: ProposalStatus,
    /// Whether it is decided by a vote (from the start, or since its objections made it
    /// one); otherwise it passes unless enough owners object.
    pub vote: bool,
    /// When it was made.
    #[serde(serialize_with = "shown::text")]
    pub created_at: Timestamp,
    /// When its window (lazy consensus or vote) ends.
    #[serde(serialize_with = "shown::text")]
    pub closes_at: Timestamp,
    /// Seconds until then (0 once it has passed).
    pub seconds_left: i64,
    /// Objections so far.
    pub objections: usize,
    /// Who objected, in the order they did.
    pub objectors: Vec<String>,
    /// Objections that turn it into a vote.
    pub objections_needed: u64,
    /// Weight of yes votes, in votes (`2.120`).
    pub yes: String,
    /// Weight of no votes.
    pub no: String,
    /// Weight of abstentions.
    pub abstain: String,
    /// Total weight of the eligible voters.
    pub eligible: String,
    /// How many owners voted.
    pub voters: u64,
    /// Participation so far in percent (`42.50`).
    #[serde(serialize_with = "shown::text")]
    pub participation: Amount,
    /// The quorum it needs, in percent.
    #[serde(serialize_with = "shown::text")]
    pub quorum: Amount,
    /// Yes must be strictly above this percent of yes + no.
    #[serde(serialize_with = "shown::text")]
    pub threshold: Amount,
    /// Whether it would pass if it closed on the tally so far.
    pub passing: bool,
    /// The seq of its closing row, once closed.
    pub closed_by: Option<u64>,
    /// When it was closed.
    #[serde(serialize_with = "shown::optional")]
    pub closed_at: Option<Timestamp>,
    /// The seq of the row that carried out its effect, once one did.
    pub applied_by: Option<u64>,
    /// Whether it is (or was) decided by a vote: a voting kind, or a lazy proposal its
    /// objections escalated.
    pub in_vote: bool,
}

impl ProposalView {
    /// Its tally in words: `yes 2.000, no 1.000, abstain 0.000 of 7.000 eligible (3 voters)`.
    pub fn votes_words(&self) -> String {
        format!(
            "yes {}, no {}, abstain {} of {} eligible ({} {})",
            self.yes,
            self.no,
            self.abstain,
            self.eligible,
            self.voters,
            if self.voters == 1 { "voter" } else { "voters" }
        )
    }

    /// Where the decision stands in words: the tally with participation against the quorum
    /// for a vote, the objections for a lazy-consensus proposal.
    pub fn tally_words(&self) -> String {
        if !self.vote {
            let counted = format!("{} of {} objections", self.objections, self.objections_needed);
            return match self.status {
                ProposalStatus::Passed | ProposalStatus::Failed => format!("{counted}: it never went to a vote"),
                _ => format!("{counted} that would make it a vote"),
            };
        }
        let verdict = match (self.status, self.passing) {
            (ProposalStatus::Passed | ProposalStatus::Failed, _) => String::new(),
            (_, true) => ", passing so far".to_string(),
            (_, false) => ", not passing so far".to_string(),
        };
        format!(
            "{}; participation {}% (quorum {}%), yes must exceed {}% of yes + no{verdict}",
            self.votes_words(),
            self.participation,
            self.quorum,
            self.threshold
        )
    }

    /// Its window in words: until when, how long is left, and what comes next.
    pub fn window_words(&self) -> String {
        let left = time_left(self.seconds_left);
        match self.status {
            ProposalStatus::LazyConsensus => {
                format!(
                    "lazy consensus until {} ({left} left): passes unless enough owners object",
                    self.closes_at
                )
            }
            ProposalStatus::Voting => format!("voting until {} ({left} left)", self.closes_at),
            ProposalStatus::Closing => format!(
                "its window ended at {}: anyone closes it with `smartup close-proposal {}`",
                self.closes_at, self.seq
            ),
            ProposalStatus::Passed | ProposalStatus::Failed => {
                let at = self.closed_at.map_or_else(String::new, |t| format!(" at {t}"));
                format!("{}{at}", self.status.word())
            }
        }
    }

    /// One line for lists: number, kind, title, window and tally.
    pub fn summary(&self) -> String {
        format!(
            "#{} ({}) {}: {}; {}",
            self.seq,
            self.kind,
            self.title,
            self.window_words(),
            self.tally_words()
        )
    }
}

/// Time left in words: `6 d 23 h` from a day on, else `5 h 20 min`.
pub fn time_left(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds >= DAY {
        format!("{} d {:02} h", seconds / DAY, (seconds % DAY) / HOUR)
    } else {
        duration(seconds)
    }
}

/// What a proposal does when it passes, in words.
pub fn effect(p: &Proposal) -> String {
    let or = |v: &Option<String>| v.clone().unwrap_or_default();
    match p.kind {
        Kind::LazyConsensus => "nothing beyond its text".to_string(),
        Kind::BindingVote => match &p.declares {
            Some(name) => format!("declares {name}"),
            None => "nothing beyond its text".to_string(),
        },
        Kind::PolicyAmendment => format!("allows ledger.toml {}", or(&p.reference)),
        Kind::CaptainElection => format!("makes {} captain ({})", or(&p.owner), or(&p.role)),
        Kind::CaptainRecall => format!("recalls {} as captain ({})", or(&p.owner), or(&p.role)),
        Kind::AwardReview => format!("allows the validation of task {}", or(&p.task)),
        Kind::TrancheRelease => format!("releases tranche {}", or(&p.tranche)),
    }
}

/// Whether a passed proposal of `kind` (a [`ProposalView::kind`] word) is carried out by a
/// later row it allows (an amendment, an appointment or recall, a validation, a release,
/// shown as `applied_by`); a lazy-consensus proposal or a binding vote takes effect when it
/// closes (a declaration is made by the closing row).
pub fn carried_out_by_a_later_row(kind: &str) -> bool {
    Kind::parse(kind).is_some_and(|k| !matches!(k, Kind::LazyConsensus | Kind::BindingVote))
}

/// A proposal at `now`.
pub fn proposal(p: &Proposal, now: Timestamp) -> ProposalView {
    let closes_at = p.closes_at();
    let tally = p.final_tally();
    ProposalView {
        seq: p.seq,
        kind: p.kind.word(),
        title: p.title.clone(),
        proposer: p.proposer.clone(),
        link: p.link.clone(),
        text_hash: p.text_hash.clone(),
        effect: effect(p),
        status: proposal_status(p, now),
        vote: p.in_vote(),
        created_at: p.created_at,
        closes_at,
        seconds_left: (closes_at.0 - now.0).max(0),
        objections: p.objectors.len(),
        objectors: p.objectors.clone(),
        objections_needed: p.objections_needed,
        yes: format_weight(tally.yes),
        no: format_weight(tally.no),
        abstain: format_weight(tally.abstain),
        eligible: format_weight(p.eligible),
        voters: tally.voters,
        participation: Amount(i64::try_from(p.participation()).unwrap_or(i64::MAX)),
        quorum: p.quorum,
        threshold: p.threshold,
        passing: p.passes(),
        closed_by: p.outcome.as_ref().map(|o| o.seq),
        closed_at: p.outcome.as_ref().map(|o| o.at),
        applied_by: p.outcome.as_ref().and_then(|o| o.applied),
        in_vote: p.in_vote(),
    }
}

/// The open proposals, oldest first.
pub fn open_proposals(state: &State, now: Timestamp) -> Vec<ProposalView> {
    state.proposals.values().map(|p| proposal(p, now)).collect()
}

/// Every proposal, open and closed, oldest first.
pub fn all_proposals(state: &State, now: Timestamp) -> Vec<ProposalView> {
    let mut all: Vec<ProposalView> = state
        .proposals
        .values()
        .chain(state.decided.values())
        .map(|p| proposal(p, now))
        .collect();
    all.sort_by_key(|p| p.seq);
    all
}

/// The proposal `seq`, open or closed.
pub fn find(state: &State, seq: u64, now: Timestamp) -> Option<ProposalView> {
    state
        .proposals
        .get(&seq)
        .or_else(|| state.decided.get(&seq))
        .map(|p| proposal(p, now))
}

/// The proposals (open ones, or all) and the tranches at one instant: what `smartup
/// proposals` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Agenda {
    /// The instant it shows.
    #[serde(serialize_with = "shown::text")]
    pub now: Timestamp,
    /// The proposals, oldest first.
    pub proposals: Vec<ProposalView>,
    /// The policy's tranches.
    pub tranches: Vec<TrancheView>,
}

/// The open proposals (every proposal with `all`) and the tranches at `now`.
pub fn agenda(state: &State, now: Timestamp, all: bool) -> Agenda {
    Agenda {
        now,
        proposals: if all {
            all_proposals(state, now)
        } else {
            open_proposals(state, now)
        },
        tranches: tranches(state),
    }
}

/// A tranche of a retrospective award.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrancheView {
    /// Its id.
    pub id: String,
    /// Who receives it.
    pub recipient: String,
    /// What it was earned for.
    pub reason: String,
    /// Its SC in all.
    #[serde(serialize_with = "shown::text")]
    pub amount: Amount,
    /// SC released so far (outstanding SC of the recipient).
    #[serde(serialize_with = "shown::text")]
    pub released: Amount,
    /// SC still pending (never outstanding).
    #[serde(serialize_with = "shown::text")]
    pub pending: Amount,
    /// Its trigger, in words.
    pub trigger: String,
    /// Whether the trigger holds now.
    pub triggered: bool,
    /// Who votes on its release (`owners`, `captains`, `leadership`); empty: no vote.
    pub voters: Vec<String>,
}

/// The policy's tranches with what is released and pending.
pub fn tranches(state: &State) -> Vec<TrancheView> {
    state
        .policy
        .governance
        .tranches
        .iter()
        .map(|t| {
            let released = state.released.get(&t.id).copied().unwrap_or(Amount::ZERO);
            TrancheView {
                id: t.id.clone(),
                recipient: state.tranche_recipient(&t.recipient).to_string(),
                reason: t.reason.clone(),
                amount: t.amount.0,
                released,
                pending: state.tranche_left(&t.id),
                trigger: t.trigger.describe(),
                triggered: trigger_holds(state, t),
                voters: t.voters.iter().map(|g| g.word().to_string()).collect(),
            }
        })
        .collect()
}

impl TrancheView {
    /// One line for lists: what is pending and released, the trigger and who votes.
    pub fn summary(&self) -> String {
        let holds = if self.triggered { "holds" } else { "does not hold yet" };
        let release = if self.voters.is_empty() {
            "released without a vote".to_string()
        } else {
            format!("released by a vote of {}", self.voters.join(", "))
        };
        format!(
            "tranche {} for {}: {} SC pending, {} released of {}; trigger: {} ({holds}); {release}",
            self.id, self.recipient, self.pending, self.released, self.amount, self.trigger
        )
    }
}

/// Governance rows for the tests of the views and of the bot, drafted as the CLI drafts them
/// (so they copy the policy's numbers) and recorded in a [`Book`](crate::rules::test_support::Book).
#[cfg(test)]
pub(crate) mod testing {
    use crate::rules::draft::{Intent, ProposalIntent};
    use crate::rules::governance::{Choice, Kind};
    use crate::rules::test_support::Book;

    /// `actor` proposes; `effect` fills in what the kind needs. Returns its number.
    #[track_caller]
    pub fn propose(b: &mut Book, actor: &str, kind: Kind, title: &str, effect: impl FnOnce(&mut ProposalIntent)) -> u64 {
        let text_hash = format!("sha256:{}", "a".repeat(64));
        let mut p = ProposalIntent::new(kind, title, &text_hash, "https://forge.example/smartup/proposals/1");
        effect(&mut p);
        b.act(actor, &Intent::Propose(p));
        b.state.last_seq
    }

    /// `actor` votes on `proposal`.
    #[track_caller]
    pub fn vote(b: &mut Book, actor: &str, proposal: u64, choice: Choice) {
        let note = String::new();
        b.act(actor, &Intent::Vote { proposal, choice, note });
    }

    /// `actor` objects to `proposal`.
    #[track_caller]
    pub fn object(b: &mut Book, actor: &str, proposal: u64, note: &str) {
        let note = note.to_string();
        b.act(actor, &Intent::Object { proposal, note });
    }

    /// `actor` closes `proposal`.
    #[track_caller]
    pub fn close(b: &mut Book, actor: &str, proposal: u64) {
        let note = String::new();
        b.act(actor, &Intent::CloseProposal { proposal, note });
    }

    /// The numbers of the proposals of [`debating`].
    pub struct Debate {
        /// founder's policy amendment "End bootstrap": cap and alice voted yes, bob no.
        pub amendment: u64,
        /// founder's lazy-consensus "Adopt the logo": carol objected.
        pub lazy: u64,
    }

    /// The organisation (seven owners of weight 1.000) debating two proposals.
    pub fn debating() -> (Book, Debate) {
        let mut b = Book::organisation();
        let amendment = propose(&mut b, "founder", Kind::PolicyAmendment, "End bootstrap", |p| {
            p.reference = Some(format!("sha256:{}", "b".repeat(64)));
        });
        b.later(1);
        vote(&mut b, "cap", amendment, Choice::Yes);
        vote(&mut b, "alice", amendment, Choice::Yes);
        vote(&mut b, "bob", amendment, Choice::No);
        let lazy = propose(&mut b, "founder", Kind::LazyConsensus, "Adopt the logo", |_| {});
        object(&mut b, "carol", lazy, "too early");
        (b, Debate { amendment, lazy })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{close, debating, propose, vote};
    use super::*;
    use crate::rules::governance::{Choice, Kind};

    #[test]
    fn an_open_vote_shows_its_tally_participation_and_time_left() {
        let (b, d) = debating();
        let open = open_proposals(&b.state, b.now);
        assert_eq!(open.iter().map(|p| p.seq).collect::<Vec<_>>(), [d.amendment, d.lazy]);
        let vote = &open[0];
        assert_eq!(vote.status, ProposalStatus::Voting);
        assert!(vote.vote);
        assert_eq!(
            (vote.yes.as_str(), vote.no.as_str(), vote.eligible.as_str()),
            ("2.000", "1.000", "7.000")
        );
        assert_eq!(vote.participation.to_string(), "42.85");
        assert!(vote.passing);
        assert_eq!(vote.seconds_left, 167 * HOUR);
        assert_eq!(vote.effect, format!("allows ledger.toml sha256:{}", "b".repeat(64)));
        assert_eq!(
            vote.tally_words(),
            "yes 2.000, no 1.000, abstain 0.000 of 7.000 eligible (3 voters); participation 42.85% (quorum 20.00%), yes must exceed 50.00% of yes + no, passing so far"
        );
        assert_eq!(vote.window_words(), format!("voting until {} (6 d 23 h left)", vote.closes_at));
        assert!(vote
            .summary()
            .starts_with(&format!("#{} (policy-amendment) End bootstrap: voting until", d.amendment)));

        let lazy = &open[1];
        assert_eq!(lazy.status, ProposalStatus::LazyConsensus);
        assert!(!lazy.vote);
        assert_eq!(lazy.objectors, ["carol"]);
        assert_eq!(lazy.tally_words(), "1 of 3 objections that would make it a vote");
        assert_eq!(
            lazy.window_words(),
            format!(
                "lazy consensus until {} (2 d 00 h left): passes unless enough owners object",
                lazy.closes_at
            )
        );
    }

    #[test]
    fn after_the_window_proposals_wait_for_closing_then_are_decided() {
        let (mut b, d) = debating();
        b.later(167);
        let closing = find(&b.state, d.amendment, b.now).unwrap();
        assert_eq!(closing.status, ProposalStatus::Closing);
        assert_eq!(closing.seconds_left, 0);
        assert_eq!(
            closing.window_words(),
            format!(
                "its window ended at {}: anyone closes it with `smartup close-proposal {}`",
                closing.closes_at, d.amendment
            )
        );
        close(&mut b, "dave", d.amendment);
        close(&mut b, "dave", d.lazy);
        assert!(open_proposals(&b.state, b.now).is_empty());
        let all = all_proposals(&b.state, b.now);
        assert_eq!(all.iter().map(|p| p.status).collect::<Vec<_>>(), [ProposalStatus::Passed; 2]);
        let passed = &all[0];
        assert_eq!(passed.closed_by, Some(b.state.last_seq - 1));
        assert_eq!(passed.closed_at, Some(b.now));
        assert_eq!(passed.window_words(), format!("passed at {}", b.now));
        assert!(!passed.tally_words().contains("so far"), "{}", passed.tally_words());
        assert_eq!(all[1].tally_words(), "1 of 3 objections: it never went to a vote");
        assert_eq!(find(&b.state, 9999, b.now), None);
        assert!(agenda(&b.state, b.now, false).proposals.is_empty());
        assert_eq!(agenda(&b.state, b.now, true).proposals, all);
        let json = serde_json::to_value(&all[0]).unwrap();
        assert_eq!(json["status"], "passed");
        assert_eq!(json["participation"], "42.85");
        assert_eq!(json["closed_at"], b.now.to_string());
    }

    #[test]
    fn a_vote_without_quorum_fails_and_says_so_while_it_runs() {
        let mut b = crate::rules::test_support::Book::organisation();
        let seq = propose(&mut b, "founder", Kind::BindingVote, "Declare the MVP", |p| {
            p.declares = Some("working-mvp".into());
        });
        vote(&mut b, "alice", seq, Choice::Yes);
        let running = find(&b.state, seq, b.now).unwrap();
        assert_eq!(running.participation.to_string(), "14.28");
        assert!(!running.passing);
        assert!(running.tally_words().ends_with("not passing so far"));
        assert_eq!(running.effect, "declares working-mvp");
        b.later(168);
        close(&mut b, "alice", seq);
        assert_eq!(find(&b.state, seq, b.now).unwrap().status, ProposalStatus::Failed);
    }

    #[test]
    fn time_left_reads_in_days_from_a_day_on() {
        assert_eq!(time_left(6 * DAY + 23 * HOUR + 59 * 60), "6 d 23 h");
        assert_eq!(time_left(DAY), "1 d 00 h");
        assert_eq!(time_left(5 * HOUR + 20 * 60), "5 h 20 min");
        assert_eq!(time_left(-5), "0 h 00 min");
    }

    #[test]
    fn tranches_show_pending_released_and_their_trigger() {
        let (mut b, _) = debating();
        let all = tranches(&b.state);
        assert_eq!(
            all.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["design", "production", "organisation"]
        );
        let design = &all[0];
        assert_eq!(design.recipient, "founder");
        assert!(design.triggered, "founder and cap are captains: {design:?}");
        assert!(!all[1].triggered);
        assert_eq!(
            design.summary(),
            "tranche design for founder: 24660.00 SC pending, 0.00 released of 24660.00; trigger: at least 2 team captains (holds); released by a vote of captains, leadership"
        );
        assert!(all[2].summary().ends_with("(does not hold yet); released without a vote"));
        let seq = propose(&mut b, "founder", Kind::TrancheRelease, "Design tranche", |p| {
            p.tranche = Some("design".into());
        });
        vote(&mut b, "cap", seq, Choice::Yes);
        b.later(168);
        close(&mut b, "cap", seq);
        let release = crate::rules::draft::Intent::ReleaseTranche {
            tranche: "design".into(),
            amount: Some("1000".parse().unwrap()),
            proposal: None,
            note: String::new(),
        };
        b.act("cap", &release);
        let design = &tranches(&b.state)[0];
        assert_eq!(
            (design.pending.to_string(), design.released.to_string()),
            ("23660.00".into(), "1000.00".into())
        );
        assert_eq!(b.state.tranches_pending().to_string(), "81200.00");
        let applied = find(&b.state, seq, b.now).unwrap();
        assert_eq!(applied.applied_by, Some(b.state.last_seq));
    }
}
