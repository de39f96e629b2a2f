//! The node's `/metrics` (OpenMetrics text) read into samples, and the sums the report
//! needs. Counters are exposed with the `_total` suffix; a metric name given without it
//! matches both spellings.

use std::collections::BTreeMap;

/// One sample line: `name{label="value",...} number`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// All samples of a scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Reads the text; lines that are not samples (comments, `# EOF`, garbage) are skipped.
    pub fn parse(text: &str) -> Scrape {
        Scrape {
            samples: text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(parse_line)
                .collect(),
        }
    }

    /// Samples of `metric` (or `metric_total`) whose labels include every `(key, value)`.
    pub fn matching<'a>(
        &'a self,
        metric: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            let name_ok = s.name == metric
                || s.name
                    .strip_prefix(metric)
                    .is_some_and(|rest| rest == "_total");
            name_ok
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
        })
    }

    /// Sum of the matching samples (0 when there is none).
    pub fn sum(&self, metric: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(metric, labels)
            .map(|s| s.value.max(0.0) as u64)
            .sum()
    }

    /// The matching sample's value, if there is exactly one.
    pub fn value(&self, metric: &str, labels: &[(&str, &str)]) -> Option<u64> {
        let mut found = self.matching(metric, labels);
        let first = found.next()?;
        found
            .next()
            .is_none()
            .then_some(first.value.max(0.0) as u64)
    }

    /// Whether the node exports `metric` at all.
    pub fn has(&self, metric: &str) -> bool {
        self.matching(metric, &[]).next().is_some()
    }
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    let name_end = line.find(['{', ' '])?;
    let name = line.get(..name_end)?.to_owned();
    let mut rest = line.get(name_end..)?;
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    // The value, then an optional timestamp.
    let value = rest.split_whitespace().next()?.parse::<f64>().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `key="value",...}` → labels and the text after `}`.
fn parse_labels(mut text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        text = text.trim_start_matches([',', ' ']);
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after_key) = text.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after_key.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.insert(key.trim().to_owned(), value);
        text = after_key.get(end + 1..)?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_counters_gauges_and_escaped_labels() {
        let text = "# HELP credx_sync_sessions Sync sessions\n\
                    # TYPE credx_sync_sessions counter\n\
                    credx_sync_sessions_total{role=\"upload\",result=\"ok\"} 12\n\
                    credx_sync_sessions_total{role=\"upload\",result=\"Timeout\"} 2\n\
                    credx_log_entries{origin=\"440106.credx\",role=\"mirror\"} 1001\n\
                    credx_roster_version 1\n\
                    credx_build_info{version=\"a \\\"b\\\"\",origin=\"x\"} 1\n\
                    # EOF\n";
        let scrape = Scrape::parse(text);
        assert_eq!(scrape.samples.len(), 5);
        assert_eq!(scrape.sum("credx_sync_sessions", &[("role", "upload")]), 14);
        assert_eq!(
            scrape.value("credx_sync_sessions", &[("result", "ok")]),
            Some(12)
        );
        assert_eq!(
            scrape.value(
                "credx_log_entries",
                &[("origin", "440106.credx"), ("role", "mirror")]
            ),
            Some(1001)
        );
        assert_eq!(scrape.value("credx_roster_version", &[]), Some(1));
        assert_eq!(scrape.samples[4].labels.get("version").unwrap(), "a \"b\"");
        assert!(!scrape.has("credx_sync_forks"));
        assert_eq!(scrape.sum("credx_log", &[]), 0);
    }
}
