//! Headless Chromium for the dashboard's browser tests: the page is loaded from a node,
//! its JavaScript runs against that node, and the DOM or a screenshot comes back.
//!
//! Uses Debian's `chromium` (installed by `scripts/build-deps.sh`) with the flags this
//! machine kind needs: run as root without the sandbox, no GPU, no QUIC, and nothing that
//! reaches out to Google's hosts. Every run gets a fresh profile directory. Timers run on
//! virtual time (`--virtual-time-budget`), so a 2-second poll loop runs several times in a
//! fraction of that without sleeping.
//!
//! Missing Chromium is an error that says what to install; a developer without it skips
//! the browser tests with `CREDX_SKIP_BROWSER=1` (CI never sets it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Set to `1` to skip the browser tests on a machine without Chromium.
pub const SKIP_ENV: &str = "CREDX_SKIP_BROWSER";
/// Overrides the Chromium executable.
pub const BIN_ENV: &str = "CREDX_CHROMIUM";

/// The executables looked for on `PATH`, in order.
const CANDIDATES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// Longest a single Chromium run may take (wall clock) before it is killed.
const RUN_LIMIT: Duration = Duration::from_secs(90);

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "no Chromium found ({BIN_ENV} unset; none of {CANDIDATES:?} on PATH): install Debian's \
         `chromium` package (`apt-get install chromium`, as scripts/build-deps.sh does), or set \
         {SKIP_ENV}=1 to skip the browser tests on this machine"
    )]
    NotInstalled,
    #[error("{BIN_ENV}={path} is not an executable file")]
    BadOverride { path: PathBuf },
    #[error("cannot run {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("chromium {action} of {url} exited with {status}; stderr tail:\n{stderr}")]
    Failed {
        action: &'static str,
        url: String,
        status: String,
        stderr: String,
    },
    #[error("chromium {action} of {url} did not finish within {limit:?}; killed")]
    Timeout {
        action: &'static str,
        url: String,
        limit: Duration,
    },
    #[error("chromium {action} of {url} produced no output")]
    NoOutput { action: &'static str, url: String },
}

/// Whether the developer asked to skip browser tests (`CREDX_SKIP_BROWSER=1`).
pub fn skip_requested() -> bool {
    std::env::var_os(SKIP_ENV).is_some_and(|v| v == "1")
}

/// A Chromium executable.
#[derive(Debug, Clone)]
pub struct Chromium {
    bin: PathBuf,
}

impl Chromium {
    /// `CREDX_CHROMIUM`, else the first of `chromium`, `chromium-browser`, `google-chrome`
    /// on `PATH`.
    pub fn find() -> Result<Chromium, BrowserError> {
        if let Some(path) = std::env::var_os(BIN_ENV) {
            let path = PathBuf::from(path);
            return if path.is_file() {
                Ok(Chromium { bin: path })
            } else {
                Err(BrowserError::BadOverride { path })
            };
        }
        let dirs = std::env::var_os("PATH").unwrap_or_default();
        CANDIDATES
            .iter()
            .flat_map(|name| std::env::split_paths(&dirs).map(move |dir| dir.join(name)))
            .find(|path| path.is_file())
            .map(|bin| Chromium { bin })
            .ok_or(BrowserError::NotInstalled)
    }

    /// For a browser test: `None` when the developer set `CREDX_SKIP_BROWSER=1` (said on
    /// stderr), else [`Chromium::find`]; a missing Chromium is an error, never a skip.
    pub fn for_tests() -> Result<Option<Chromium>, BrowserError> {
        if skip_requested() {
            eprintln!("{SKIP_ENV}=1: browser test skipped");
            return Ok(None);
        }
        Chromium::find().map(Some)
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The DOM of `url` after its scripts ran for `budget` of virtual time, serialised.
    pub fn dump_dom(&self, url: &str, budget: Duration) -> Result<String, BrowserError> {
        let run = self.run("dump-dom", url, budget, &["--dump-dom".to_owned()])?;
        let dom = String::from_utf8_lossy(&run.stdout).into_owned();
        if dom.trim().is_empty() {
            return Err(BrowserError::NoOutput {
                action: "dump-dom",
                url: url.to_owned(),
            });
        }
        Ok(dom)
    }

    /// A PNG of `url` at 1400×1000 after its scripts ran for `budget` of virtual time.
    pub fn screenshot(&self, url: &str, budget: Duration, png: &Path) -> Result<(), BrowserError> {
        self.screenshot_window(url, budget, png, (1400, 1000))
    }

    /// [`Chromium::screenshot`] with a window of `(width, height)` pixels (a tall one shows
    /// the whole page).
    pub fn screenshot_window(
        &self,
        url: &str,
        budget: Duration,
        png: &Path,
        (width, height): (u32, u32),
    ) -> Result<(), BrowserError> {
        if let Some(dir) = png.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("mkdir {}", dir.display())))?;
        }
        let _ = std::fs::remove_file(png);
        self.run(
            "screenshot",
            url,
            budget,
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size={width},{height}"),
                "--hide-scrollbars".to_owned(),
            ],
        )?;
        if png.is_file() {
            Ok(())
        } else {
            Err(BrowserError::NoOutput {
                action: "screenshot",
                url: url.to_owned(),
            })
        }
    }

    fn run(
        &self,
        action: &'static str,
        url: &str,
        budget: Duration,
        extra: &[String],
    ) -> Result<RunOutput, BrowserError> {
        let profile = ScratchDir::new()?;
        let stdout_path = profile.path.join("stdout");
        let stderr_path = profile.path.join("stderr");
        let user_data = profile.path.join("profile");
        let create =
            |p: &Path| std::fs::File::create(p).map_err(io(format!("create {}", p.display())));
        let mut child = Command::new(&self.bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--run-all-compositor-stages-before-draw",
            ])
            .arg(format!("--user-data-dir={}", user_data.display()))
            .arg(format!("--virtual-time-budget={}", budget.as_millis()))
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(create(&stdout_path)?)
            .stderr(create(&stderr_path)?)
            .spawn()
            .map_err(io(format!("{}", self.bin.display())))?;
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(BrowserError::Timeout {
                        action,
                        url: url.to_owned(),
                        limit: RUN_LIMIT,
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(io(format!("wait for {}", self.bin.display()))(e)),
            }
        };
        let stdout = std::fs::read(&stdout_path).map_err(io("read chromium stdout".into()))?;
        if !status.success() {
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let lines: Vec<&str> = stderr.lines().collect();
            return Err(BrowserError::Failed {
                action,
                url: url.to_owned(),
                status: status.to_string(),
                stderr: lines[lines.len().saturating_sub(20)..].join("\n"),
            });
        }
        Ok(RunOutput { stdout })
    }
}

struct RunOutput {
    stdout: Vec<u8>,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> BrowserError {
    move |source| BrowserError::Io { what, source }
}

/// A fresh directory under the system temp dir, removed when dropped.
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn new() -> Result<ScratchDir, BrowserError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "credx-chromium-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).map_err(io(format!("mkdir {}", path.display())))?;
        Ok(ScratchDir { path })
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Where tests keep their artefacts (screenshots): `<target dir>/test-artifacts/`, with
/// the target dir from `CARGO_TARGET_DIR`, else three levels above the running test
/// executable (`<target>/release/deps/<test>`).
pub fn artifact_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir);
    target.join("test-artifacts")
}

/// A serialised DOM, searched by the stable attributes the page sets (`data-origin`,
/// `data-status`, ids). A start tag is found by an attribute it carries; its other
/// attributes are read from the same tag.
#[derive(Debug, Clone)]
pub struct Dom {
    html: String,
}

impl Dom {
    pub fn new(html: String) -> Dom {
        Dom { html }
    }

    pub fn html(&self) -> &str {
        &self.html
    }

    /// Start tags (`<tag ...>`) that carry `name="value"`.
    pub fn tags_with(&self, name: &str, value: &str) -> Vec<Tag<'_>> {
        let needle = format!(" {name}=\"{}\"", escape_attribute(value));
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(found) = self.html[from..].find(&needle) {
            let at = from + found;
            let start = self.html[..at].rfind('<').unwrap_or(0);
            let end = self.html[at..]
                .find('>')
                .map_or(self.html.len(), |e| at + e + 1);
            out.push(Tag {
                text: &self.html[start..end],
            });
            from = end.max(at + needle.len());
        }
        out
    }

    /// Every start tag of element `element` (`tr`, `a`, ...), in document order.
    pub fn tags(&self, element: &str) -> Vec<Tag<'_>> {
        let open = format!("<{element}");
        self.html
            .match_indices(&open)
            .filter_map(|(at, _)| {
                let end = self.html[at..].find('>')? + at + 1;
                let tag = Tag {
                    text: &self.html[at..end],
                };
                (tag.name() == element).then_some(tag)
            })
            .collect()
    }

    /// The start tag with `id="id"`.
    pub fn by_id(&self, id: &str) -> Option<Tag<'_>> {
        self.tags_with("id", id).into_iter().next()
    }

    /// The attribute `name` of the first tag of `tag_name` with `data-origin="origin"`.
    pub fn origin_attr(&self, tag_name: &str, origin: &str, name: &str) -> Option<String> {
        self.tags_with("data-origin", origin)
            .into_iter()
            .find(|t| t.name() == tag_name)
            .and_then(|t| t.attr(name))
    }

    /// The text from the element with `id="id"` up to the next `</tag>` of its kind
    /// (flat elements only: a banner, a paragraph, a span).
    pub fn text_of(&self, id: &str) -> Option<String> {
        let tag = self.by_id(id)?;
        let start = self.html.find(tag.text)? + tag.text.len();
        let close = format!("</{}>", tag.name());
        let end = self.html[start..].find(&close)? + start;
        Some(self.html[start..end].to_owned())
    }
}

/// One start tag of a [`Dom`].
#[derive(Debug, Clone, Copy)]
pub struct Tag<'a> {
    text: &'a str,
}

impl Tag<'_> {
    pub fn text(&self) -> &str {
        self.text
    }

    /// The element name, lower case as Chromium serialises it.
    pub fn name(&self) -> &str {
        let inner = self.text.trim_start_matches('<');
        let end = inner
            .find(|c: char| c.is_whitespace() || c == '>')
            .unwrap_or(inner.len());
        &inner[..end]
    }

    /// The value of attribute `name`, entity-decoded for the few entities Chromium writes.
    pub fn attr(&self, name: &str) -> Option<String> {
        let needle = format!(" {name}=\"");
        let start = self.text.find(&needle)? + needle.len();
        let end = self.text[start..].find('"')? + start;
        Some(
            self.text[start..end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    }

    pub fn has_attr(&self, name: &str) -> bool {
        self.text.contains(&format!(" {name}=\"")) || self.text.contains(&format!(" {name}>"))
    }
}

fn escape_attribute(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_by_attribute_and_read() {
        let dom = Dom::new(
            "<ul><li data-origin=\"a.credx\"><a class=\"node status-OK\" data-origin=\"a.credx\" \
             data-status=\"OK\">x</a></li><tr id=\"row-a.credx\" data-origin=\"a.credx\" \
             data-status=\"STOP\"></tr><div id=\"banner\" hidden=\"\">Cannot &amp; read</div>"
                .to_owned(),
        );
        assert_eq!(dom.tags_with("data-origin", "a.credx").len(), 3);
        assert_eq!(
            dom.origin_attr("a", "a.credx", "data-status").as_deref(),
            Some("OK")
        );
        assert_eq!(
            dom.origin_attr("tr", "a.credx", "data-status").as_deref(),
            Some("STOP")
        );
        assert!(dom.by_id("banner").is_some_and(|b| b.has_attr("hidden")));
        assert_eq!(dom.text_of("banner").as_deref(), Some("Cannot &amp; read"));
        assert!(dom.origin_attr("tr", "b.credx", "data-status").is_none());
    }
}
