//! The check-character algorithms behind the identifiers (credit-data.md §1.3–1.5, §1.8, §2.2).
//!
//! They are public so that test fixtures, data generators and other nodes can recompute a
//! check character and show the intermediate weighted sum (the `S` of the worked examples).

/// GB 32100 alphabet: 31 characters, I O S V Z excluded; a character's value is its index.
pub const GB32100_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100 weights `3^(i-1) mod 31` for positions 1..=17.
pub const GB32100_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// GB 11714 weights for the 8-character organisation-code body.
pub const GB11714_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// ISO 7064 MOD 11-2 weights `2^(18-i) mod 11` for the resident ID's 17 digits.
pub const MOD11_2_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Value of a character in the GB 32100 alphabet (`None` if it is not in it).
pub fn gb32100_value(c: u8) -> Option<u32> {
    GB32100_ALPHABET
        .iter()
        .position(|&a| a == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// Plain Base-36 value (`0-9` → 0..9, `A-Z` → 10..35) used by GB 11714, which values
/// letters differently from GB 32100 (P = 25 here, 23 there).
pub fn base36_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// Weighted sum `S` of the first 17 USCC characters (GB 32100 values).
pub fn gb32100_sum(first17: &[u8]) -> Option<u32> {
    if first17.len() != 17 {
        return None;
    }
    first17
        .iter()
        .zip(GB32100_WEIGHTS)
        .try_fold(0u32, |acc, (&c, w)| Some(acc + gb32100_value(c)? * w))
}

/// GB 32100 final check character: `ALPHABET[(31 - S mod 31) mod 31]`. The outer `mod 31`
/// matters: `S ≡ 0` gives `'0'`, a case some public validators get wrong.
pub fn gb32100_check_char(first17: &[u8]) -> Option<char> {
    let s = gb32100_sum(first17)?;
    let idx = usize::try_from((31 - s % 31) % 31).ok()?;
    GB32100_ALPHABET.get(idx).map(|&b| char::from(b))
}

/// Weighted sum `S` of an 8-character GB 11714 body (Base-36 values).
pub fn gb11714_sum(body8: &[u8]) -> Option<u32> {
    if body8.len() != 8 {
        return None;
    }
    body8
        .iter()
        .zip(GB11714_WEIGHTS)
        .try_fold(0u32, |acc, (&c, w)| Some(acc + base36_value(c)? * w))
}

/// GB 11714 check character: `C = 11 - S mod 11`; 10 → `'X'`, 11 → `'0'`.
pub fn gb11714_check_char(body8: &[u8]) -> Option<char> {
    let s = gb11714_sum(body8)?;
    Some(match 11 - s % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10)?,
    })
}

/// Weighted sum `S` of the 17 leading resident-ID digits (ISO 7064 MOD 11-2).
pub fn mod11_2_sum(digits17: &[u8]) -> Option<u32> {
    if digits17.len() != 17 {
        return None;
    }
    digits17
        .iter()
        .zip(MOD11_2_WEIGHTS)
        .try_fold(0u32, |acc, (&c, w)| {
            c.is_ascii_digit().then(|| acc + u32::from(c - b'0') * w)
        })
}

/// Resident-ID check character: `"10X98765432"[S mod 11]`.
pub fn mod11_2_check_char(digits17: &[u8]) -> Option<char> {
    let s = mod11_2_sum(digits17)?;
    let idx = usize::try_from(s % 11).ok()?;
    b"10X98765432".get(idx).map(|&b| char::from(b))
}

/// GB/T 17710 (ISO 7064 MOD 11,10) check digit of the legacy 15-digit 工商注册号 over its
/// first 14 digits (credit-data.md §1.8).
pub fn mod11_10_check_digit(digits14: &[u8]) -> Option<char> {
    if digits14.len() != 14 {
        return None;
    }
    let mut p = 10u32;
    for &c in digits14 {
        if !c.is_ascii_digit() {
            return None;
        }
        let s = match (p + u32::from(c - b'0')) % 10 {
            0 => 10,
            s => s,
        };
        p = (2 * s) % 11;
    }
    char::from_digit((11 - p) % 10, 10)
}

/// Whether a 15-digit 工商注册号 carries a correct MOD 11,10 check digit.
pub fn is_valid_business_registration_number(input: &str) -> bool {
    let b = input.as_bytes();
    b.len() == 15
        && b.iter().all(u8::is_ascii_digit)
        && b.get(..14)
            .and_then(mod11_10_check_digit)
            .is_some_and(|c| b.get(14).map(|&x| char::from(x)) == Some(c))
}
