//! `credx import` against a real node: a federation made by `credx init`, its national
//! node running in this process (RocksDB in a temp dir, the department API on loopback),
//! a department token from `credx token issue`, and real files — a CSV of penalties with
//! field codes and an XLSX of licences with the Chinese column names, each with bad rows.
//! Good rows are stored, bad rows are in the report with row, field and rule, and a
//! re-run sends nothing and leaves the node's content as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{credx, init_federation, ok, path_str};
use credx_node::config::Config;
use credx_node::daemon::Daemon;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;

const PENALTY_SUBJECT: &str = "93420222PDY0000366";
const LICENCE_SUBJECT: &str = "91420281PDY00001X0";
const LICENSING_AUTHORITY: &str = "11420281PDY000052Q";
const REGULATOR: &str = "11420222PDY000132X";

const PENALTY_HEADER: [&str; 19] = [
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_XDR_SHXYM",
    "CF_FRDB",
    "CF_WSH",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_NR_FK",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_GSJZQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
    "BZ",
];

fn penalty(wsh: &str, subject: &str, authority: &str) -> Vec<String> {
    [
        "阳新县示例农产品专业合作社",
        "法人及非法人组织",
        subject,
        "李示例",
        wsh,
        "销售不符合食品安全标准的食品（示例）",
        "……（示例）",
        "《中华人民共和国食品安全法》第X条（示例）",
        "警告;罚款",
        "警告，并处罚款人民币2万元",
        "2",
        "2026-05-11",
        "2026-06-10",
        "2027-05-11",
        "阳新县示例监管局",
        authority,
        "阳新县示例监管局",
        authority,
        "失信程度：一般",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// Rows 2, 3 and 7 are good; 4 has a bad subject USCC (E2), 5 no document number (E1),
/// 6 an authority the token does not cover (refused by the node: SCOPE).
fn write_penalties(path: &Path) {
    let other_authority = credx_node::synthetic::synthetic_uscc("11", "420222", 7).unwrap();
    let mut rows = vec![
        penalty("阳示罚〔2026〕45号", PENALTY_SUBJECT, REGULATOR),
        penalty("阳示罚〔2026〕46号", PENALTY_SUBJECT, REGULATOR),
        penalty("阳示罚〔2026〕47号", "93420222PDY0000367", REGULATOR),
        penalty("", PENALTY_SUBJECT, REGULATOR),
        penalty("阳示罚〔2026〕48号", PENALTY_SUBJECT, &other_authority),
        penalty("阳示罚〔2026〕49号", PENALTY_SUBJECT, REGULATOR),
    ];
    rows.insert(0, PENALTY_HEADER.iter().map(|s| (*s).to_owned()).collect());
    let mut writer = csv::Writer::from_path(path).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}

/// Chinese headers; rows 2 and 4 are good (row 2's decision date is a real date cell),
/// row 3 has an impossible decision date (E3).
fn write_licences(path: &Path) {
    let headers = [
        "行政相对人名称",
        "行政相对人类别",
        "行政相对人代码_1（统一社会信用代码）",
        "法定代表人",
        "行政许可决定文书名称",
        "行政许可决定文书号",
        "许可类别",
        "许可证书名称",
        "许可编号",
        "许可内容",
        "许可决定日期",
        "有效期自",
        "有效期至",
        "许可机关",
        "许可机关统一社会信用代码",
        "当前状态",
        "数据来源单位",
        "数据来源单位统一社会信用代码",
    ];
    let row = |wsh: &str, number: &str, date: &str| -> Vec<String> {
        [
            "大冶市示例建材有限公司",
            "法人及非法人组织",
            LICENCE_SUBJECT,
            "张示例",
            "准予行政许可决定书",
            wsh,
            "普通",
            "示例经营许可证",
            number,
            "准予从事建筑材料经营（示例）",
            date,
            "2026-03-02",
            "2031-03-01",
            "大冶市示例审批局",
            LICENSING_AUTHORITY,
            "1",
            "大冶市示例审批局",
            LICENSING_AUTHORITY,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };
    let rows = [
        row("冶示许字〔2026〕第18号", "SL4202812026000018", "DATE"),
        row("冶示许字〔2026〕第19号", "SL4202812026000019", "2026-13-45"),
        row("冶示许字〔2026〕第20号", "SL4202812026000020", "2026-03-02"),
    ];
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, cells) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            if cell == "DATE" {
                let date = ExcelDateTime::from_ymd(2026, 3, 2).unwrap();
                sheet
                    .write_datetime_with_format(r, c, &date, &date_format)
                    .unwrap();
            } else {
                sheet.write_string(r, c, cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// The report as (file name, row, field, rule, source) of its rejections.
fn rejections(report: &Path) -> Vec<(String, u64, String, String, String)> {
    let bytes = std::fs::read(report).unwrap();
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("report starts with a BOM");
    let mut reader = csv::Reader::from_reader(body);
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.unwrap();
        if &row[5] != "reject" {
            continue;
        }
        let file = Path::new(&row[0])
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.push((
            file,
            row[1].parse().unwrap(),
            row[2].to_owned(),
            row[4].to_owned(),
            row[6].to_owned(),
        ));
    }
    out.sort();
    out
}

/// What the node shows of a subject (shared view): business key → (versions, entry).
fn subject(node: &str, token: &Path, code: &str) -> Vec<(String, u64, String)> {
    let run = ok(&[
        "query",
        code,
        "--node",
        &format!("http://{node}"),
        "--token-file",
        &path_str(token),
        "--view",
        "shared",
        "--json",
    ]);
    let view: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut records: Vec<(String, u64, String)> = view["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["business_key"].as_str().unwrap().to_owned(),
                r["amendments"].as_u64().unwrap(),
                r["entry"].to_string(),
            )
        })
        .collect();
    records.sort();
    records
}

/// A national node made by `credx init`, running in this process, with a department
/// token from `credx token issue` covering both sample authorities.
struct RunningNode {
    runtime: tokio::runtime::Runtime,
    daemon: Daemon,
    http: String,
    token: std::path::PathBuf,
}

impl RunningNode {
    fn start(dir: &Path) -> RunningNode {
        let federation = dir.join("federation");
        let (config_path, http) = init_federation(&federation);
        let token = dir.join("dept.token");
        ok(&[
            "token",
            "issue",
            "--tokens",
            &path_str(&federation.join("nodes/cn.credx/tokens.json")),
            "--department",
            "示例市场监督管理局",
            "--authority",
            REGULATOR,
            "--authority",
            LICENSING_AUTHORITY,
            "--view",
            "public",
            "--view",
            "shared",
            "--out",
            &path_str(&token),
        ]);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = Config::load(&config_path).unwrap();
        let daemon = runtime.block_on(Daemon::start(config)).unwrap();
        RunningNode {
            runtime,
            daemon,
            http,
            token,
        }
    }

    fn stop(self) {
        self.runtime.block_on(self.daemon.shutdown());
    }
}

#[test]
fn imports_csv_and_xlsx_reports_bad_rows_and_resumes_without_resending() {
    let dir = tempfile::tempdir().unwrap();
    let running = RunningNode::start(dir.path());
    let (token, http) = (running.token.clone(), running.http.clone());

    let penalties = dir.path().join("penalties.csv");
    let licences = dir.path().join("licences.xlsx");
    write_penalties(&penalties);
    write_licences(&licences);
    let report = dir.path().join("errors.csv");
    let node = format!("http://{http}");
    let import = |files: &[&Path], batch: &str| {
        let mut args: Vec<String> = vec!["import".to_owned()];
        args.extend(files.iter().map(|f| path_str(f)));
        args.extend(
            [
                "--node",
                &node,
                "--token-file",
                &path_str(&token),
                "--report",
                &path_str(&report),
                "--batch",
                batch,
            ]
            .map(str::to_owned),
        );
        credx(&args)
    };

    // First the CSV alone, in batches of two rows.
    let first = import(&[&penalties], "2");
    assert_eq!(first.code, 1, "rows were rejected: exit code 1");
    assert!(
        first.stdout.contains("sent now: 4 rows"),
        "{}",
        first.stdout
    );
    assert!(dir.path().join("errors.state.json").exists());

    // Then both files: the CSV rows are skipped (state file), the XLSX rows sent.
    let second = import(&[&penalties, &licences], "5000");
    assert_eq!(second.code, 1);
    assert!(
        second.stdout.contains("sent now: 2 rows"),
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("5 stored (0 amendments), 4 rejected (3 locally, 1 by the node)"),
        "{}",
        second.stdout
    );
    let expected = vec![
        (
            "licences.xlsx".to_owned(),
            3,
            "XK_JDRQ".to_owned(),
            "E3".to_owned(),
            "local".to_owned(),
        ),
        (
            "penalties.csv".to_owned(),
            4,
            "CF_XDR_SHXYM".to_owned(),
            "E2".to_owned(),
            "local".to_owned(),
        ),
        (
            "penalties.csv".to_owned(),
            5,
            "CF_WSH".to_owned(),
            "E1".to_owned(),
            "local".to_owned(),
        ),
        (
            "penalties.csv".to_owned(),
            6,
            "CF_CFJGDM".to_owned(),
            "SCOPE".to_owned(),
            "node".to_owned(),
        ),
    ];
    assert_eq!(rejections(&report), expected);

    let node_addr = http.as_str();
    let penalties_held = subject(node_addr, &token, PENALTY_SUBJECT);
    let licences_held = subject(node_addr, &token, LICENCE_SUBJECT);
    assert_eq!(penalties_held.len(), 3, "{penalties_held:?}");
    assert_eq!(licences_held.len(), 2, "{licences_held:?}");
    assert!(penalties_held
        .iter()
        .all(|(_, amendments, _)| *amendments == 0));

    // A re-run sends nothing; the report and the node's content stay as they were.
    let third = import(&[&penalties, &licences], "5000");
    assert_eq!(third.code, 1);
    assert!(
        third.stdout.contains("sent now: 0 rows"),
        "{}",
        third.stdout
    );
    assert!(
        third.stdout.contains("sent by earlier runs: 6 rows"),
        "{}",
        third.stdout
    );
    assert_eq!(rejections(&report), expected);
    assert_eq!(subject(node_addr, &token, PENALTY_SUBJECT), penalties_held);
    assert_eq!(subject(node_addr, &token, LICENCE_SUBJECT), licences_held);

    // Without the state file the rows are sent again and become amendments, not copies.
    std::fs::remove_file(dir.path().join("errors.state.json")).unwrap();
    let fourth = import(&[&penalties], "5000");
    assert_eq!(fourth.code, 1);
    assert!(
        fourth.stdout.contains("3 stored (3 amendments)"),
        "{}",
        fourth.stdout
    );
    let amended = subject(node_addr, &token, PENALTY_SUBJECT);
    assert_eq!(amended.len(), 3);
    assert!(amended.iter().all(|(_, amendments, _)| *amendments == 1));

    // What only the node knew is in the report: the amendments (W2) of the re-sent rows.
    let report_text = std::fs::read_to_string(&report).unwrap();
    let w2_rows: Vec<&str> = report_text
        .lines()
        .filter(|l| l.contains(",W2,warn,node,"))
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(w2_rows, ["2", "3", "7"], "{report_text}");

    // The same node, read as people read it: a table, and the health of its (one-node) tree.
    let table = ok(&["query", PENALTY_SUBJECT, "--node", &node]);
    assert!(
        table.stdout.contains("阳示罚〔2026〕45号"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("published"), "{}", table.stdout);
    let tree = credx(&["status", "--tree", "--node", &node]);
    assert!(tree.stdout.contains("cn.credx"), "{}", tree.stdout);
    assert!(tree.stdout.contains("national"), "{}", tree.stdout);
    assert_eq!(tree.code, 0, "a lone national node is OK");

    running.stop();
}

#[test]
fn dry_run_and_refusals_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let penalties = dir.path().join("penalties.csv");
    write_penalties(&penalties);
    let report = dir.path().join("dry.csv");
    let dry = credx(&[
        "import",
        &path_str(&penalties),
        "--dry-run",
        "--report",
        &path_str(&report),
    ]);
    assert_eq!(dry.code, 1);
    assert!(
        dry.stdout.contains("4 would be sent, 2 rejected locally"),
        "{}",
        dry.stdout
    );
    assert_eq!(rejections(&report).len(), 2);

    // A node that is not there: exit 2, and the message names the address and the fix.
    let token = dir.path().join("t.token");
    std::fs::write(&token, format!("credx_{}", "ab".repeat(32))).unwrap();
    let port = common::free_tcp();
    let down = credx(&[
        "import",
        &path_str(&penalties),
        "--node",
        &format!("http://{port}"),
        "--token-file",
        &path_str(&token),
        "--report",
        &path_str(&dir.path().join("r.csv")),
        "--batch",
        "10000",
    ]);
    assert_eq!(down.code, 2);
    assert!(
        down.stderr.contains("cannot reach the node"),
        "{}",
        down.stderr
    );
    assert!(
        down.stderr.contains("run the same command again"),
        "{}",
        down.stderr
    );

    let not_a_template = dir.path().join("x.csv");
    std::fs::write(&not_a_template, "a,b\n1,2\n").unwrap();
    let bad = credx(&["import", &path_str(&not_a_template), "--dry-run"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("field code"), "{}", bad.stderr);
}

/// `credx import` killed (SIGKILL) in the middle of a file resumes where the state file
/// says it stopped: every row ends up stored once, and at most the one batch in flight at
/// the kill is sent twice (as amendments, not copies).
#[test]
fn a_killed_import_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let running = RunningNode::start(dir.path());
    let rows = 3000;
    let file = dir.path().join("many.csv");
    let mut writer = csv::Writer::from_path(&file).unwrap();
    writer.write_record(PENALTY_HEADER).unwrap();
    for i in 0..rows {
        writer
            .write_record(penalty(
                &format!("阳示罚〔2026〕{i}号"),
                PENALTY_SUBJECT,
                REGULATOR,
            ))
            .unwrap();
    }
    writer.flush().unwrap();
    let report = dir.path().join("many-errors.csv");
    let state = dir.path().join("many-errors.state.json");
    let node = format!("http://{}", running.http);
    let args = [
        "import".to_owned(),
        path_str(&file),
        "--node".to_owned(),
        node.clone(),
        "--token-file".to_owned(),
        path_str(&running.token),
        "--report".to_owned(),
        path_str(&report),
        "--batch".to_owned(),
        "30".to_owned(),
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_credx"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let batches_done = |path: &Path| -> usize {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .map_or(0, |v| {
                v["files"].as_object().map_or(0, |f| {
                    f.values()
                        .map(|x| x["batches"].as_array().map_or(0, Vec::len))
                        .sum()
                })
            })
    };
    while batches_done(&state) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no batch answered in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.try_wait().unwrap().is_none(), "killed before the end");
    child.kill().unwrap();
    child.wait().unwrap();
    let before_resume = batches_done(&state);
    assert!(before_resume < rows / 30, "{before_resume} batches");

    let resumed = credx(&args);
    assert_eq!(resumed.code, 0, "{}{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains(&format!(
            "sent by earlier runs: {} rows",
            before_resume * 30
        )),
        "{}",
        resumed.stdout
    );
    let held = subject(&running.http, &running.token, PENALTY_SUBJECT);
    assert_eq!(held.len(), rows, "every row stored once");
    let amended = held
        .iter()
        .filter(|(_, amendments, _)| *amendments > 0)
        .count();
    assert!(
        amended <= 30,
        "{amended} rows amended: more than the batch in flight"
    );
    running.stop();
}
