//! The sandbox's books: members, cards, bank accounts, one-time tokens, charges and
//! cancellations, refunds and auto-recharge plans, seeded with the test data documented in
//! the README ("Sandbox test data"). Every endpoint is a method that validates like the
//! platform and moves money exactly once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use konaplate_core::{api::*, field::*};
use rand_core::{OsRng, RngCore};

/// Balance of the happy member's card at start (so a demo refund has money to refund).
pub const HAPPY_CARD_START: u64 = 30_000;
/// Card balance ceiling; a charge beyond it is `007_003` (credit limit exceeded).
pub const CARD_LIMIT: u64 = 2_000_000;
/// Monthly refund amount limit (`009_002`).
pub const MONTHLY_REFUND_AMOUNT: u64 = 2_000_000;
/// Monthly refund count limit (`009_003`).
pub const MONTHLY_REFUND_COUNT: u32 = 3;
/// Refund fee rate in tenths of a percent (1.0 %).
pub const REFUND_FEE_TENTHS: u64 = 10;
/// Charge amount that is refused as `007_002` (inconsistent requested benefit).
pub const AMOUNT_BENEFIT_MISMATCH: u64 = 7_002;
/// Charge amount that answers `isPending=true` and later completes.
pub const AMOUNT_PENDING_COMPLETES: u64 = 3_333;
/// Charge amount that answers `isPending=true` and later fails.
pub const AMOUNT_PENDING_FAILS: u64 = 4_444;
/// A charge of this amount, when cancelled, answers `isPending=true` and later completes.
pub const AMOUNT_CANCEL_PENDS: u64 = 5_555;
/// An existing charge paid by another method (`007_040` when cancelled).
pub const NR_OTHER_METHOD: &str = "KMN000000000000040";

/// A bank account.
#[derive(Clone, Debug)]
pub struct Account {
    /// Bank code (3 digits).
    pub bank: &'static str,
    /// Account number.
    pub number: &'static str,
    /// Holder name (may differ from the member's: `007_043`).
    pub holder: &'static str,
    /// Balance in KRW.
    pub balance: u64,
}

/// A member.
#[derive(Clone, Debug)]
pub struct Member {
    /// `userId`.
    pub user_id: u64,
    /// Name.
    pub name: &'static str,
    /// The registered charging account.
    pub account: Option<Account>,
    /// A refund account is registered.
    pub refund_account: bool,
    /// Refunds are refused (`009_004`).
    pub refund_denied: bool,
    /// Refunds this month.
    pub refunds_this_month: u32,
    /// KRW refunded this month.
    pub refunded_this_month: u64,
    /// Open Banking terms agreed.
    pub open_bank_terms: bool,
    /// Firm-banking terms agreed.
    pub firm_banking_terms: bool,
    /// An account is registered for auto-recharge.
    pub auto_recharge_account: bool,
}

/// A card.
#[derive(Clone, Debug)]
pub struct Card {
    /// `cardNo`.
    pub card_no: String,
    /// Owner.
    pub user_id: u64,
    /// `par`.
    pub par: String,
    /// `cardExpiry` (YYMM).
    pub expiry: &'static str,
    /// ACTIVE.
    pub active: bool,
    /// Balance in KRW.
    pub balance: u64,
    /// Balance right after the last charge.
    pub last_loaded: u64,
    /// The card already has a lower-limit/monthly auto-recharge plan (`007_017`).
    pub other_auto_plan: bool,
}

/// A one-time token.
#[derive(Clone, Debug)]
struct Token {
    card_no: String,
    dcvv: String,
    expires: Instant,
    used: bool,
}

/// Charge or cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxnKind {
    /// A charge.
    Charge,
    /// A cancellation of a charge.
    Cancel,
}

/// State of a charge or cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxnState {
    /// Done; money moved.
    Completed,
    /// Failed; no money moved.
    Failed,
    /// The PG has not answered; resolves at `at` to `completes`.
    Pending {
        /// When it resolves.
        at: Instant,
        /// Whether it completes (else fails).
        completes: bool,
    },
}

/// A charge or cancellation, keyed by its `sequenceId`.
#[derive(Clone, Debug)]
pub struct Txn {
    /// Charge or cancel.
    pub kind: TxnKind,
    /// `sequenceId`.
    pub sequence_id: String,
    /// Member.
    pub user_id: u64,
    /// Card.
    pub card_no: String,
    /// KRW.
    pub amount: u64,
    /// Its own transaction number.
    pub nr_number: String,
    /// For a cancellation: the charge it cancels.
    pub cancels: Option<String>,
    /// State.
    pub state: TxnState,
    /// For a charge: a cancellation completed.
    pub cancelled: bool,
    /// For a charge: a cancellation is in flight.
    pub cancel_pending: bool,
}

impl Txn {
    /// The inquiry's view.
    pub fn result(&self) -> ChargeResult {
        match self.state {
            TxnState::Completed => ChargeResult::Completed,
            TxnState::Failed => ChargeResult::Failed,
            TxnState::Pending { .. } => ChargeResult::Pending,
        }
    }
}

/// A refund.
#[derive(Clone, Debug)]
pub struct RefundRecord {
    /// `sequenceId`.
    pub sequence_id: String,
    /// Member.
    pub user_id: u64,
    /// Card.
    pub card_no: String,
    /// KRW sent to the account.
    pub amount: u64,
    /// KRW kept as fee.
    pub fee: u64,
    /// `nrNumber` (18).
    pub nr_number: String,
}

/// An auto-recharge-at-payment plan.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Member.
    pub user_id: u64,
    /// `par`.
    pub par: String,
    /// `registeredDate`.
    pub registered: String,
}

/// A refusal: the code and, for `000_002`, the offending field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Result code.
    pub code: &'static str,
    /// Field named in the description of `000_002`.
    pub field: Option<&'static str>,
}

fn refuse<T>(code: &'static str) -> Result<T, Refusal> {
    Err(Refusal { code, field: None })
}
fn invalid<T>(field: &'static str) -> Result<T, Refusal> {
    Err(Refusal {
        code: "000_002",
        field: Some(field),
    })
}

/// The books.
#[derive(Debug)]
pub struct Ledger {
    members: BTreeMap<u64, Member>,
    cards: BTreeMap<String, Card>,
    merchants: BTreeSet<&'static str>,
    tokens: HashMap<String, Token>,
    txns: BTreeMap<String, Txn>,
    nr_index: HashMap<String, String>,
    refunds: BTreeMap<String, RefundRecord>,
    /// SequenceIds of requests received and not yet committed (a slow platform).
    in_flight: BTreeSet<String>,
    plans: Vec<Plan>,
    nr_counter: u64,
    /// How long a pending charge/cancel stays pending.
    pub pending_for: Duration,
}

/// Seed cards: `941000000000` + 4 digits, PAR `Q1` + 21 zeros + the same 4 digits.
pub fn card_no(n: u16) -> String {
    format!("941000000000{n:04}")
}
/// The PAR of seed card `n`.
pub fn par_of(n: u16) -> String {
    format!("Q1{:021}{n:04}", 0)
}

impl Ledger {
    /// The seeded world (see the README's sandbox section).
    pub fn seeded(pending_for: Duration) -> Self {
        let acct = |holder, balance| {
            Some(Account {
                bank: "004",
                number: "12345678901234",
                holder,
                balance,
            })
        };
        let m = |user_id, name, account| Member {
            user_id,
            name,
            account,
            refund_account: true,
            refund_denied: false,
            refunds_this_month: 0,
            refunded_this_month: 0,
            open_bank_terms: true,
            firm_banking_terms: true,
            auto_recharge_account: true,
        };
        let members = vec![
            m(50_000_100_001, "홍길동", acct("홍길동", 5_000_000)),
            m(50_000_100_002, "김철수", None),
            m(50_000_100_003, "이영희", acct("이영희", 0)),
            m(50_000_100_004, "박민수", acct("박민호", 5_000_000)),
            Member {
                refund_account: false,
                ..m(50_000_100_005, "최지우", acct("최지우", 5_000_000))
            },
            Member {
                refunds_this_month: 3,
                ..m(50_000_100_006, "정수빈", acct("정수빈", 5_000_000))
            },
            Member {
                refunded_this_month: 1_990_000,
                ..m(50_000_100_007, "강하늘", acct("강하늘", 5_000_000))
            },
            Member {
                refund_denied: true,
                ..m(50_000_100_008, "윤서연", acct("윤서연", 5_000_000))
            },
            Member {
                open_bank_terms: false,
                ..m(50_000_100_009, "임도윤", acct("임도윤", 5_000_000))
            },
            Member {
                firm_banking_terms: false,
                ..m(50_000_100_010, "한예린", acct("한예린", 5_000_000))
            },
            Member {
                auto_recharge_account: false,
                ..m(50_000_100_011, "오세훈", acct("오세훈", 5_000_000))
            },
        ];
        let c = |n: u16, user_id, balance| Card {
            card_no: card_no(n),
            user_id,
            par: par_of(n),
            expiry: "3108",
            active: true,
            balance,
            last_loaded: balance,
            other_auto_plan: false,
        };
        let cards = vec![
            c(11, 50_000_100_001, HAPPY_CARD_START),
            Card {
                active: false,
                ..c(22, 50_000_100_001, 0)
            },
            Card {
                other_auto_plan: true,
                ..c(23, 50_000_100_001, 0)
            },
            c(12, 50_000_100_002, 0),
            c(13, 50_000_100_003, 0),
            c(14, 50_000_100_004, 100_000),
            c(15, 50_000_100_005, 50_000),
            c(16, 50_000_100_006, 30_000),
            c(17, 50_000_100_007, 50_000),
            c(18, 50_000_100_008, 40_000),
            c(19, 50_000_100_009, 0),
            c(20, 50_000_100_010, 0),
            c(21, 50_000_100_011, 0),
        ];
        let mut ledger = Ledger {
            members: members.into_iter().map(|m| (m.user_id, m)).collect(),
            cards: cards.into_iter().map(|c| (c.card_no.clone(), c)).collect(),
            merchants: [
                "100000000000101",
                "100000000000102",
                "100000000000103",
                "100000000000104",
                "100000000000105",
            ]
            .into_iter()
            .collect(),
            tokens: HashMap::new(),
            txns: BTreeMap::new(),
            nr_index: HashMap::new(),
            refunds: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            plans: Vec::new(),
            nr_counter: 0,
            pending_for,
        };
        // a charge paid by another method, for 007_040
        let seq = "SEED-OTHER-METHOD".to_string();
        ledger
            .nr_index
            .insert(NR_OTHER_METHOD.to_string(), seq.clone());
        ledger.txns.insert(
            seq.clone(),
            Txn {
                kind: TxnKind::Charge,
                sequence_id: seq,
                user_id: 50_000_100_001,
                card_no: card_no(11),
                amount: 10_000,
                nr_number: NR_OTHER_METHOD.to_string(),
                cancels: None,
                state: TxnState::Completed,
                cancelled: false,
                cancel_pending: false,
            },
        );
        ledger
    }

    /// A member.
    pub fn member(&self, user_id: u64) -> Option<&Member> {
        self.members.get(&user_id)
    }
    /// Every member, by `userId`.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }
    /// Every card, by card number.
    pub fn cards(&self) -> impl Iterator<Item = &Card> {
        self.cards.values()
    }
    /// A card.
    pub fn card(&self, card_no: &str) -> Option<&Card> {
        self.cards.get(card_no)
    }
    /// A charge or cancellation by sequenceId.
    pub fn txn(&self, sequence_id: &str) -> Option<&Txn> {
        self.txns.get(sequence_id)
    }
    /// All charges and cancellations (seed entry included).
    pub fn txns(&self) -> impl Iterator<Item = &Txn> {
        self.txns.values()
    }
    /// A refund by sequenceId.
    pub fn refund_record(&self, sequence_id: &str) -> Option<&RefundRecord> {
        self.refunds.get(sequence_id)
    }
    /// All refunds.
    pub fn refunds(&self) -> impl Iterator<Item = &RefundRecord> {
        self.refunds.values()
    }
    /// All auto-recharge-at-payment plans.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// Resolves pending charges/cancellations whose time has come (moving the money then).
    pub fn settle(&mut self, now: Instant) {
        // spent and expired tokens are forgotten (a forgotten token is refused like a used one)
        self.tokens.retain(|_, t| !t.used && t.expires > now);
        let due: Vec<String> = self
            .txns
            .values()
            .filter(|t| matches!(t.state, TxnState::Pending { at, .. } if at <= now))
            .map(|t| t.sequence_id.clone())
            .collect();
        for seq in due {
            let Some(t) = self.txns.get(&seq).cloned() else {
                continue;
            };
            let TxnState::Pending { completes, .. } = t.state else {
                continue;
            };
            let ok = completes && self.apply(&t).is_ok();
            if let Some(t) = self.txns.get_mut(&seq) {
                t.state = if ok {
                    TxnState::Completed
                } else {
                    TxnState::Failed
                };
            }
            if let (TxnKind::Cancel, Some(charge)) = (t.kind, &t.cancels)
                && let Some(c) = self.txns.get_mut(charge)
            {
                c.cancel_pending = false;
                c.cancelled = ok;
            }
        }
    }

    /// Moves the money of a charge (account → card) or a cancellation (card → account).
    fn apply(&mut self, t: &Txn) -> Result<(), Refusal> {
        let card = self.cards.get_mut(&t.card_no).ok_or(Refusal {
            code: "000_002",
            field: Some("cardNo"),
        })?;
        let member = self.members.get_mut(&t.user_id).ok_or(Refusal {
            code: "000_002",
            field: Some("userId"),
        })?;
        let account = member.account.as_mut().ok_or(Refusal {
            code: "007_001",
            field: None,
        })?;
        match t.kind {
            TxnKind::Charge => {
                if account.balance < t.amount {
                    return refuse("007_004");
                }
                if card.balance + t.amount > CARD_LIMIT {
                    return refuse("007_003");
                }
                account.balance -= t.amount;
                card.balance += t.amount;
                card.last_loaded = card.balance;
            }
            TxnKind::Cancel => {
                if card.balance < t.amount {
                    return refuse("007_030");
                }
                card.balance -= t.amount;
                account.balance += t.amount;
            }
        }
        Ok(())
    }

    fn next_nr(&mut self) -> String {
        self.nr_counter += 1;
        format!("KMN{:015}", 261_123_000_000_000 + self.nr_counter)
    }

    /// Issuance of Disposable Token (§6.1).
    pub fn issue_token(
        &mut self,
        req: &TokenRequest,
        now: Instant,
        ttl: Duration,
    ) -> Result<TokenResponse, Refusal> {
        let card_no = req.card_no.expose();
        if !self.cards.contains_key(card_no) {
            return invalid("cardNo");
        }
        // 16 random digits (unique among live tokens) and a random 3-digit DCVV
        let mut token;
        loop {
            token = format!(
                "{:016}",
                1_000_000_000_000_000 + OsRng.next_u64() % 9_000_000_000_000_000
            );
            if !self.tokens.contains_key(&token) {
                break;
            }
        }
        let dcvv = format!("{:03}", OsRng.next_u32() % 1000);
        let ttl = match req.token_type {
            Some(_) => Duration::from_secs(300),
            None => ttl,
        };
        self.tokens.insert(
            token.clone(),
            Token {
                card_no: card_no.to_string(),
                dcvv: dcvv.clone(),
                expires: now + ttl,
                used: false,
            },
        );
        let millis = konaplate::clock::unix_millis() + ttl.as_millis() as u64;
        Ok(TokenResponse {
            one_time_token: OneTimeToken::new(&token).map_err(|_| Refusal {
                code: "000_002",
                field: Some("cardNo"),
            })?,
            dcvv: Dcvv::new(&dcvv).map_err(|_| Refusal {
                code: "000_002",
                field: Some("cardNo"),
            })?,
            expiry_time: Some(millis),
        })
    }

    /// Checks and consumes a token; returns its card after checking it belongs to `user_id`.
    fn use_token(
        &mut self,
        token: &OneTimeToken,
        dcvv: Option<&Dcvv>,
        user_id: u64,
        now: Instant,
    ) -> Result<Card, Refusal> {
        let t = match self.tokens.get_mut(token.expose()) {
            Some(t) if !t.used && t.expires > now => t,
            _ => return invalid("oneTimeToken"),
        };
        if let Some(d) = dcvv
            && d.expose() != t.dcvv
        {
            return invalid("dcvv");
        }
        t.used = true;
        let card = self.cards.get(&t.card_no).cloned().ok_or(Refusal {
            code: "000_002",
            field: Some("oneTimeToken"),
        })?;
        if card.user_id != user_id || !self.members.contains_key(&user_id) {
            return invalid("userId");
        }
        Ok(card)
    }

    /// A sequenceId must be unique: one already used (committed, refused after being
    /// recorded, or still in flight) is refused with `000_002` and nothing else happens.
    fn check_new_sequence(&self, seq: &SequenceId) -> Result<(), Refusal> {
        let s = seq.as_str();
        if self.txns.contains_key(s) || self.refunds.contains_key(s) || self.in_flight.contains(s) {
            return invalid("sequenceId");
        }
        Ok(())
    }

    /// Takes `seq` for a request that arrived and will commit later (a slow platform); a
    /// taken sequenceId is refused like a used one.
    pub fn reserve(&mut self, seq: &SequenceId) -> Result<(), Refusal> {
        self.check_new_sequence(seq)?;
        self.in_flight.insert(seq.as_str().to_string());
        Ok(())
    }

    /// Whether a request with `seq` arrived and has not committed yet (a slow platform).
    pub fn is_in_flight(&self, seq: &str) -> bool {
        self.in_flight.contains(seq)
    }

    /// Releases a reservation right before its request commits.
    pub fn unreserve(&mut self, seq: &SequenceId) {
        self.in_flight.remove(seq.as_str());
    }

    /// Charge (§6.2).
    pub fn charge(&mut self, req: &ChargeRequest, now: Instant) -> Result<ChargeResponse, Refusal> {
        self.check_new_sequence(&req.sequence_id)?;
        let card = self.use_token(&req.one_time_token, Some(&req.dcvv), req.user_id.get(), now)?;
        if !self.merchants.contains(req.merchant_id.as_str()) {
            return invalid("merchantId");
        }
        let amount = req.amount.get();
        let member = self.members.get(&req.user_id.get()).ok_or(Refusal {
            code: "000_002",
            field: Some("userId"),
        })?;
        let outcome = if member.account.is_none() {
            refuse("007_001")
        } else if amount == AMOUNT_BENEFIT_MISMATCH {
            refuse("007_002")
        } else {
            Ok(())
        };
        let nr = self.next_nr();
        let mut t = Txn {
            kind: TxnKind::Charge,
            sequence_id: req.sequence_id.as_str().to_string(),
            user_id: req.user_id.get(),
            card_no: card.card_no.clone(),
            amount,
            nr_number: nr.clone(),
            cancels: None,
            state: TxnState::Completed,
            cancelled: false,
            cancel_pending: false,
        };
        let pending = matches!(amount, AMOUNT_PENDING_COMPLETES | AMOUNT_PENDING_FAILS);
        let result = outcome.and_then(|()| {
            if pending {
                t.state = TxnState::Pending {
                    at: now + self.pending_for,
                    completes: amount == AMOUNT_PENDING_COMPLETES,
                };
                Ok(())
            } else {
                self.apply(&t)
            }
        });
        if let Err(r) = result {
            t.state = TxnState::Failed;
            self.record(t);
            return Err(r);
        }
        self.record(t);
        Ok(ChargeResponse {
            nr_number: NrNumber::new(&nr).map_err(|_| Refusal {
                code: "000_002",
                field: Some("nrNumber"),
            })?,
            is_pending: pending,
        })
    }

    fn record(&mut self, t: Txn) {
        self.nr_index
            .insert(t.nr_number.clone(), t.sequence_id.clone());
        self.txns.insert(t.sequence_id.clone(), t);
    }

    /// Cancellation of Charge (§6.3).
    pub fn cancel(&mut self, req: &CancelRequest, now: Instant) -> Result<CancelResponse, Refusal> {
        self.check_new_sequence(&req.sequence_id)?;
        let card = self.use_token(&req.one_time_token, Some(&req.dcvv), req.user_id.get(), now)?;
        if let Some(e) = &req.card_expiry
            && e.as_str() != card.expiry
        {
            return invalid("cardExpiry");
        }
        let member = self
            .members
            .get(&req.user_id.get())
            .cloned()
            .ok_or(Refusal {
                code: "000_002",
                field: Some("userId"),
            })?;
        let Some(account) = &member.account else {
            return refuse("007_001");
        };
        if req.nr_number.as_str() == NR_OTHER_METHOD {
            return refuse("007_040");
        }
        let charge = self
            .nr_index
            .get(req.nr_number.as_str())
            .and_then(|s| self.txns.get(s))
            .filter(|t| {
                t.kind == TxnKind::Charge
                    && t.user_id == req.user_id.get()
                    && t.state == TxnState::Completed
                    && !t.cancelled
                    && !t.cancel_pending
            })
            .cloned();
        let Some(charge) = charge else {
            return refuse("007_030");
        };
        if self
            .cards
            .get(&charge.card_no)
            .is_none_or(|c| c.balance < charge.amount)
        {
            return refuse("007_030");
        }
        if account.holder != member.name {
            return refuse("007_043");
        }
        let nr = self.next_nr();
        let pending = charge.amount == AMOUNT_CANCEL_PENDS;
        let mut t = Txn {
            kind: TxnKind::Cancel,
            sequence_id: req.sequence_id.as_str().to_string(),
            user_id: req.user_id.get(),
            card_no: charge.card_no.clone(),
            amount: charge.amount,
            nr_number: nr,
            cancels: Some(charge.sequence_id.clone()),
            state: TxnState::Completed,
            cancelled: false,
            cancel_pending: false,
        };
        if pending {
            t.state = TxnState::Pending {
                at: now + self.pending_for,
                completes: true,
            };
        } else {
            self.apply(&t)?;
        }
        if let Some(c) = self.txns.get_mut(&charge.sequence_id) {
            c.cancelled = !pending;
            c.cancel_pending = pending;
        }
        self.record(t);
        Ok(CancelResponse {
            is_pending: pending,
        })
    }

    /// Checking Result of Charge & Cancellation (§6.4).
    pub fn result(&mut self, req: &ChargeResultRequest) -> Result<ChargeResultResponse, Refusal> {
        let t = self.txns.get(req.sequence_id.as_str()).ok_or(Refusal {
            code: "007_009",
            field: None,
        })?;
        Ok(ChargeResultResponse {
            result: t.result(),
            nr_number: NrNumber::new(&t.nr_number).ok(),
        })
    }

    fn fee_figures(&self, card: &Card) -> (u64, u64) {
        let fee = card.balance * REFUND_FEE_TENTHS / 1000;
        (fee, card.balance - fee)
    }

    /// Search for Refund Fee (§6.6). Consumes the token (a fresh one is issued for the refund).
    pub fn refund_fee(
        &mut self,
        req: &RefundFeeRequest,
        now: Instant,
    ) -> Result<RefundFeeResponse, Refusal> {
        let card = self.use_token(&req.one_time_token, None, req.user_id.get(), now)?;
        let member = self.members.get(&req.user_id.get()).ok_or(Refusal {
            code: "000_002",
            field: Some("userId"),
        })?;
        let (fee, amount) = self.fee_figures(&card);
        let won = |v: u64| {
            Won::new(v.min(Won::MAX)).map_err(|_| Refusal {
                code: "000_002",
                field: Some("balance"),
            })
        };
        let pct = |t: u64| {
            Percent1::from_tenths(t.min(990) as u16, "ratio").map_err(|_| Refusal {
                code: "000_002",
                field: Some("balance"),
            })
        };
        let ratio = (card.balance * 1000)
            .checked_div(card.last_loaded)
            .unwrap_or(0);
        Ok(RefundFeeResponse {
            par: Par::new(&card.par).map_err(|_| Refusal {
                code: "000_002",
                field: Some("par"),
            })?,
            refund_fee_rate: pct(REFUND_FEE_TENTHS)?,
            balance: won(card.balance)?,
            refund_check_balance: won(card.balance)?,
            discount_amount: won(0)?,
            refund_fee: won(fee)?,
            refund_amount: won(amount)?,
            expired_fee: won(0)?,
            refundable: member.refund_account && !member.refund_denied && card.balance > 0,
            refund_threshold_balance: won(Won::MAX)?,
            refund_threshold_ratio: pct(600)?,
            current_balance_ratio: pct(ratio)?,
            last_loaded_balance: won(card.last_loaded)?,
        })
    }

    /// Refund (§6.7): the whole balance minus the fee goes to the refund account.
    pub fn refund(&mut self, req: &RefundRequest, now: Instant) -> Result<RefundResponse, Refusal> {
        self.check_new_sequence(&req.sequence_id)?;
        let card = self.use_token(&req.one_time_token, Some(&req.dcvv), req.user_id.get(), now)?;
        if req.card_expiry.as_str() != card.expiry {
            return invalid("cardExpiry");
        }
        let member = self
            .members
            .get(&req.user_id.get())
            .cloned()
            .ok_or(Refusal {
                code: "000_002",
                field: Some("userId"),
            })?;
        if !member.refund_account {
            return refuse("009_001");
        }
        if member.refund_denied || card.balance == 0 {
            return refuse("009_004");
        }
        if member.refunds_this_month >= MONTHLY_REFUND_COUNT {
            return refuse("009_003");
        }
        if member.refunded_this_month + card.balance > MONTHLY_REFUND_AMOUNT {
            return refuse("009_002");
        }
        let (fee, amount) = self.fee_figures(&card);
        self.nr_counter += 1;
        let nr = format!("KMR{:015}", 261_123_000_000_000 + self.nr_counter);
        if let Some(c) = self.cards.get_mut(&card.card_no) {
            c.balance = 0;
        }
        if let Some(m) = self.members.get_mut(&member.user_id) {
            m.refunds_this_month += 1;
            m.refunded_this_month += card.balance;
        }
        self.refunds.insert(
            req.sequence_id.as_str().to_string(),
            RefundRecord {
                sequence_id: req.sequence_id.as_str().to_string(),
                user_id: member.user_id,
                card_no: card.card_no.clone(),
                amount,
                fee,
                nr_number: nr.clone(),
            },
        );
        Ok(RefundResponse {
            nr_number: RefundNrNumber::new(&nr).map_err(|_| Refusal {
                code: "000_002",
                field: Some("nrNumber"),
            })?,
        })
    }

    /// Auto-recharge at payment — register (§6.9.1).
    pub fn register(
        &mut self,
        req: &AutoRechargeRegisterRequest,
        registered: DateTime14,
    ) -> Result<Empty, Refusal> {
        let member = self.members.get(&req.user_id.get()).cloned();
        let Some(member) = member else {
            return invalid("userId");
        };
        let card = self
            .cards
            .values()
            .find(|c| c.par == req.par.as_str())
            .cloned();
        let Some(card) = card.filter(|c| c.user_id == member.user_id) else {
            return refuse("001_003");
        };
        if !card.active {
            return refuse("007_016");
        }
        if self.plans.iter().any(|p| p.par == card.par) {
            return refuse("007_012");
        }
        if card.other_auto_plan {
            return refuse("007_017");
        }
        if !member.open_bank_terms {
            return refuse("007_015");
        }
        if !member.firm_banking_terms {
            return refuse("007_027");
        }
        if !member.auto_recharge_account {
            return refuse("007_031");
        }
        self.plans.push(Plan {
            user_id: member.user_id,
            par: card.par,
            registered: registered.as_str().to_string(),
        });
        Ok(Empty {})
    }

    /// Auto-recharge at payment — list (§6.9.3).
    pub fn list(&self, req: &AutoRechargeListRequest) -> Result<AutoRechargeListResponse, Refusal> {
        if !self.members.contains_key(&req.user_id.get()) {
            return invalid("userId");
        }
        let mut list = konaplate_core::heapless::Vec::new();
        for p in self.plans.iter().filter(|p| p.user_id == req.user_id.get()) {
            let item = ParInfo {
                par: Par::new(&p.par).map_err(|_| Refusal {
                    code: "000_002",
                    field: Some("par"),
                })?,
                registered_date: DateTime14::new(&p.registered).map_err(|_| Refusal {
                    code: "000_002",
                    field: Some("registeredDate"),
                })?,
            };
            if list.push(item).is_err() {
                break;
            }
        }
        Ok(AutoRechargeListResponse {
            par_info_list: list,
        })
    }
}

/// The Korean description the sandbox sends for a code (with the field for `000_002`, D16).
pub fn describe(code: &str, field: Option<&str>) -> String {
    let base = match code {
        "000_000" => "성공",
        "000_002" => "유효하지 않은 입력 파라미터입니다.",
        "001_003" => "유효하지 않은 PAR입니다.",
        "007_001" => "등록된 은행 계좌가 없습니다.",
        "007_002" => "요청한 혜택 정보가 충전 시점의 혜택과 다릅니다.",
        "007_003" => "승인 한도를 초과했습니다.",
        "007_004" => "PG 출금 이체에 실패했습니다.",
        "007_009" => "이전 거래를 찾을 수 없습니다.",
        "007_012" => "이미 등록된 PAR입니다.",
        "007_015" => "오픈 뱅킹 약관에 동의하지 않았습니다.",
        "007_016" => "카드 상태가 활성 상태가 아닙니다.",
        "007_017" => "자동 충전 플랜이 이미 존재합니다.",
        "007_027" => "펌뱅킹 약관에 동의하지 않았습니다.",
        "007_030" => "충전 취소가 불가능한 거래입니다.",
        "007_031" => "자동 충전을 위한 계좌 등록이 안되어 있습니다.",
        "007_040" => "충전 취소할 충전 건의 충전 금액 지불 방식이 다릅니다.",
        "007_043" => "시스템에 등록된 회원 이름과 은행계좌 소유자명이 다릅니다.",
        "009_001" => "회원의 환불 계좌 정보가 없습니다.",
        "009_002" => "월 환불 한도 금액을 초과했습니다.",
        "009_003" => "월 환불 횟수를 초과했습니다.",
        "009_004" => "환불 거래가 거절되었습니다.",
        _ => "알 수 없는 오류",
    };
    match field {
        Some(f) => format!("{base} {f}"),
        None => base.to_string(),
    }
}
