//! `credx query CODE --node URL`: what a node holds about a subject (USCC or identity
//! number), in the public view or, with a token that allows it, the shared view.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::node_client::{read_token_file, NodeClient, NodeError};
use crate::text_table::{print_out, TextTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    /// 社会公开: ID numbers masked, withdrawn/repaired/expired records hidden.
    Public,
    /// 政务共享: everything (the token must allow it).
    Shared,
}

#[derive(Debug, Args)]
#[command(after_long_help = QUERY_HELP)]
pub struct QueryArgs {
    /// The subject: a USCC (18 characters) or a natural person's identity number.
    #[arg(value_name = "CODE")]
    pub code: String,
    /// The node's HTTP address (its listen_http), e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub node: String,
    /// Department token file; without it the public view is shown.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The view; default: the widest the token allows (public without a token).
    #[arg(long, value_enum)]
    pub view: Option<ViewArg>,
    /// 证件类型 of a person whose number is not a resident ID: 02..05.
    #[arg(long, value_name = "TYPE")]
    pub id_type: Option<String>,
    /// Print every field of every record under the table.
    #[arg(long)]
    pub fields: bool,
    /// Print the node's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
}

const QUERY_HELP: &str = "\
Examples:
  credx query 91420281PDY00001X0 --node http://127.0.0.1:8080
  credx query 91420281PDY00001X0 --node http://127.0.0.1:8080 --token-file dept.token --view shared --fields
  credx query 91420281PDY00001X0 --node http://127.0.0.1:8080 --json | jq .records

Exit codes: 0 answered (also when the node holds nothing about the subject); 2 the node
could not be asked or refused (unknown token, view not allowed, invalid code).";

pub fn run(args: &QueryArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("credx query: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &QueryArgs) -> Result<(), NodeError> {
    let token = args
        .token_file
        .as_deref()
        .map(read_token_file)
        .transpose()?;
    let client = NodeClient::new(&args.node, token)?;
    let mut query = Vec::new();
    if let Some(view) = args.view {
        query.push(format!(
            "view={}",
            match view {
                ViewArg::Public => "public",
                ViewArg::Shared => "shared",
            }
        ));
    }
    if let Some(t) = &args.id_type {
        query.push(format!("id_type={}", encode(t)));
    }
    let path = format!(
        "/v1/subjects/{}{}{}",
        encode(args.code.trim()),
        if query.is_empty() { "" } else { "?" },
        query.join("&")
    );
    let view: Value = client.get_json(&path, "the subject query")?;
    if args.json {
        print_out(&(serde_json::to_string_pretty(&view).unwrap_or_default() + "\n"));
    } else {
        print_out(&render(&view, args.fields));
    }
    Ok(())
}

/// Percent-encodes a path or query component (codes are ASCII; anything else is encoded).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    }
}

fn position(v: Option<&Value>) -> String {
    match v {
        Some(p) => format!("{}#{}", text(p, "origin"), text(p, "index")),
        None => "-".to_owned(),
    }
}

/// The subject view as text: a heading, the status, a table of records.
pub fn render(view: &Value, all_fields: bool) -> String {
    let subject = view.get("subject").cloned().unwrap_or(Value::Null);
    let records = view
        .get("records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name = records
        .iter()
        .filter_map(|r| r.get("fields"))
        .find_map(|f| {
            f.get("XK_XDR_MC")
                .or_else(|| f.get("CF_XDR_MC"))
                .and_then(Value::as_str)
        })
        .unwrap_or("");
    let mut out = format!(
        "{} {} ({}){}: {} view of {} as of {}\n",
        text(&subject, "kind"),
        text(&subject, "code"),
        name,
        match subject.get("id_type").and_then(Value::as_str) {
            Some(t) => format!(", 证件类型 {t}"),
            None => String::new(),
        },
        text(view, "view"),
        text(view, "origin"),
        text(view, "as_of")
    );
    match view.get("status").filter(|s| !s.is_null()) {
        None => out.push_str("status: nothing recorded in the status map\n"),
        Some(status) => {
            let listings = status
                .get("listings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let objections = status
                .get("open_objections")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            out.push_str(&format!(
                "status: {} listing(s), {objections} open objection(s)\n",
                listings.len()
            ));
            for l in &listings {
                let in_force = l.get("in_force").and_then(Value::as_bool) == Some(true);
                out.push_str(&format!(
                    "  {} since {} until {}{}  measures: {}\n",
                    text(l, "list_kind"),
                    text(l, "listed_on"),
                    text(l, "valid_until"),
                    if in_force {
                        " (in force)"
                    } else {
                        " (not in force)"
                    },
                    l.get("measures")
                        .and_then(Value::as_array)
                        .map(|m| m
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("; "))
                        .unwrap_or_default()
                ));
            }
        }
    }
    if records.is_empty() {
        out.push_str("no records in this view\n");
        return out;
    }
    let mut table = TextTable::new(&[
        "KIND",
        "BUSINESS KEY",
        "DECIDED",
        "STATE",
        "VERSIONS",
        "PUBLIC UNTIL",
        "SUBMITTED BY",
        "ENTRY",
    ]);
    for r in &records {
        let fields = r.get("fields").cloned().unwrap_or(Value::Null);
        let decided = fields
            .get("CF_JDRQ")
            .or_else(|| fields.get("XK_JDRQ"))
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned();
        let versions = r
            .get("amendments")
            .and_then(Value::as_u64)
            .map_or_else(|| "-".to_owned(), |a| (a + 1).to_string());
        table.push(vec![
            text(r, "kind"),
            text(r, "business_key"),
            decided,
            text(r, "state"),
            versions,
            text(r, "public_until"),
            text(r, "submitted_by"),
            position(r.get("entry")),
        ]);
    }
    out.push_str(&table.render());
    if view.get("truncated").and_then(Value::as_bool) == Some(true) {
        out.push_str("(truncated: the subject has more entries than one view reads)\n");
    }
    if all_fields {
        for r in &records {
            out.push_str(&format!(
                "\n{} {}\n",
                text(r, "kind"),
                text(r, "business_key")
            ));
            if let Some(Value::Object(fields)) = r.get("fields") {
                for (code, value) in fields {
                    let value = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    let zh = credx_protocol::record::fields::name_zh(code).unwrap_or("");
                    out.push_str(&format!("  {code:<14} {zh}: {value}\n"));
                }
            }
        }
    }
    out
}
