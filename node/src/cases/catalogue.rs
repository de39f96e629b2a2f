//! The measures catalogue (全国失信惩戒措施基础清单 and the reward measures) by edition.
//!
//! A case names the edition it was checked against and carries each measure's text and
//! legal basis, so a responder reads what was decided without holding the catalogue, and a
//! later edition never changes an old case. Only measures of the named edition may be
//! applied (2021/2022/2024 基础清单: "only measures in the list may be applied").

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use credx_protocol::entry::{CaseKind, MeasureRef};
use serde::Deserialize;

/// The editions shipped with this node.
const EMBEDDED: &str = include_str!("catalogue.json");

/// Why a measure list could not be resolved against the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue edition {edition:?} is not known to this node (it has {known})")]
    UnknownEdition { edition: String, known: String },
    #[error("measure {code:?} is not in the {edition} edition of the measures catalogue (基础清单); only measures of the named edition may be applied")]
    MeasureNotInEdition { code: String, edition: String },
    #[error("measure {code:?} of the {edition} edition is a {measure_kind} measure and cannot be applied in a {case_kind} case")]
    WrongKind {
        code: String,
        edition: String,
        measure_kind: &'static str,
        case_kind: &'static str,
    },
    #[error("measure {code:?} is named twice")]
    Duplicate { code: String },
    #[error("a case applies at least one measure")]
    NoMeasures,
    #[error("the embedded measures catalogue is invalid: {0}")]
    Embedded(String),
}

/// One measure of an edition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueMeasure {
    pub code: String,
    pub kind: MeasureKind,
    pub text: String,
    pub legal_basis: String,
}

/// Whether a measure punishes (惩戒) or rewards (激励).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    Punishment,
    Reward,
}

impl MeasureKind {
    pub fn of(kind: CaseKind) -> MeasureKind {
        match kind {
            CaseKind::Punishment => MeasureKind::Punishment,
            CaseKind::Reward => MeasureKind::Reward,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureKind::Punishment => "punishment",
            MeasureKind::Reward => "reward",
        }
    }
}

/// One edition (e.g. `2024`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edition {
    pub edition: String,
    pub title: String,
    pub measures: Vec<CatalogueMeasure>,
}

#[derive(Debug, Deserialize)]
struct CatalogueFile {
    #[allow(dead_code)]
    note: String,
    editions: Vec<Edition>,
}

/// Every edition, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    editions: BTreeMap<String, Edition>,
}

impl Catalogue {
    /// Parses a catalogue document; codes must be unique within an edition.
    pub fn parse(json: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile =
            serde_json::from_str(json).map_err(|e| CatalogueError::Embedded(e.to_string()))?;
        let mut editions = BTreeMap::new();
        for edition in file.editions {
            let mut codes = BTreeSet::new();
            for m in &edition.measures {
                if !codes.insert(m.code.as_str()) {
                    return Err(CatalogueError::Embedded(format!(
                        "measure {} twice in edition {}",
                        m.code, edition.edition
                    )));
                }
            }
            editions.insert(edition.edition.clone(), edition);
        }
        Ok(Catalogue { editions })
    }

    /// The editions shipped with this node (parsed once).
    pub fn embedded() -> Result<&'static Catalogue, CatalogueError> {
        static CATALOGUE: OnceLock<Result<Catalogue, CatalogueError>> = OnceLock::new();
        CATALOGUE
            .get_or_init(|| Catalogue::parse(EMBEDDED))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn edition(&self, name: &str) -> Result<&Edition, CatalogueError> {
        self.editions
            .get(name)
            .ok_or_else(|| CatalogueError::UnknownEdition {
                edition: name.to_owned(),
                known: self.editions.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    /// The measures `codes` of `edition` for a case of `kind`, with text and legal basis,
    /// in the order given. The first code that is unknown, repeated or of the other kind
    /// is named in the error.
    pub fn resolve(
        &self,
        edition: &str,
        kind: CaseKind,
        codes: &[String],
    ) -> Result<Vec<MeasureRef>, CatalogueError> {
        let found = self.edition(edition)?;
        if codes.is_empty() {
            return Err(CatalogueError::NoMeasures);
        }
        let wanted = MeasureKind::of(kind);
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            let code = code.trim();
            if !seen.insert(code) {
                return Err(CatalogueError::Duplicate {
                    code: code.to_owned(),
                });
            }
            let measure = found
                .measures
                .iter()
                .find(|m| m.code == code)
                .ok_or_else(|| CatalogueError::MeasureNotInEdition {
                    code: code.to_owned(),
                    edition: edition.to_owned(),
                })?;
            if measure.kind != wanted {
                return Err(CatalogueError::WrongKind {
                    code: code.to_owned(),
                    edition: edition.to_owned(),
                    measure_kind: measure.kind.as_str(),
                    case_kind: wanted.as_str(),
                });
            }
            out.push(MeasureRef {
                code: measure.code.clone(),
                text: measure.text.clone(),
                legal_basis: measure.legal_basis.clone(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn embedded_editions_parse_and_resolve() {
        let catalogue = Catalogue::embedded().unwrap();
        let measures = catalogue
            .resolve(
                "2024",
                CaseKind::Punishment,
                &["CJ01".into(), "CJ08".into()],
            )
            .unwrap();
        assert_eq!(measures[0].code, "CJ01");
        assert!(measures[0].legal_basis.contains("政府采购法"));
        assert_eq!(
            catalogue.resolve("2024", CaseKind::Punishment, &["CJ07".into()]),
            Err(CatalogueError::MeasureNotInEdition {
                code: "CJ07".into(),
                edition: "2024".into()
            })
        );
        assert!(catalogue
            .resolve("2021", CaseKind::Punishment, &["CJ07".into()])
            .is_ok());
        assert!(matches!(
            catalogue.resolve("2024", CaseKind::Reward, &["CJ01".into()]),
            Err(CatalogueError::WrongKind { .. })
        ));
        assert!(matches!(
            catalogue.resolve("2019", CaseKind::Reward, &["JL01".into()]),
            Err(CatalogueError::UnknownEdition { .. })
        ));
    }
}
