//! The credit report of a subject: the subject view with a summary and the node's latest
//! signed checkpoint, as JSON and as a printable HTML page (inline CSS, no external assets,
//! every text escaped).

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::state::ApiState;
use super::tokens::View;
use super::views::{RecordState, RecordView, SubjectView};

/// Counts over the records shown.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ReportSummary {
    pub records: usize,
    pub licences: usize,
    pub penalties: usize,
    pub list_entries: usize,
    pub commitments: usize,
    /// Shared view only: records withdrawn or repaired (the public view never shows them).
    pub withdrawn_or_repaired: usize,
    /// Listings whose measures apply today.
    pub listings_in_force: usize,
    pub open_objections: usize,
}

/// The log state the report was drawn from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportCheckpoint {
    pub origin: String,
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
}

/// A credit report (信用报告) of one subject.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreditReport {
    pub title: String,
    /// RFC 3339, China Standard Time.
    pub generated_at: String,
    pub summary: ReportSummary,
    /// The latest signed checkpoint of this node's own log when the report was made.
    pub checkpoint: Option<ReportCheckpoint>,
    pub notice: String,
    pub subject_view: SubjectView,
}

/// Builds the report (blocking: reads storage).
pub(crate) fn credit_report(state: &ApiState, view: SubjectView) -> Result<CreditReport, ApiError> {
    let checkpoint = state
        .store
        .latest_signed_checkpoint(&state.origin)?
        .map(|c| {
            let cp = c.checkpoint();
            ReportCheckpoint {
                origin: cp.origin.clone(),
                size: cp.size,
                root: cp.root.to_hex(),
            }
        });
    let now: DateTime<FixedOffset> = state.now_china();
    let mut summary = ReportSummary {
        records: view.records.len(),
        ..ReportSummary::default()
    };
    for r in &view.records {
        match r.kind.as_str() {
            "licence" => summary.licences += 1,
            "penalty" => summary.penalties += 1,
            "list entry" => summary.list_entries += 1,
            _ => summary.commitments += 1,
        }
        if r.state != RecordState::Published {
            summary.withdrawn_or_repaired += 1;
        }
    }
    if let Some(status) = &view.status {
        summary.listings_in_force = status.listings.iter().filter(|l| l.in_force).count();
        summary.open_objections = status.open_objections.len();
    }
    let notice = match view.view {
        View::Public => "公开版：仅含公示期内的信息，自然人证件号码已脱敏。Public view: only information within its publication period; personal ID numbers masked.",
        View::Shared => "共享版：含全部信息（含已撤回、已修复及超过公示期的信息），仅限政务共享使用。Shared view: all information, for authorised government use only.",
    };
    Ok(CreditReport {
        title: format!(
            "公共信用信息报告 / Public credit information report: {}",
            view.subject.code
        ),
        generated_at: now.to_rfc3339(),
        summary,
        checkpoint,
        notice: notice.to_owned(),
        subject_view: view,
    })
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;margin:2em;color:#111}\
h1{font-size:1.4em;border-bottom:2px solid #333;padding-bottom:.3em}h2{font-size:1.1em;margin-top:1.6em}\
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.9em}th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#eee;width:22%}.notice{border:1px solid #c90;background:#fff8e5;padding:.5em}.meta{color:#555;font-size:.85em}\
.record{page-break-inside:avoid;margin-bottom:1.2em}@media print{body{margin:0}.notice{background:none}}";

/// Renders the report as a self-contained printable page.
pub fn render_html(report: &CreditReport) -> String {
    let v = &report.subject_view;
    let mut h = String::with_capacity(8 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&report.title)
    );
    let _ = write!(h, "<h1>{}</h1>", escape(&report.title));
    let _ = write!(h, "<p class=\"notice\">{}</p>", escape(&report.notice));
    h.push_str("<table>");
    row(&mut h, "主体类别 Subject kind", &v.subject.kind);
    row(&mut h, "主体代码 Code", &v.subject.code);
    if let Some(t) = &v.subject.id_type {
        row(&mut h, "证件类型 ID type", t);
    }
    row(&mut h, "出具节点 Node", &v.origin);
    row(&mut h, "视图 View", v.view.as_str());
    row(&mut h, "截至 As of", &v.as_of.to_string());
    row(&mut h, "生成时间 Generated", &report.generated_at);
    if let Some(cp) = &report.checkpoint {
        row(
            &mut h,
            "日志检查点 Checkpoint",
            &format!("{} size {} root {}", cp.origin, cp.size, cp.root),
        );
    }
    h.push_str("</table>");

    let s = &report.summary;
    h.push_str("<h2>概况 Summary</h2><table>");
    row(&mut h, "信息条数 Records", &s.records.to_string());
    row(&mut h, "行政许可 Licences", &s.licences.to_string());
    row(&mut h, "行政处罚 Penalties", &s.penalties.to_string());
    row(&mut h, "名单 List entries", &s.list_entries.to_string());
    row(&mut h, "信用承诺 Commitments", &s.commitments.to_string());
    row(
        &mut h,
        "生效名单 Listings in force",
        &s.listings_in_force.to_string(),
    );
    row(
        &mut h,
        "异议中 Open objections",
        &s.open_objections.to_string(),
    );
    if v.view == View::Shared {
        row(
            &mut h,
            "已撤回/已修复 Withdrawn or repaired",
            &s.withdrawn_or_repaired.to_string(),
        );
    }
    h.push_str("</table>");

    if let Some(status) = &v.status {
        if !status.listings.is_empty() {
            h.push_str("<h2>名单状态 Listings</h2><table><tr><th>名单</th><th>列入日期</th><th>有效期至</th><th>措施</th><th>状态</th></tr>");
            for l in &status.listings {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&l.list_kind),
                    l.listed_on,
                    l.valid_until
                        .map_or_else(|| "—".to_owned(), |d| d.to_string()),
                    escape(&l.measures.join(", ")),
                    if l.suspended {
                        "异议期间暂停 suspended"
                    } else if l.in_force {
                        "生效 in force"
                    } else {
                        "未生效 not in force"
                    }
                );
            }
            h.push_str("</table>");
        }
    }

    h.push_str("<h2>信息明细 Records</h2>");
    if v.records.is_empty() {
        h.push_str("<p>无 None.</p>");
    }
    for r in &v.records {
        record_html(&mut h, r);
    }
    if v.truncated {
        h.push_str("<p class=\"notice\">记录过多，仅列出最近的部分。Too many entries: only the most recent are listed.</p>");
    }
    h.push_str("</body></html>");
    h
}

fn row(h: &mut String, label: &str, value: &str) {
    let _ = write!(
        h,
        "<tr><th>{}</th><td>{}</td></tr>",
        escape(label),
        escape(value)
    );
}

fn record_html(h: &mut String, r: &RecordView) {
    let _ = write!(
        h,
        "<div class=\"record\"><h3>{} — {}</h3><p class=\"meta\">entry {}#{} · submitted by {} · amendments {} · {}{}</p><table>",
        escape(&r.kind),
        escape(&r.business_key),
        escape(&r.entry.origin),
        r.entry.index,
        escape(&r.submitted_by),
        r.amendments,
        match r.state {
            RecordState::Published => "公示中 published",
            RecordState::Withdrawn => "已撤回 withdrawn",
            RecordState::Repaired => "已修复 repaired",
        },
        r.public_until
            .map_or_else(String::new, |d| format!(" · 公示截止 {d}")),
    );
    if let Some(w) = &r.withdrawal {
        row(h, "撤回原因 Withdrawal reason", &w.reason);
    }
    if let Some(map) = r.fields.as_object() {
        for (code, value) in map {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let label = match credx_protocol::record::fields::name_zh(code) {
                Some(name) => format!("{name} {code}"),
                None => code.clone(),
            };
            row(h, &label, &text);
        }
    }
    h.push_str("</table></div>");
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
