//! The federations `up` can start: every node with its origin, GB/T 2260 code, level and
//! parent. Origins are `<code>.credx`, the national node is `cn.credx`.

use credx_node::federation::{FederationError, NodeSpec};
use credx_protocol::roster::NodeLevel;

/// Origin of the national node.
pub const NATIONAL: &str = "cn.credx";

/// Which federation to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Topology {
    /// national → 2 provinces → 2 cities each → 2 counties each (15 nodes).
    Default,
    /// national → 1 province → 1 city → 1 county (4 nodes).
    Small,
}

impl Topology {
    pub fn name(self) -> &'static str {
        match self {
            Topology::Default => "default",
            Topology::Small => "small",
        }
    }

    /// The nodes, parents before children.
    pub fn nodes(self) -> Vec<NodePlan> {
        let tree: &[Province] = match self {
            Topology::Default => DEFAULT,
            Topology::Small => SMALL,
        };
        let mut nodes = vec![NodePlan {
            origin: NATIONAL.to_owned(),
            name: "全国",
            level: NodeLevel::National,
            parent: None,
            division: None,
        }];
        for province in tree {
            let province_origin = origin_of(province.code);
            nodes.push(NodePlan::division(
                province.code,
                province.name,
                NodeLevel::Province,
                NATIONAL,
            ));
            for city in province.cities {
                nodes.push(NodePlan::division(
                    city.code,
                    city.name,
                    NodeLevel::City,
                    &province_origin,
                ));
                let city_origin = origin_of(city.code);
                for (code, name) in city.counties {
                    nodes.push(NodePlan::division(
                        code,
                        name,
                        NodeLevel::County,
                        &city_origin,
                    ));
                }
            }
        }
        nodes
    }
}

/// One node to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    pub origin: String,
    /// Chinese name of the division (全国 for the national node).
    pub name: &'static str,
    pub level: NodeLevel,
    pub parent: Option<String>,
    /// The six-digit GB/T 2260 code; none for the national node.
    pub division: Option<&'static str>,
}

impl NodePlan {
    fn division(code: &'static str, name: &'static str, level: NodeLevel, parent: &str) -> Self {
        NodePlan {
            origin: origin_of(code),
            name,
            level,
            parent: Some(parent.to_owned()),
            division: Some(code),
        }
    }

    /// The roster line's layout for this node.
    pub fn spec(&self) -> Result<NodeSpec, FederationError> {
        match (&self.parent, self.division) {
            (Some(parent), Some(code)) => {
                NodeSpec::division(&self.origin, self.level, parent, code)
            }
            _ => Ok(NodeSpec::national(&self.origin)),
        }
    }
}

/// `<code>.credx`.
pub fn origin_of(code: &str) -> String {
    format!("{code}.credx")
}

struct Province {
    code: &'static str,
    name: &'static str,
    cities: &'static [City],
}

struct City {
    code: &'static str,
    name: &'static str,
    counties: &'static [(&'static str, &'static str)],
}

const DEFAULT: &[Province] = &[
    Province {
        code: "440000",
        name: "广东省",
        cities: &[
            City {
                code: "440100",
                name: "广州市",
                counties: &[("440106", "天河区"), ("440104", "越秀区")],
            },
            City {
                code: "440300",
                name: "深圳市",
                counties: &[("440304", "福田区"), ("440305", "南山区")],
            },
        ],
    },
    Province {
        code: "420000",
        name: "湖北省",
        cities: &[
            City {
                code: "420100",
                name: "武汉市",
                counties: &[("420102", "江岸区"), ("420103", "江汉区")],
            },
            City {
                code: "420200",
                name: "黄石市",
                counties: &[("420202", "黄石港区"), ("420281", "大冶市")],
            },
        ],
    },
];

const SMALL: &[Province] = &[Province {
    code: "440000",
    name: "广东省",
    cities: &[City {
        code: "440100",
        name: "广州市",
        counties: &[("440106", "天河区")],
    }],
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_fifteen_nodes_with_parents_first() {
        let nodes = Topology::Default.nodes();
        assert_eq!(nodes.len(), 15);
        let counties = nodes
            .iter()
            .filter(|n| n.level == NodeLevel::County)
            .count();
        assert_eq!(counties, 8);
        for (i, node) in nodes.iter().enumerate() {
            if let Some(parent) = &node.parent {
                assert!(nodes[..i].iter().any(|p| &p.origin == parent), "{node:?}");
                let parent_code = parent.trim_end_matches(".credx");
                let code = node.division.unwrap_or_default();
                if parent != NATIONAL {
                    // A division lies inside its parent's: same province (and city) digits.
                    let digits = if node.level == NodeLevel::County {
                        4
                    } else {
                        2
                    };
                    assert_eq!(code.get(..digits), parent_code.get(..digits), "{node:?}");
                }
            }
            assert!(node.spec().is_ok(), "{node:?}");
        }
    }

    #[test]
    fn small_is_one_chain() {
        let origins: Vec<String> = Topology::Small
            .nodes()
            .into_iter()
            .map(|n| n.origin)
            .collect();
        assert_eq!(
            origins,
            ["cn.credx", "440000.credx", "440100.credx", "440106.credx"]
        );
    }
}
