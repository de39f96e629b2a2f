//! Masking personal identity numbers for the public view.
//!
//! 双公示 publishes decisions about natural persons but never their full identity numbers
//! (credit-data.md §2.4 rule 7): the public view shows `420281********1237`. The typed ID
//! columns are masked by the view; [`mask_free_text`] then guards every other text column,
//! where a department may have typed a number into the facts or remarks.

use credx_protocol::ident::{ResidentId, Uscc};

/// Masks one identity document number: 18-digit resident IDs keep the address code and
/// the last 4 (`420281********1237`), 15-digit legacy ones the same ends; other documents
/// keep only their last 3 characters.
pub fn mask_id(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        18 | 15 => (6, 4),
        0..=4 => (0, 0),
        _ => (0, 3),
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// Masks every identity number found inside a text: runs of 17 digits followed by a digit
/// or `X` (the resident-ID shape, checksum or not: a mistyped number is still personal),
/// and 15-digit runs that are valid legacy resident IDs. A text that is, as a whole, a valid
/// USCC is an organisation's public code and left alone.
pub fn mask_free_text(text: &str) -> String {
    if Uscc::parse(text).is_ok() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush_run(&mut out, &mut run);
            out.push(c);
        }
    }
    flush_run(&mut out, &mut run);
    out
}

fn flush_run(out: &mut String, run: &mut String) {
    if looks_like_resident_id(run) {
        out.push_str(&mask_id(run));
    } else {
        out.push_str(run);
    }
    run.clear();
}

fn looks_like_resident_id(run: &str) -> bool {
    let b = run.as_bytes();
    match b.len() {
        18 => {
            b.iter().take(17).all(u8::is_ascii_digit)
                && b.get(17)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'X' || *c == b'x')
        }
        15 => b.iter().all(u8::is_ascii_digit) && ResidentId::from_legacy_15(run).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids_keep_address_code_and_last_four() {
        assert_eq!(mask_id("420281199603151237"), "420281********1237");
        assert_eq!(mask_id("E12345678"), "******678");
        assert_eq!(mask_id("1234"), "****");
    }

    #[test]
    fn free_text_ids_are_masked_and_usccs_kept() {
        assert_eq!(
            mask_free_text("当事人张示例（身份证420281199603151237）"),
            "当事人张示例（身份证420281********1237）"
        );
        assert_eq!(mask_free_text("91420281PDY00001X0"), "91420281PDY00001X0");
        assert_eq!(mask_free_text("罚款2000元"), "罚款2000元");
    }
}
