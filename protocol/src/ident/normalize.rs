//! Input normalisation shared by every identifier parser (credit-data.md §1.7 rule 1).
//!
//! Feeds from county systems arrive with display hyphens (`XXXXXXXX-X`), stray spaces and
//! full-width characters typed with a Chinese IME. Normalising once, before any check, keeps
//! the checks themselves simple and makes error positions refer to one canonical string.

/// Normalises an identifier: trims, drops spaces and hyphens anywhere, folds full-width
/// ASCII (`０-９`, `Ａ-Ｚ`, `ａ-ｚ`, `－`, U+3000) to ASCII and upper-cases ASCII letters.
///
/// Any other non-ASCII character is kept as it is, so that the parser can reject it with
/// its position instead of silently dropping data.
pub fn normalize_code(input: &str) -> String {
    fold(input, true)
}

/// Like [`normalize_code`] but keeps the case, for strict-case policies that must report
/// lower-case input instead of repairing it.
pub(crate) fn normalize_keep_case(input: &str) -> String {
    fold(input, false)
}

/// Maps one full-width form (U+FF01..=U+FF5E) to its ASCII twin; other chars unchanged.
pub(crate) fn fold_width(c: char) -> char {
    let cp = u32::from(c);
    if (0xFF01..=0xFF5E).contains(&cp) {
        char::from_u32(cp - 0xFEE0).unwrap_or(c)
    } else if c == '\u{3000}' {
        ' '
    } else {
        c
    }
}

fn fold(input: &str, upper: bool) -> String {
    input
        .chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '\u{2010}' | '\u{2011}'))
        .map(|c| if upper { c.to_ascii_uppercase() } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_separators() {
        assert_eq!(
            normalize_code(" ９１４２０２８１pdy00001-x0 "),
            "91420281PDY00001X0"
        );
        assert_eq!(normalize_code("ＰＤＹ０００１－Ｘ"), "PDY0001X");
        assert_eq!(normalize_code("a\u{3000}b"), "AB");
        assert_eq!(normalize_keep_case("ａb"), "ab");
        // Non-ASCII letters are kept so the parser can name them.
        assert_eq!(normalize_code("中1"), "中1");
    }
}
