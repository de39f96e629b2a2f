//! Trust policy: which log keys to accept and which cosigner quorum a checkpoint needs.
//!
//! Text form is the C2SP tlog-policy format (the subset needed for offline verification):
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> all|any|<k> <member>...
//! quorum <name>|none
//! ```
//!
//! Deviation from the spec's character set: names, keys and URLs must be UTF-8 (comments
//! may hold any octets), because our key names are Rust strings.

use std::fmt::Write as _;

use super::checkpoint::{parse_canonical_u64, SignedCheckpoint};
use super::cosignature::Cosignature;
use super::error::{KeyError, PolicyError};
use super::key::{KeyType, VerifierKey};
use super::limits::{
    MAX_GROUP_MEMBERS, MAX_POLICY_GROUPS, MAX_POLICY_LOGS, MAX_POLICY_SIZE, MAX_POLICY_WITNESSES,
};

/// The predefined name meaning "no cosignatures required".
const NONE: &str = "none";

/// Name of the group [`TrustPolicy::new`] builds. '+' cannot occur in a key name, so it
/// cannot collide with a witness named after its key.
const THRESHOLD_GROUP: &str = "+cosigners";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    pub key: VerifierKey,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    /// Policy-local name (used only inside the policy file).
    pub name: String,
    pub key: VerifierKey,
    pub url: Option<String>,
}

/// A group member: an index into the witnesses or into the groups defined before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGroup {
    pub name: String,
    /// k: how many members must be satisfied (1 ≤ k ≤ members.len()).
    pub threshold: usize,
    pub members: Vec<Member>,
}

/// The quorum rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quorum {
    None,
    Witness(usize),
    Group(usize),
}

/// A parsed, validated trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<PolicyGroup>,
    quorum: Quorum,
}

/// What a policy check established about a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub log_key: VerifierKey,
    /// Cosignatures that verified, in policy witness order.
    pub cosignatures: Vec<Cosignature>,
}

impl VerifiedCheckpoint {
    /// Key names of the cosigners whose cosignatures verified.
    pub fn cosigner_names(&self) -> Vec<String> {
        self.cosignatures
            .iter()
            .map(|c| c.name.to_string())
            .collect()
    }
}

fn is_policy_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Definitions seen so far, for name resolution while parsing.
#[derive(Default)]
struct Builder {
    logs: Vec<(PolicyLog, usize)>,
    witnesses: Vec<(PolicyWitness, usize)>,
    groups: Vec<PolicyGroup>,
    quorum: Option<(Quorum, usize)>,
}

impl Builder {
    fn resolve(&self, name: &str) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|(w, _)| w.name == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    fn check_new_name(&self, line: usize, name: &str) -> Result<(), PolicyError> {
        if name == NONE {
            return Err(PolicyError::ReservedName {
                line,
                name: name.to_owned(),
            });
        }
        if self.resolve(name).is_some() {
            return Err(PolicyError::DuplicateName {
                line,
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    fn parse_key(
        line: usize,
        s: &str,
        role: &'static str,
        expected: KeyType,
    ) -> Result<VerifierKey, PolicyError> {
        let key: VerifierKey = s
            .parse()
            .map_err(|source: KeyError| PolicyError::BadKey { line, source })?;
        if key.key_type() != expected {
            return Err(PolicyError::WrongKeyType {
                line,
                role,
                expected,
                found: key.key_type(),
            });
        }
        Ok(key)
    }

    fn line(&mut self, line: usize, fields: &[&str]) -> Result<(), PolicyError> {
        let Some((&keyword, args)) = fields.split_first() else {
            return Ok(());
        };
        match keyword {
            "log" => {
                if !(1..=2).contains(&args.len()) {
                    return Err(PolicyError::WrongFieldCount {
                        line,
                        keyword: "log",
                    });
                }
                if self.logs.len() >= MAX_POLICY_LOGS {
                    return Err(PolicyError::TooMany {
                        line,
                        what: "logs",
                        max: MAX_POLICY_LOGS,
                    });
                }
                let key = Self::parse_key(line, args[0], "log", KeyType::Ed25519)?;
                if let Some((_, first)) =
                    self.logs.iter().find(|(l, _)| l.key.same_public_key(&key))
                {
                    return Err(PolicyError::DuplicateKey {
                        line,
                        first: *first,
                    });
                }
                let url = args.get(1).map(|s| (*s).to_owned());
                self.logs.push((PolicyLog { key, url }, line));
            }
            "witness" => {
                if !(2..=3).contains(&args.len()) {
                    return Err(PolicyError::WrongFieldCount {
                        line,
                        keyword: "witness",
                    });
                }
                if self.witnesses.len() >= MAX_POLICY_WITNESSES {
                    return Err(PolicyError::TooMany {
                        line,
                        what: "witnesses",
                        max: MAX_POLICY_WITNESSES,
                    });
                }
                let name = args[0];
                self.check_new_name(line, name)?;
                let key = Self::parse_key(line, args[1], "witness", KeyType::CosignatureV1)?;
                if let Some((_, first)) = self
                    .witnesses
                    .iter()
                    .find(|(w, _)| w.key.same_public_key(&key))
                {
                    return Err(PolicyError::DuplicateKey {
                        line,
                        first: *first,
                    });
                }
                let url = args.get(2).map(|s| (*s).to_owned());
                self.witnesses.push((
                    PolicyWitness {
                        name: name.to_owned(),
                        key,
                        url,
                    },
                    line,
                ));
            }
            "group" => {
                if args.len() < 2 {
                    return Err(PolicyError::WrongFieldCount {
                        line,
                        keyword: "group",
                    });
                }
                if self.groups.len() >= MAX_POLICY_GROUPS {
                    return Err(PolicyError::TooMany {
                        line,
                        what: "groups",
                        max: MAX_POLICY_GROUPS,
                    });
                }
                let name = args[0];
                self.check_new_name(line, name)?;
                let names = &args[2..];
                if names.is_empty() {
                    return Err(PolicyError::EmptyGroup { line });
                }
                if names.len() > MAX_GROUP_MEMBERS {
                    return Err(PolicyError::TooMany {
                        line,
                        what: "group members",
                        max: MAX_GROUP_MEMBERS,
                    });
                }
                let mut members = Vec::with_capacity(names.len());
                for &m in names {
                    if m == NONE {
                        return Err(PolicyError::ReservedName {
                            line,
                            name: m.to_owned(),
                        });
                    }
                    let member = self.resolve(m).ok_or_else(|| PolicyError::UndefinedName {
                        line,
                        name: m.to_owned(),
                    })?;
                    if members.contains(&member) {
                        return Err(PolicyError::DuplicateMember {
                            line,
                            name: m.to_owned(),
                        });
                    }
                    members.push(member);
                }
                let n = members.len();
                let threshold = match args[1] {
                    "all" => n,
                    "any" => 1,
                    k => match parse_canonical_u64(k) {
                        Ok(k) if k >= 1 && k <= n as u64 => k as usize,
                        _ => {
                            return Err(PolicyError::BadThreshold {
                                line,
                                found: k.chars().take(32).collect(),
                                members: n,
                            })
                        }
                    },
                };
                self.groups.push(PolicyGroup {
                    name: name.to_owned(),
                    threshold,
                    members,
                });
            }
            "quorum" => {
                if args.len() != 1 {
                    return Err(PolicyError::WrongFieldCount {
                        line,
                        keyword: "quorum",
                    });
                }
                if let Some((_, first)) = self.quorum {
                    return Err(PolicyError::DuplicateQuorum { line, first });
                }
                let q = if args[0] == NONE {
                    Quorum::None
                } else {
                    match self.resolve(args[0]) {
                        Some(Member::Witness(i)) => Quorum::Witness(i),
                        Some(Member::Group(i)) => Quorum::Group(i),
                        None => {
                            return Err(PolicyError::UndefinedName {
                                line,
                                name: args[0].to_owned(),
                            })
                        }
                    }
                };
                self.quorum = Some((q, line));
            }
            other => {
                return Err(PolicyError::UnknownKeyword {
                    line,
                    keyword: other.chars().take(32).collect(),
                })
            }
        }
        Ok(())
    }
}

impl TrustPolicy {
    /// Parses a tlog-policy file.
    pub fn parse(bytes: &[u8]) -> Result<TrustPolicy, PolicyError> {
        if bytes.len() > MAX_POLICY_SIZE {
            return Err(PolicyError::TooLarge {
                size: bytes.len(),
                max: MAX_POLICY_SIZE,
            });
        }
        let mut b = Builder::default();
        // A missing final newline is tolerated: policy files are hand-edited config.
        for (i, raw) in bytes.split(|&c| c == b'\n').enumerate() {
            let line = i + 1;
            if let Some(&byte) = raw
                .iter()
                .find(|&&c| !(c == b'\t' || (0x20..0x7f).contains(&c) || c >= 0x80))
            {
                return Err(PolicyError::ForbiddenByte { line, byte });
            }
            let first = raw.iter().position(|&c| !is_policy_ws(c));
            match first {
                None => continue,
                Some(p) if raw[p] == b'#' => continue,
                Some(_) => {}
            }
            let text = std::str::from_utf8(raw).map_err(|_| PolicyError::NotUtf8 { line })?;
            let fields: Vec<&str> = text.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            b.line(line, &fields)?;
        }
        let (quorum, _) = b.quorum.ok_or(PolicyError::MissingQuorum)?;
        Ok(TrustPolicy {
            logs: b.logs.into_iter().map(|(l, _)| l).collect(),
            witnesses: b.witnesses.into_iter().map(|(w, _)| w).collect(),
            groups: b.groups,
            quorum,
        })
    }

    /// A flat policy: these logs, these cosigners (type 0x04 vkeys), and at least `quorum`
    /// of them must cosign (`quorum == 0` means none are required). Built through the text
    /// form so that it obeys exactly the rules a policy file does.
    pub fn new(
        logs: &[VerifierKey],
        cosigners: &[VerifierKey],
        quorum: usize,
    ) -> Result<TrustPolicy, PolicyError> {
        let mut text = String::new();
        for log in logs {
            let _ = writeln!(text, "log {log}");
        }
        for c in cosigners {
            let _ = writeln!(text, "witness {} {c}", c.name());
        }
        if quorum == 0 {
            text.push_str("quorum none\n");
        } else {
            let _ = write!(text, "group {THRESHOLD_GROUP} {quorum}");
            for c in cosigners {
                let _ = write!(text, " {}", c.name());
            }
            let _ = writeln!(text, "\nquorum {THRESHOLD_GROUP}");
        }
        Self::parse(text.as_bytes())
    }

    /// The canonical text form (numeric thresholds, definitions in dependency order).
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for l in &self.logs {
            let _ = write!(text, "log {}", l.key);
            if let Some(url) = &l.url {
                let _ = write!(text, " {url}");
            }
            text.push('\n');
        }
        for w in &self.witnesses {
            let _ = write!(text, "witness {} {}", w.name, w.key);
            if let Some(url) = &w.url {
                let _ = write!(text, " {url}");
            }
            text.push('\n');
        }
        for g in &self.groups {
            let _ = write!(text, "group {} {}", g.name, g.threshold);
            for m in &g.members {
                let _ = write!(text, " {}", self.member_name(*m));
            }
            text.push('\n');
        }
        let q = match self.quorum {
            Quorum::None => NONE,
            Quorum::Witness(i) => self.member_name(Member::Witness(i)),
            Quorum::Group(i) => self.member_name(Member::Group(i)),
        };
        let _ = writeln!(text, "quorum {q}");
        text
    }

    fn member_name(&self, m: Member) -> &str {
        match m {
            Member::Witness(i) => self.witnesses.get(i).map_or("", |w| w.name.as_str()),
            Member::Group(i) => self.groups.get(i).map_or("", |g| g.name.as_str()),
        }
    }

    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    pub fn groups(&self) -> &[PolicyGroup] {
        &self.groups
    }

    pub fn quorum(&self) -> Quorum {
        self.quorum
    }

    /// The log key whose name is `origin` (tlog-policy: the key name MUST be the origin).
    pub fn log_for_origin(&self, origin: &str) -> Option<&VerifierKey> {
        self.logs
            .iter()
            .map(|l| &l.key)
            .find(|k| k.name().as_str() == origin)
    }

    /// Checks the log signature with the policy's key for the checkpoint's origin.
    pub fn verify_log_signature(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<&VerifierKey, PolicyError> {
        let origin = &checkpoint.checkpoint().origin;
        let key = self
            .log_for_origin(origin)
            .ok_or_else(|| PolicyError::UnknownLog {
                origin: origin.chars().take(256).collect(),
            })?;
        checkpoint.verify(key).map_err(PolicyError::LogSignature)?;
        Ok(key)
    }

    /// Verifies every cosignature line from a policy witness and checks the quorum.
    /// A line from a known witness that fails to verify rejects the checkpoint (signed-note:
    /// a known key's bad signature SHOULD reject the whole note). Returns the verified
    /// cosignatures. Does not check the log signature.
    pub fn check_cosignatures(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<Vec<Cosignature>, PolicyError> {
        let mut satisfied = vec![false; self.witnesses.len()];
        let mut verified = Vec::new();
        for (i, w) in self.witnesses.iter().enumerate() {
            let lines = checkpoint
                .note()
                .signatures
                .iter()
                .filter(|s| s.key_id == w.key.key_id() && s.name == *w.key.name());
            for line in lines {
                let invalid = |source| PolicyError::InvalidCosignature {
                    witness: w.name.clone(),
                    source,
                };
                let cosig = Cosignature::from_note_signature(line).map_err(invalid)?;
                cosig
                    .verify(checkpoint.checkpoint(), &w.key)
                    .map_err(invalid)?;
                if !satisfied[i] {
                    satisfied[i] = true;
                    verified.push(cosig);
                }
            }
        }
        if !self.quorum_met(&satisfied) {
            return Err(PolicyError::QuorumNotMet {
                quorum: match self.quorum {
                    Quorum::None => NONE.to_owned(),
                    Quorum::Witness(i) => self.member_name(Member::Witness(i)).to_owned(),
                    Quorum::Group(i) => self.member_name(Member::Group(i)).to_owned(),
                },
                verified: verified.len(),
            });
        }
        Ok(verified)
    }

    /// Like [`TrustPolicy::check_cosignatures`], returning the key names of the
    /// cosigners that verified.
    pub fn verify_cosignatures(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<Vec<String>, PolicyError> {
        Ok(self
            .check_cosignatures(checkpoint)?
            .into_iter()
            .map(|c| c.name.into_string())
            .collect())
    }

    /// Log signature, then cosigner quorum.
    pub fn verify_checkpoint(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<VerifiedCheckpoint, PolicyError> {
        let log_key = self.verify_log_signature(checkpoint)?.clone();
        let cosignatures = self.check_cosignatures(checkpoint)?;
        Ok(VerifiedCheckpoint {
            log_key,
            cosignatures,
        })
    }

    /// Evaluates the quorum. Groups only reference earlier definitions, so one pass in
    /// definition order evaluates every group after its members (linear, no recursion).
    fn quorum_met(&self, witness_ok: &[bool]) -> bool {
        let mut group_ok = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let count = g
                .members
                .iter()
                .filter(|m| match **m {
                    Member::Witness(i) => witness_ok.get(i).copied().unwrap_or(false),
                    Member::Group(i) => group_ok.get(i).copied().unwrap_or(false),
                })
                .count();
            group_ok.push(count >= g.threshold);
        }
        match self.quorum {
            Quorum::None => true,
            Quorum::Witness(i) => witness_ok.get(i).copied().unwrap_or(false),
            Quorum::Group(i) => group_ok.get(i).copied().unwrap_or(false),
        }
    }
}
