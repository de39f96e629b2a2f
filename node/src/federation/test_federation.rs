//! A whole federation's credentials in memory: trust root, CA, every node's keys and
//! certificate, and a signed roster valid for a day. For integration tests and the
//! testnet; real keys and certificates, nothing mocked.
//!
//! ```text
//! let fed = TestFederation::three_level()?;
//! let county = fed.node(three_level::COUNTY)?;       // &NodeCredentials
//! let roster = fed.roster();                          // &VerifiedRoster
//! let evil = fed.foreign()?;                          // same origins, another root and CA
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use credx_protocol::roster::{
    JurisdictionSpec, NodeLevel, RosterNode, SignedRoster, VerifiedRoster,
};

use super::credentials::NodeCredentials;
use super::error::FederationError;
use super::files::Overwrite;
use super::names::parse_jurisdiction;
use super::roster_file::{sign_roster, unix_now, RosterFile};
use super::trust_root::TrustRoot;
use crate::transport::{FederationRoots, Validity};

/// The origins of [`TestFederation::three_level`]: 广东省 → 广州市 → 天河区 under the
/// national node, with their GB/T 2260 codes as jurisdictions.
pub mod three_level {
    /// Federation name.
    pub const FEDERATION: &str = "credx-test";
    /// National node (jurisdiction `national`).
    pub const NATIONAL: &str = "cn.credx";
    /// 广东省, `div:440000`.
    pub const PROVINCE: &str = "440000.credx";
    /// 广州市, `div:440100`.
    pub const CITY: &str = "440100.credx";
    /// 天河区, `div:440106`.
    pub const COUNTY: &str = "440106.credx";
}

/// One node of a test federation: where it sits and what it may publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    pub origin: String,
    pub level: NodeLevel,
    pub parent: Option<String>,
    pub jurisdiction: Vec<JurisdictionSpec>,
}

impl NodeSpec {
    pub fn new(
        origin: &str,
        level: NodeLevel,
        parent: Option<&str>,
        jurisdiction: Vec<JurisdictionSpec>,
    ) -> NodeSpec {
        NodeSpec {
            origin: origin.to_owned(),
            level,
            parent: parent.map(str::to_owned),
            jurisdiction,
        }
    }

    /// The national node, jurisdiction `national`.
    pub fn national(origin: &str) -> NodeSpec {
        NodeSpec::new(
            origin,
            NodeLevel::National,
            None,
            vec![JurisdictionSpec::Division(
                credx_protocol::ident::Jurisdiction::National,
            )],
        )
    }

    /// A node whose jurisdiction is one division, e.g.
    /// `NodeSpec::division("440106.credx", NodeLevel::County, "440100.credx", "440106")`.
    pub fn division(
        origin: &str,
        level: NodeLevel,
        parent: &str,
        code: &str,
    ) -> Result<NodeSpec, FederationError> {
        let item =
            parse_jurisdiction(&format!("div:{code}")).map_err(|reason| FederationError::Node {
                origin: origin.to_owned(),
                reason: format!("bad jurisdiction: {reason}"),
            })?;
        Ok(NodeSpec::new(origin, level, Some(parent), vec![item]))
    }
}

/// Trust root, CA, node credentials and a signed, verified roster, all in memory.
#[derive(Debug)]
pub struct TestFederation {
    root: TrustRoot,
    specs: Vec<NodeSpec>,
    nodes: BTreeMap<String, NodeCredentials>,
    signed: SignedRoster,
    verified: VerifiedRoster,
}

impl TestFederation {
    /// How long the roster of a test federation is valid.
    pub const ROSTER_VALIDITY: Duration = Duration::from_secs(24 * 3600);
    /// How long its node certificates are valid.
    pub const CERTIFICATE_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);

    /// The federation `credx-test` with `nodes` (one of them national), roster version 1
    /// issued now and valid for [`TestFederation::ROSTER_VALIDITY`].
    pub fn build(nodes: &[NodeSpec]) -> Result<TestFederation, FederationError> {
        Self::build_named(three_level::FEDERATION, nodes)
    }

    /// Like [`TestFederation::build`] with another federation name.
    pub fn build_named(
        federation: &str,
        nodes: &[NodeSpec],
    ) -> Result<TestFederation, FederationError> {
        let root = TrustRoot::generate(federation)?;
        let validity = Validity::from_now(Self::CERTIFICATE_VALIDITY);
        let mut credentials = BTreeMap::new();
        for spec in nodes {
            let issued = NodeCredentials::issue(&root, &spec.origin, validity)?;
            if credentials.insert(spec.origin.clone(), issued).is_some() {
                return Err(FederationError::Node {
                    origin: spec.origin.clone(),
                    reason: "listed twice in the federation spec".to_owned(),
                });
            }
        }
        let now = unix_now();
        let roster_nodes = roster_nodes(nodes, &credentials)?;
        let expires = now.saturating_add(Self::ROSTER_VALIDITY.as_secs());
        let signed = sign_roster(&root, federation, 1, now, expires, roster_nodes)?;
        let verified = signed
            .verify(&root.root_vkey(), now)
            .map_err(|e| FederationError::RosterRules(Box::new(e)))?;
        Ok(TestFederation {
            root,
            specs: nodes.to_vec(),
            nodes: credentials,
            signed,
            verified,
        })
    }

    /// The specs of [`TestFederation::three_level`].
    pub fn three_level_specs() -> Result<Vec<NodeSpec>, FederationError> {
        use three_level::{CITY, COUNTY, NATIONAL, PROVINCE};
        Ok(vec![
            NodeSpec::national(NATIONAL),
            NodeSpec::division(PROVINCE, NodeLevel::Province, NATIONAL, "440000")?,
            NodeSpec::division(CITY, NodeLevel::City, PROVINCE, "440100")?,
            NodeSpec::division(COUNTY, NodeLevel::County, CITY, "440106")?,
        ])
    }

    /// County 天河区 `440106.credx` → city 广州市 `440100.credx` → province 广东省
    /// `440000.credx` → national `cn.credx` (see [`three_level`]).
    pub fn three_level() -> Result<TestFederation, FederationError> {
        Self::build(&Self::three_level_specs()?)
    }

    /// Another federation with the same name and origins but its own trust root and CA:
    /// its certificates fail this federation's TLS verification and its rosters fail this
    /// root's signature check, which is what negative tests need.
    pub fn foreign(&self) -> Result<TestFederation, FederationError> {
        Self::build_named(self.federation(), &self.specs)
    }

    pub fn federation(&self) -> &str {
        self.root.federation()
    }

    /// The trust root (roster key and CA).
    pub fn root(&self) -> &TrustRoot {
        &self.root
    }

    /// The transport trust anchors of this federation.
    pub fn roots(&self) -> Result<FederationRoots, FederationError> {
        self.root.roots()
    }

    /// The credentials of `origin`.
    pub fn node(&self, origin: &str) -> Result<&NodeCredentials, FederationError> {
        self.nodes.get(origin).ok_or_else(|| FederationError::Node {
            origin: origin.to_owned(),
            reason: format!(
                "not in this test federation (it has {})",
                self.nodes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// Every node's credentials, sorted by origin.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeCredentials> {
        self.nodes.values()
    }

    /// The layout the federation was built from.
    pub fn specs(&self) -> &[NodeSpec] {
        &self.specs
    }

    /// The roster, verified against the root.
    pub fn roster(&self) -> &VerifiedRoster {
        &self.verified
    }

    /// The signed roster, as `RosterOffer` carries it.
    pub fn signed_roster(&self) -> &SignedRoster {
        &self.signed
    }

    /// The roster's node lines.
    pub fn roster_nodes(&self) -> Result<Vec<RosterNode>, FederationError> {
        roster_nodes(&self.specs, &self.nodes)
    }

    /// Signs another roster of the same nodes with other dates or version: for update,
    /// rollback and expiry tests.
    pub fn sign_roster(
        &self,
        version: u64,
        issued_at: u64,
        expires_at: u64,
    ) -> Result<SignedRoster, FederationError> {
        sign_roster(
            &self.root,
            self.federation(),
            version,
            issued_at,
            expires_at,
            self.roster_nodes()?,
        )
    }

    /// Writes everything as the command line would lay it out: `dir/root/` (trust root),
    /// `dir/nodes/<origin>/` (credentials) and `dir/roster.note`.
    pub fn save(&self, dir: &Path, overwrite: Overwrite) -> Result<(), FederationError> {
        self.root.save(&dir.join("root"), overwrite)?;
        for (origin, credentials) in &self.nodes {
            credentials.save(&dir.join("nodes").join(origin), overwrite)?;
        }
        RosterFile::new(dir.join(RosterFile::FILE_NAME)).save(&self.signed, overwrite)
    }
}

fn roster_nodes(
    specs: &[NodeSpec],
    credentials: &BTreeMap<String, NodeCredentials>,
) -> Result<Vec<RosterNode>, FederationError> {
    specs
        .iter()
        .map(|spec| {
            let node = credentials
                .get(&spec.origin)
                .ok_or_else(|| FederationError::Node {
                    origin: spec.origin.clone(),
                    reason: "has no credentials".to_owned(),
                })?;
            Ok(node.roster_node(
                spec.level,
                spec.parent.as_deref(),
                spec.jurisdiction.clone(),
            ))
        })
        .collect()
}
