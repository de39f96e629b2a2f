//! Reading a batch body into raw records, on every core.
//!
//! Parsing 10,000 records of JSON is a large share of a batch's time, and it is per
//! record work: the top-level array is split into its elements by a small scanner (strings,
//! escapes and nesting tracked; nothing else interpreted) and the elements are parsed in
//! parallel by the protocol's own reader. Anything the scanner does not recognise as a
//! plain array of objects — a single object, JSON Lines, a syntax error — goes to
//! `parse_json_records` on the whole body, which also explains errors with line numbers.

use credx_protocol::record::raw::{parse_json_records, JsonInputError, RawError};
use credx_protocol::record::RawRecord;

use super::error::ApiError;
use super::MAX_BATCH_RECORDS;

/// One input item: a raw record, or why it could not become one.
pub type Item = Result<RawRecord, RawError>;

/// Reads the records of a request body; refuses more than [`MAX_BATCH_RECORDS`].
pub fn read_items(body: &[u8]) -> Result<Vec<Item>, ApiError> {
    let too_many = |count| ApiError::BatchTooLarge {
        count,
        max: MAX_BATCH_RECORDS,
    };
    if let Some(elements) = split_array(body) {
        if elements.len() > MAX_BATCH_RECORDS {
            return Err(too_many(elements.len()));
        }
        let parsed = parallel_map(&elements, |e| parse_json_records(e));
        let mut items = Vec::with_capacity(parsed.len());
        for one in parsed {
            match one {
                Ok(mut v) if v.len() == 1 => items.extend(v.pop()),
                // Not an object, or not valid: the whole-body reader says where.
                _ => return read_whole(body),
            }
        }
        if items.is_empty() {
            return Err(ApiError::EmptyBatch);
        }
        return Ok(items);
    }
    let items = read_whole(body)?;
    if items.len() > MAX_BATCH_RECORDS {
        return Err(too_many(items.len()));
    }
    Ok(items)
}

fn read_whole(body: &[u8]) -> Result<Vec<Item>, ApiError> {
    let items = parse_json_records(body)
        .map_err(|e: JsonInputError| ApiError::InvalidJson(e.to_string()))?;
    if items.is_empty() {
        return Err(ApiError::EmptyBatch);
    }
    Ok(items)
}

/// The byte slices of the elements of a top-level JSON array whose elements are objects;
/// `None` for anything else (left to the full parser).
fn split_array(body: &[u8]) -> Option<Vec<&[u8]>> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut i = skip_ws(body, 0);
    if body.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(body, i + 1);
    let mut elements = Vec::new();
    if body.get(i) == Some(&b']') {
        return (skip_ws(body, i + 1) == body.len()).then_some(elements);
    }
    loop {
        if body.get(i) != Some(&b'{') {
            return None;
        }
        let end = object_end(body, i)?;
        elements.push(body.get(i..end)?);
        i = skip_ws(body, end);
        match body.get(i) {
            Some(b',') => i = skip_ws(body, i + 1),
            Some(b']') => break,
            _ => return None,
        }
    }
    (skip_ws(body, i + 1) == body.len()).then_some(elements)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// Index just past the object starting at `start` (which holds `{`).
fn object_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &c) in b.get(start..)?.iter().enumerate() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + offset + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Maps `f` over `items` on up to all cores, keeping order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_arrays_of_objects_and_leaves_the_rest() {
        let body = br#" [ {"a":"}\"{"}, {"b":[1,{"c":2}]} ] "#;
        let parts = split_array(body).unwrap();
        assert_eq!(
            parts,
            vec![&br#"{"a":"}\"{"}"#[..], &br#"{"b":[1,{"c":2}]}"#[..]]
        );
        assert_eq!(split_array(b"[]").unwrap().len(), 0);
        assert!(split_array(br#"{"a":1}"#).is_none());
        assert!(split_array(br#"[{"a":1},2]"#).is_none());
        assert!(split_array(br#"[{"a":1}"#).is_none());
        assert!(split_array(br#"[{"a":1}] x"#).is_none());
    }

    #[test]
    fn parallel_map_keeps_order() {
        let xs: Vec<u32> = (0..1000).collect();
        assert_eq!(
            parallel_map(&xs, |x| x * 2),
            xs.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
    }
}
