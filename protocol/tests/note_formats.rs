//! Formats and strictness of the note module: round trips, every rejection rule, tlog-proof
//! produce → parse → verify with each tampering caught precisely, trust-policy parsing and
//! quorum evaluation, and property tests (no panics on arbitrary input, parse ∘ to_bytes = id).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use credx_protocol::merkle::{Hash, ProofError};
use credx_protocol::note::limits::{MAX_NOTE_SIZE, MAX_PROOF_HASHES, MAX_SIGNATURES};
use credx_protocol::note::{
    cosignature_message, key_id, Checkpoint, CheckpointError, Cosignature, CosignatureError,
    CosignerKey, KeyError, KeyName, KeyType, NoteError, NoteSignature, NoteSigner, PolicyError,
    Quorum, SignatureLineError, SignedCheckpoint, SignedNote, Signer, TlogProof, TlogProofError,
    TrustPolicy, VerifierKey,
};
use ed25519_dalek::Verifier as _;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------
// Helpers: deterministic keys and an independent RFC 6962 tree (written from the RFC).

fn name(s: &str) -> KeyName {
    KeyName::new(s).unwrap()
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

const LOG: &str = "county-042.example.cn/log";

fn log_key() -> NoteSigner {
    NoteSigner::generate(name(LOG), &mut rng(1))
}

fn witness(i: u64) -> CosignerKey {
    CosignerKey::generate(name(&format!("w{i}.example.cn/witness")), &mut rng(100 + i))
}

fn sha(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

fn leaf(data: &[u8]) -> Hash {
    sha(&[&[0], data])
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            sha(&[&[1], &mth(&leaves[..k]).0, &mth(&leaves[k..]).0])
        }
    }
}

fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn tree(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf(format!("entry {i}").as_bytes()))
        .collect()
}

fn checkpoint(size: u64, root: Hash) -> Checkpoint {
    Checkpoint::new(LOG, size, root)
}

/// A proof for leaf `index` of a `size`-leaf tree, cosigned by witnesses 0..cosigners.
fn make_proof(size: usize, index: usize, cosigners: u64) -> (TlogProof, Hash) {
    let leaves = tree(size);
    let cp = checkpoint(size as u64, mth(&leaves));
    let mut signed = SignedCheckpoint::sign(cp.clone(), &log_key()).unwrap();
    for i in 0..cosigners {
        signed
            .add_cosignature(&witness(i).cosign(&cp, 1_700_000_000 + i).unwrap())
            .unwrap();
    }
    let proof = TlogProof {
        extra: None,
        index: index as u64,
        inclusion: path(index, &leaves),
        checkpoint: signed,
    };
    (proof, leaves[index])
}

fn policy(quorum: usize) -> TrustPolicy {
    let ws: Vec<VerifierKey> = (0..3).map(|i| witness(i).verifier_key()).collect();
    TrustPolicy::new(&[log_key().verifier_key()], &ws, quorum).unwrap()
}

fn sig_line(name: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "— {name} {}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

// ---------------------------------------------------------------------------------------
// Keys

#[test]
fn key_name_rules() {
    assert!(KeyName::new("example.com/log").is_ok());
    assert!(KeyName::new("县级/log").is_ok());
    assert_eq!(KeyName::new(""), Err(KeyError::EmptyName));
    assert_eq!(
        KeyName::new("a b"),
        Err(KeyError::NameHasWhitespace { offset: 1 })
    );
    assert_eq!(
        KeyName::new("a\u{3000}b"),
        Err(KeyError::NameHasWhitespace { offset: 1 })
    );
    assert_eq!(
        KeyName::new("a+b"),
        Err(KeyError::NameHasPlus { offset: 1 })
    );
    assert_eq!(
        KeyName::new("a\u{1}"),
        Err(KeyError::NameHasControl { offset: 1 })
    );
    assert!(KeyName::new("x".repeat(255)).is_ok());
    assert_eq!(
        KeyName::new("x".repeat(256)),
        Err(KeyError::NameTooLong { len: 256, max: 255 })
    );
}

#[test]
fn vkey_round_trip_and_rejections() {
    let s = log_key().verifier_key().to_string();
    let k: VerifierKey = s.parse().unwrap();
    assert_eq!(k.to_string(), s);
    assert_eq!(k.key_type(), KeyType::Ed25519);
    assert_eq!(
        k.key_id(),
        key_id(k.name(), KeyType::Ed25519, k.public_key().as_bytes())
    );

    let w = witness(0).verifier_key();
    assert_eq!(w.key_type(), KeyType::CosignatureV1);
    assert_eq!(w.to_string().parse::<VerifierKey>().unwrap(), w);

    let (n, rest) = s.split_once('+').unwrap();
    let (id, b64) = rest.split_once('+').unwrap();
    assert_eq!(
        format!("{n}+{}+{b64}", id.to_uppercase()).parse::<VerifierKey>(),
        Err(KeyError::BadKeyIdHex {
            found: id.to_uppercase()
        })
    );
    assert!(matches!(
        format!("{n}+00000000+{b64}").parse::<VerifierKey>(),
        Err(KeyError::KeyIdMismatch { stated: 0, .. })
    ));
    assert!(matches!(
        format!("other+{id}+{b64}").parse::<VerifierKey>(),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    assert_eq!(
        format!("{n}+{id}").parse::<VerifierKey>(),
        Err(KeyError::MissingField {
            field: "key material"
        })
    );
    assert_eq!(
        format!("{n}+{id}+{b64}=").parse::<VerifierKey>(),
        Err(KeyError::NotBase64)
    );
    // Type 0x02 (ECDSA) is not supported.
    assert_eq!(
        format!("{n}+{id}+AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").parse::<VerifierKey>(),
        Err(KeyError::UnsupportedKeyType(2))
    );
    assert_eq!(
        format!("{n}+{id}+AQID").parse::<VerifierKey>(),
        Err(KeyError::WrongKeyLength { len: 2 })
    );
    // The identity point is of small order.
    let mut weak = vec![1u8];
    weak.extend_from_slice(&[
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ]);
    use base64::Engine as _;
    let weak = base64::engine::general_purpose::STANDARD.encode(weak);
    assert_eq!(
        format!("{n}+{id}+{weak}").parse::<VerifierKey>(),
        Err(KeyError::WeakPublicKey)
    );
}

#[test]
fn private_keys_round_trip_and_are_not_debug_printed() {
    let s = log_key();
    let text = s.to_private_key_str();
    assert!(text.starts_with(&format!("PRIVATE+KEY+{LOG}+{:08x}+A", s.key_id())));
    let back = NoteSigner::from_private_key_str(&text).unwrap();
    assert_eq!(back.verifier_key(), s.verifier_key());
    let secret_b64 = text.rsplit('+').next().unwrap();
    let dbg = format!("{s:?} {back:?}");
    assert!(!dbg.contains(secret_b64), "{dbg}");
    assert!(dbg.contains("redacted"));

    let w = witness(1);
    let wtext = w.to_private_key_str();
    assert_eq!(
        CosignerKey::from_private_key_str(&wtext)
            .unwrap()
            .verifier_key(),
        w.verifier_key()
    );
    assert!(!format!("{w:?}").contains(wtext.rsplit('+').next().unwrap()));
    // A log key is not a cosigner key and vice versa.
    assert_eq!(
        CosignerKey::from_private_key_str(&text).err(),
        Some(KeyError::WrongKeyType {
            expected: KeyType::CosignatureV1,
            found: KeyType::Ed25519
        })
    );
    assert_eq!(
        NoteSigner::from_private_key_str(&text[1..]).err(),
        Some(KeyError::NotPrivateKey)
    );
    // Same key material, wrong id.
    let bad_id = text.replacen(&format!("{:08x}", s.key_id()), "0badc0de", 1);
    assert!(matches!(
        NoteSigner::from_private_key_str(&bad_id),
        Err(KeyError::KeyIdMismatch { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Signed notes

#[test]
fn note_round_trip_and_last_blank_line_separates() {
    let s = log_key();
    let text = "first\n\n— not a signature AAAAAAA=\n\n";
    let note = SignedNote::sign(text, &[&s]).unwrap();
    let bytes = note.to_bytes();
    let parsed = SignedNote::parse(&bytes).unwrap();
    assert_eq!(parsed, note);
    assert_eq!(parsed.text, text);
    assert_eq!(parsed.verify(&[s.verifier_key()]).unwrap().text, text);
}

#[test]
fn note_syntax_rejections() {
    let s = log_key();
    let good = SignedNote::sign("hello\n", &[&s]).unwrap().to_bytes();
    let good = String::from_utf8(good).unwrap();
    let line = good.lines().last().unwrap().to_owned();
    let payload = line.rsplit(' ').next().unwrap().to_owned();

    let cases: Vec<(String, NoteError)> = vec![
        (good.trim_end().to_owned(), NoteError::MissingFinalNewline),
        (format!("hello\n{line}\n"), NoteError::MissingSignatureBlock),
        (
            format!("hel\u{7}lo\n\n{line}\n"),
            NoteError::ControlCharacter { line: 1, byte: 7 },
        ),
        (
            format!("hello\r\n\n{line}\n"),
            NoteError::ControlCharacter { line: 1, byte: 13 },
        ),
        (
            format!("hello\n\n- {LOG} {payload}\n"),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::MissingEmDash,
            },
        ),
        (
            format!("hello\n\n\u{2013} {LOG} {payload}\n"),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::MissingEmDash,
            },
        ),
        (
            format!("hello\n\n—{LOG} {payload}\n"),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::MissingEmDash,
            },
        ),
        (
            format!("hello\n\n— {LOG}\n"),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::MissingSignature,
            },
        ),
        (
            format!("hello\n\n— {LOG} {}\n", payload.trim_end_matches('=')),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::NotBase64,
            },
        ),
        (
            format!("hello\n\n— {LOG} {payload} \n"),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::NotBase64,
            },
        ),
        (
            format!("hello\n\n— {LOG} {payload}\n\n"),
            NoteError::NoSignatures,
        ),
        (
            format!("hello\n\n{}\n", sig_line(LOG, &[1, 2, 3, 4])),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::TooShort { len: 4 },
            },
        ),
        (
            format!("hello\n\n{}\n", sig_line("a+b", &[1, 2, 3, 4, 5])),
            NoteError::BadSignatureLine {
                line: 3,
                reason: SignatureLineError::BadKeyName(KeyError::NameHasPlus { offset: 1 }),
            },
        ),
        (format!("\n{line}\n"), NoteError::MissingSignatureBlock),
    ];
    for (input, want) in cases {
        assert_eq!(SignedNote::parse(input.as_bytes()), Err(want), "{input:?}");
    }
    // Non-canonical base64: last character changes only padding bits.
    let mut chars: Vec<char> = payload.chars().collect();
    let i = chars.iter().rposition(|&c| c != '=').unwrap();
    chars[i] = match chars[i] {
        'A' => 'B',
        c if c.is_ascii_uppercase() => 'A',
        _ => 'A',
    };
    let noncanon: String = chars.into_iter().collect();
    let r = SignedNote::parse(format!("hello\n\n— {LOG} {noncanon}\n").as_bytes());
    // Either it is non-canonical (rejected) or it decodes to different bytes (bad signature).
    if let Ok(n) = r {
        assert!(n.verify(&[s.verifier_key()]).is_err());
    }
    assert_eq!(
        SignedNote::parse(b"hello\xff\n\n"),
        Err(NoteError::NotUtf8 { offset: 5 })
    );
    let big = vec![b'a'; MAX_NOTE_SIZE + 1];
    assert_eq!(
        SignedNote::parse(&big),
        Err(NoteError::TooLarge {
            size: MAX_NOTE_SIZE + 1,
            max: MAX_NOTE_SIZE
        })
    );
    assert_eq!(
        SignedNote::sign("no newline", &[&s]),
        Err(NoteError::TextMissingFinalNewline)
    );
    assert_eq!(SignedNote::sign("", &[&s]), Err(NoteError::EmptyText));
    assert_eq!(
        SignedNote::sign("a\tb\n", &[&s]),
        Err(NoteError::ControlCharacter { line: 1, byte: 9 })
    );
}

fn note_with_n_signatures(n: usize) -> Vec<u8> {
    let mut out = String::from("text\n\n");
    for i in 0..n {
        out.push_str(&sig_line(&format!("k{i}"), &[0u8; 68]));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn signature_count_limits() {
    assert_eq!(
        SignedNote::parse(&note_with_n_signatures(16))
            .unwrap()
            .signatures
            .len(),
        16
    );
    assert_eq!(
        SignedNote::parse(&note_with_n_signatures(MAX_SIGNATURES))
            .unwrap()
            .signatures
            .len(),
        MAX_SIGNATURES
    );
    assert_eq!(
        SignedNote::parse(&note_with_n_signatures(MAX_SIGNATURES + 1)),
        Err(NoteError::TooManySignatures {
            count: MAX_SIGNATURES + 1,
            max: MAX_SIGNATURES
        })
    );
    let mut note = SignedNote::parse(&note_with_n_signatures(MAX_SIGNATURES)).unwrap();
    let extra = NoteSignature {
        name: name("one-more"),
        key_id: 1,
        signature: vec![0; 64],
    };
    assert!(matches!(
        note.add_signature(extra),
        Err(NoteError::TooManySignatures { .. })
    ));
    // Replacing an existing (name, id) is not an addition.
    let again = NoteSignature {
        name: name("k0"),
        key_id: 0,
        signature: vec![1; 64],
    };
    note.add_signature(again.clone()).unwrap();
    assert_eq!(note.signatures[0], again);
}

#[test]
fn note_verification_rules() {
    let a = log_key();
    let b = NoteSigner::generate(name("other.example.cn/log"), &mut rng(7));
    let note = SignedNote::sign("payload\n", &[&b, &a]).unwrap();

    // Unknown keys are ignored; the known one verifies.
    let v = note.verify(&[a.verifier_key()]).unwrap();
    assert_eq!(v.verified.len(), 1);
    assert_eq!(v.verified[0].key, a.verifier_key());
    assert_eq!(v.verified[0].timestamp, None);
    assert_eq!(v.unverified.len(), 1);

    // Nothing known: rejected.
    let stranger = NoteSigner::generate(name("stranger"), &mut rng(8));
    assert_eq!(
        note.verify(&[stranger.verifier_key()]),
        Err(NoteError::NoVerifiedSignature)
    );
    assert_eq!(note.verify(&[]), Err(NoteError::NoVerifiedSignature));

    // Same name, different key (so different id): still unknown, ignored.
    let same_name = NoteSigner::generate(name(LOG), &mut rng(9));
    assert_eq!(
        note.verify(&[same_name.verifier_key()]),
        Err(NoteError::NoVerifiedSignature)
    );

    // A known key whose signature fails rejects the whole note, even if another verifies.
    let mut bad = note.clone();
    bad.signatures[0].signature[0] ^= 1;
    assert_eq!(
        bad.verify(&[a.verifier_key(), b.verifier_key()]),
        Err(NoteError::InvalidSignature {
            name: "other.example.cn/log".into(),
            key_id: b.key_id(),
            line: 3
        })
    );
    assert!(bad.verify(&[a.verifier_key()]).is_ok());
}

// ---------------------------------------------------------------------------------------
// Checkpoints

#[test]
fn checkpoint_text_round_trip() {
    let root = sha(&[b"root"]);
    let mut cp = checkpoint(20852163, root);
    let text = cp.to_text();
    assert_eq!(text, format!("{LOG}\n20852163\n{}\n", root.to_base64()));
    assert_eq!(Checkpoint::parse_text(&text).unwrap(), cp);
    cp.extensions = vec!["a b c".into(), "—".into()];
    assert_eq!(Checkpoint::parse_text(&cp.to_text()).unwrap(), cp);
    assert_eq!(
        Checkpoint::parse_text(&format!("o\n0\n{}\n", root.to_base64()))
            .unwrap()
            .size,
        0
    );
    assert_eq!(
        Checkpoint::parse_text(&format!("o\n18446744073709551615\n{}\n", root.to_base64()))
            .unwrap()
            .size,
        u64::MAX
    );
}

#[test]
fn checkpoint_text_rejections() {
    let r = sha(&[b"root"]).to_base64();
    let cases: Vec<(String, CheckpointError)> = vec![
        (
            format!("o\n012\n{r}\n"),
            CheckpointError::SizeLeadingZero {
                found: "012".into(),
            },
        ),
        (
            format!("o\n00\n{r}\n"),
            CheckpointError::SizeLeadingZero { found: "00".into() },
        ),
        (
            format!("o\n+12\n{r}\n"),
            CheckpointError::SizeNotDecimal {
                found: "+12".into(),
            },
        ),
        (
            format!("o\n 12\n{r}\n"),
            CheckpointError::SizeNotDecimal {
                found: " 12".into(),
            },
        ),
        (
            format!("o\n\n{r}\n"),
            CheckpointError::SizeNotDecimal { found: "".into() },
        ),
        (
            format!("o\n18446744073709551616\n{r}\n"),
            CheckpointError::SizeOverflow {
                found: "18446744073709551616".into(),
            },
        ),
        (format!("o\n12\n{r}"), CheckpointError::MissingFinalNewline),
        (format!("\n12\n{r}\n"), CheckpointError::EmptyOrigin),
        (
            "o\n12\n".into(),
            CheckpointError::MissingLine { field: "root hash" },
        ),
        (
            "o\n".into(),
            CheckpointError::MissingLine { field: "tree size" },
        ),
        (
            format!("o\n12\n{r}\n\n"),
            CheckpointError::EmptyExtension { line: 4 },
        ),
        (
            format!("o\n12\n{r}\next\n\nmore\n"),
            CheckpointError::EmptyExtension { line: 5 },
        ),
        (
            format!("o\n12\n{}\n", r.trim_end_matches('=')),
            CheckpointError::BadRoot(credx_protocol::merkle::HashParseError::NotBase64),
        ),
        (
            "o\n12\nAAAA\n".into(),
            CheckpointError::BadRoot(credx_protocol::merkle::HashParseError::WrongLength {
                found: 3,
            }),
        ),
        (
            format!("o\n1\t2\n{r}\n"),
            CheckpointError::ControlCharacter { line: 2, byte: 9 },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(Checkpoint::parse_text(&input), Err(want), "{input:?}");
    }
    // Non-canonical root: change the last data char so only the unused low bits differ.
    let mut chars: Vec<char> = r.chars().collect();
    let i = chars.iter().rposition(|&c| c != '=').unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let v = alphabet.find(chars[i]).unwrap();
    chars[i] = alphabet.chars().nth(v ^ 1).unwrap(); // 32 bytes → 43 chars, 2 unused bits
    let noncanon: String = chars.into_iter().collect();
    assert!(Checkpoint::parse_text(&format!("o\n12\n{noncanon}\n")).is_err());
}

#[test]
fn signed_checkpoint_sign_verify_and_rejections() {
    let log = log_key();
    let cp = checkpoint(5, sha(&[b"r"]));
    let signed = SignedCheckpoint::sign(cp.clone(), &log).unwrap();
    let bytes = signed.to_bytes();
    let parsed = SignedCheckpoint::parse(&bytes).unwrap();
    assert_eq!(parsed, signed);
    parsed.verify(&log.verifier_key()).unwrap();

    // Key name must be the origin, when signing and when verifying.
    let other = NoteSigner::generate(name("elsewhere"), &mut rng(3));
    assert_eq!(
        SignedCheckpoint::sign(cp.clone(), &other),
        Err(CheckpointError::OriginMismatch {
            origin: LOG.into(),
            key_name: "elsewhere".into()
        })
    );
    assert_eq!(
        parsed.verify(&other.verifier_key()),
        Err(CheckpointError::OriginMismatch {
            origin: LOG.into(),
            key_name: "elsewhere".into()
        })
    );
    // Same origin name but not the log's key: no log signature.
    let impostor = NoteSigner::generate(name(LOG), &mut rng(4));
    assert!(matches!(
        parsed.verify(&impostor.verifier_key()),
        Err(CheckpointError::MissingLogSignature { .. })
    ));
    // Cosigner (0x04) key as a log key.
    assert_eq!(
        parsed.verify(&witness(0).verifier_key()),
        Err(CheckpointError::WrongLogKeyType {
            found: KeyType::CosignatureV1
        })
    );
    // Tampered size: the log's signature fails, naming its line.
    let tampered = String::from_utf8(bytes)
        .unwrap()
        .replacen("\n5\n", "\n6\n", 1);
    assert!(matches!(
        SignedCheckpoint::parse(tampered.as_bytes())
            .unwrap()
            .verify(&log.verifier_key()),
        Err(CheckpointError::InvalidLogSignature { line: 5, .. })
    ));
    // A note whose text is not a checkpoint.
    let note = SignedNote::sign("just text\n", &[&log]).unwrap();
    assert_eq!(
        SignedCheckpoint::parse(&note.to_bytes()),
        Err(CheckpointError::MissingLine { field: "tree size" })
    );
    // Invalid checkpoints are refused at signing time.
    let mut bad = cp;
    bad.extensions.push(String::new());
    assert_eq!(
        SignedCheckpoint::sign(bad, &log),
        Err(CheckpointError::EmptyExtension { line: 4 })
    );
}

// ---------------------------------------------------------------------------------------
// Cosignatures

#[test]
fn cosignature_message_and_round_trips() {
    let w = witness(0);
    let cp = checkpoint(20852163, sha(&[b"r"]));
    let c = w.cosign(&cp, 1679315147).unwrap();
    let msg = cosignature_message(cp.to_text().as_bytes(), 1679315147);
    assert_eq!(
        msg,
        format!("cosignature/v1\ntime 1679315147\n{}", cp.to_text()).into_bytes()
    );
    // The signature is plain Ed25519 over exactly that message.
    let sig = ed25519_dalek::Signature::from_bytes(&c.signature);
    w.verifier_key().public_key().verify(&msg, &sig).unwrap();
    c.verify(&cp, &w.verifier_key()).unwrap();

    let line = c.to_note_signature();
    assert_eq!(line.signature.len(), 72);
    assert_eq!(&line.signature[..8], &1679315147u64.to_be_bytes());
    assert_eq!(Cosignature::from_note_signature(&line).unwrap(), c);
    let text_line = line.to_line();
    assert_eq!(
        text_line.len() - "— ".len() - w.name().as_str().len() - 1,
        104
    );
    assert_eq!(NoteSignature::parse_line(&text_line).unwrap(), line);

    // Timestamp bounds.
    assert!(w.cosign(&cp, i64::MAX as u64).is_ok());
    assert_eq!(
        w.cosign(&cp, 1 << 63),
        Err(CosignatureError::TimestampOutOfRange { timestamp: 1 << 63 })
    );
    let mut over = line.clone();
    over.signature[0] = 0x80;
    assert!(matches!(
        Cosignature::from_note_signature(&over),
        Err(CosignatureError::TimestampOutOfRange { .. })
    ));
    let mut short = line;
    short.signature.pop();
    assert_eq!(
        Cosignature::from_note_signature(&short),
        Err(CosignatureError::WrongLength { len: 71 })
    );
    assert!(w.at(1 << 63).is_err());
}

#[test]
fn cosignature_verification_failures() {
    let w = witness(0);
    let cp = checkpoint(10, sha(&[b"r"]));
    let c = w.cosign(&cp, 1000).unwrap();
    let mut other_cp = cp.clone();
    other_cp.size = 11;
    assert_eq!(
        c.verify(&other_cp, &w.verifier_key()),
        Err(CosignatureError::InvalidSignature {
            name: w.name().to_string()
        })
    );
    let mut later = c.clone();
    later.timestamp += 1;
    assert!(matches!(
        later.verify(&cp, &w.verifier_key()),
        Err(CosignatureError::InvalidSignature { .. })
    ));
    assert!(matches!(
        c.verify(&cp, &witness(1).verifier_key()),
        Err(CosignatureError::NameMismatch { .. })
    ));
    assert_eq!(
        c.verify(&cp, &log_key().verifier_key()),
        Err(CosignatureError::WrongKeyType {
            found: KeyType::Ed25519
        })
    );
    // Same name, different key.
    let twin = CosignerKey::generate(w.name().clone(), &mut rng(55));
    assert!(matches!(
        c.verify(&cp, &twin.verifier_key()),
        Err(CosignatureError::KeyIdMismatch { .. })
    ));
}

#[test]
fn cosigned_checkpoint_through_note_verify_and_signer_trait() {
    let log = log_key();
    let w = witness(2);
    let cp = checkpoint(3, sha(&[b"r"]));
    let mut signed = SignedCheckpoint::sign(cp.clone(), &log).unwrap();
    signed.add_cosignature(&w.cosign(&cp, 77).unwrap()).unwrap();
    let parsed = SignedCheckpoint::parse(&signed.to_bytes()).unwrap();
    assert_eq!(parsed, signed);
    let v = parsed
        .note()
        .verify(&[log.verifier_key(), w.verifier_key()])
        .unwrap();
    assert_eq!(v.verified.len(), 2);
    assert_eq!(v.verified[1].timestamp, Some(77));
    assert_eq!(parsed.cosignatures().count(), 1);
    assert_eq!(
        parsed.cosignature_by(&w.verifier_key()).unwrap().timestamp,
        77
    );

    // The generic Signer path produces the identical line.
    let via_trait =
        SignedNote::sign(cp.to_text(), &[&log, &w.at(77).unwrap() as &dyn Signer]).unwrap();
    assert_eq!(via_trait.to_bytes(), signed.to_bytes());
}

// ---------------------------------------------------------------------------------------
// tlog-proof

#[test]
fn tlog_proof_produce_parse_verify() {
    for (size, index) in [(1, 0), (2, 1), (7, 3), (8, 7), (100, 57), (1000, 999)] {
        let (mut proof, leaf) = make_proof(size, index, 3);
        proof.extra = if index % 2 == 0 {
            Some(b"vrf proof".to_vec())
        } else {
            None
        };
        let bytes = proof.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"));
        assert!(text.contains(&format!("\nindex {index}\n")));
        let parsed = TlogProof::parse(&bytes).unwrap();
        assert_eq!(parsed, proof);
        assert_eq!(parsed.to_bytes(), bytes);
        let v = parsed.verify(&leaf, &policy(2)).unwrap();
        assert_eq!(v.index, index as u64);
        assert_eq!(v.size, size as u64);
        assert_eq!(v.cosigner_names().len(), 3);
        // tlog_tiles agrees on the inclusion proof.
        let th = tlog_tiles::Hash(proof.checkpoint.checkpoint().root.0);
        let p: Vec<tlog_tiles::Hash> = proof
            .inclusion
            .iter()
            .map(|h| tlog_tiles::Hash(h.0))
            .collect();
        tlog_tiles::check_record(&p, size as u64, th, index as u64, tlog_tiles::Hash(leaf.0))
            .unwrap();
    }
}

#[test]
fn tlog_proof_tampering_is_caught_precisely() {
    let (proof, leaf) = make_proof(100, 42, 3);
    let pol = policy(2);
    proof.verify(&leaf, &pol).unwrap();

    // Wrong leaf.
    assert_eq!(
        proof.verify(&sha(&[b"x"]), &pol),
        Err(TlogProofError::Inclusion(ProofError::RootMismatch))
    );
    // Tampered index (same proof length).
    let mut p = proof.clone();
    p.index = 43;
    assert_eq!(
        p.verify(&leaf, &pol),
        Err(TlogProofError::Inclusion(ProofError::RootMismatch))
    );
    p.index = 100;
    assert_eq!(
        p.verify(&leaf, &pol),
        Err(TlogProofError::IndexOutOfRange {
            index: 100,
            size: 100
        })
    );
    // Tampered hash.
    let mut p = proof.clone();
    p.inclusion[3].0[0] ^= 1;
    let p = TlogProof::parse(&p.to_bytes()).unwrap();
    assert_eq!(
        p.verify(&leaf, &pol),
        Err(TlogProofError::Inclusion(ProofError::RootMismatch))
    );
    // Dropped hash.
    let mut p = proof.clone();
    p.inclusion.pop();
    assert!(matches!(
        p.verify(&leaf, &pol),
        Err(TlogProofError::Inclusion(
            ProofError::WrongProofLength { .. }
        ))
    ));
    // Tampered checkpoint body: the log signature fails.
    let text = String::from_utf8(proof.to_bytes())
        .unwrap()
        .replacen("\n100\n", "\n101\n", 1);
    let p = TlogProof::parse(text.as_bytes()).unwrap();
    assert!(matches!(
        p.verify(&leaf, &pol),
        Err(TlogProofError::Policy(PolicyError::LogSignature(
            CheckpointError::InvalidLogSignature { .. }
        )))
    ));
    // Tampered cosignature: a known witness's bad signature rejects the proof.
    let mut p = proof.clone();
    let note_sigs = p.checkpoint.note().signatures.clone();
    let mut cp = SignedCheckpoint::sign(p.checkpoint.checkpoint().clone(), &log_key()).unwrap();
    for s in &note_sigs[1..] {
        let mut c = Cosignature::from_note_signature(s).unwrap();
        if c.name.as_str() == "w1.example.cn/witness" {
            c.signature[10] ^= 0x40;
        }
        cp.add_cosignature(&c).unwrap();
    }
    p.checkpoint = cp;
    let p = TlogProof::parse(&p.to_bytes()).unwrap();
    assert_eq!(
        p.verify(&leaf, &pol),
        Err(TlogProofError::Policy(PolicyError::InvalidCosignature {
            witness: "w1.example.cn/witness".into(),
            source: CosignatureError::InvalidSignature {
                name: "w1.example.cn/witness".into()
            },
        }))
    );
    // Unknown log.
    let other = TrustPolicy::new(
        &[NoteSigner::generate(name("x"), &mut rng(5)).verifier_key()],
        &[],
        0,
    )
    .unwrap();
    assert_eq!(
        proof.verify(&leaf, &other),
        Err(TlogProofError::Policy(PolicyError::UnknownLog {
            origin: LOG.into()
        }))
    );
}

#[test]
fn quorum_not_met() {
    let (proof, leaf) = make_proof(10, 4, 1);
    assert!(proof.verify(&leaf, &policy(1)).is_ok());
    assert_eq!(
        proof.verify(&leaf, &policy(2)),
        Err(TlogProofError::Policy(PolicyError::QuorumNotMet {
            quorum: "+cosigners".into(),
            verified: 1
        }))
    );
    let (none, leaf) = make_proof(10, 4, 0);
    assert!(none.verify(&leaf, &policy(0)).is_ok());
    assert!(matches!(
        none.verify(&leaf, &policy(1)),
        Err(TlogProofError::Policy(PolicyError::QuorumNotMet {
            verified: 0,
            ..
        }))
    ));
    // Cosignatures from witnesses outside the policy do not count.
    let (p, leaf) = make_proof(10, 4, 3);
    let only_w2 = TrustPolicy::new(
        &[log_key().verifier_key()],
        &[witness(2).verifier_key(), witness(9).verifier_key()],
        2,
    )
    .unwrap();
    assert!(matches!(
        p.verify(&leaf, &only_w2),
        Err(TlogProofError::Policy(PolicyError::QuorumNotMet {
            verified: 1,
            ..
        }))
    ));
}

#[test]
fn tlog_proof_syntax_rejections() {
    let (proof, _) = make_proof(8, 3, 1);
    let good = String::from_utf8(proof.to_bytes()).unwrap();
    let (header, cp) = good.split_once("\n\n").unwrap();
    let hashes: Vec<&str> = header.lines().skip(2).collect();
    let h = hashes[0];
    let cases: Vec<(String, TlogProofError)> = vec![
        (
            good.replacen("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
            TlogProofError::BadMagic,
        ),
        (
            good.replacen("index 3", "index 03", 1),
            TlogProofError::BadIndex {
                line: 2,
                found: "03".into(),
            },
        ),
        (
            good.replacen("index 3", "index -3", 1),
            TlogProofError::BadIndex {
                line: 2,
                found: "-3".into(),
            },
        ),
        (
            good.replacen("index 3", "idx 3", 1),
            TlogProofError::MissingIndex { line: 2 },
        ),
        (
            good.replacen("index 3", "extra !!\nindex 3", 1),
            TlogProofError::BadExtra { line: 2 },
        ),
        (
            good.replacen("index 3", "extra AAAA\nextra AAAA\nindex 3", 1),
            TlogProofError::MissingIndex { line: 3 },
        ),
        (header.to_owned(), TlogProofError::MissingCheckpoint),
        (
            good.replacen(h, &h[..h.len() - 1], 1),
            TlogProofError::BadHash {
                line: 3,
                reason: credx_protocol::merkle::HashParseError::NotBase64,
            },
        ),
        (
            good.replacen(h, "AAAA", 1),
            TlogProofError::BadHash {
                line: 3,
                reason: credx_protocol::merkle::HashParseError::WrongLength { found: 3 },
            },
        ),
        (
            format!(
                "c2sp.org/tlog-proof@v1\nindex 3\n{}\n\n{cp}",
                vec![h; MAX_PROOF_HASHES + 1].join("\n")
            ),
            TlogProofError::TooManyHashes {
                max: MAX_PROOF_HASHES,
            },
        ),
        (
            format!("{header}\n\n{}", cp.replacen(&format!("{LOG}\n"), "", 1)),
            TlogProofError::Checkpoint(CheckpointError::SizeNotDecimal {
                found: cp.lines().nth(2).unwrap().chars().take(32).collect(),
            }),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(TlogProof::parse(input.as_bytes()), Err(want), "{input:?}");
    }
    // Exactly the limit is fine syntactically.
    let at_limit = format!(
        "c2sp.org/tlog-proof@v1\nindex 3\n{}\n\n{cp}",
        vec![h; MAX_PROOF_HASHES].join("\n")
    );
    assert_eq!(
        TlogProof::parse(at_limit.as_bytes())
            .unwrap()
            .inclusion
            .len(),
        MAX_PROOF_HASHES
    );
    // No hashes at all (size-1 tree) parses.
    let (one, leaf) = make_proof(1, 0, 1);
    let b = one.to_bytes();
    assert!(String::from_utf8(b.clone())
        .unwrap()
        .contains("index 0\n\n"));
    TlogProof::parse(&b)
        .unwrap()
        .verify(&leaf, &policy(1))
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Trust policy

fn policy_text() -> String {
    let ws: Vec<String> = (0..6)
        .map(|i| witness(i).verifier_key().to_string())
        .collect();
    format!(
        "# credx federation policy\n\
         log {log} https://county-042.example.cn/\n\
         \n\
         witness X1 {w0}\n\
         witness X2 {w1}\n\
         \twitness   X3 {w2} https://x3.example.cn/\n\
         group X-witnesses 2 X1 X2 X3\n\
         \n\
         witness Y1 {w3}\n\
         witness Y2 {w4}\n\
         witness Y3 {w5}\n\
         group Y-witnesses any Y1 Y2 Y3\n\
         \x20 # indented comment with non-UTF-8 is fine\n\
         group X-and-Y all X-witnesses Y-witnesses\n\
         quorum X-and-Y\n",
        log = log_key().verifier_key(),
        w0 = ws[0],
        w1 = ws[1],
        w2 = ws[2],
        w3 = ws[3],
        w4 = ws[4],
        w5 = ws[5],
    )
}

#[test]
fn policy_parse_evaluate_and_round_trip() {
    let mut text = policy_text().into_bytes();
    // A non-UTF-8 byte in a comment is allowed (comments are opaque octets).
    let pos = text.windows(6).position(|w| w == b"non-UT").unwrap();
    text[pos] = 0xff;
    let p = TrustPolicy::parse(&text).unwrap();
    assert_eq!(p.logs().len(), 1);
    assert_eq!(
        p.logs()[0].url.as_deref(),
        Some("https://county-042.example.cn/")
    );
    assert_eq!(p.witnesses().len(), 6);
    assert_eq!(
        p.witnesses()[2].url.as_deref(),
        Some("https://x3.example.cn/")
    );
    assert_eq!(p.groups()[0].threshold, 2);
    assert_eq!(p.groups()[1].threshold, 1);
    assert_eq!(p.groups()[2].threshold, 2);
    assert_eq!(p.quorum(), Quorum::Group(2));
    assert_eq!(TrustPolicy::parse(p.to_text().as_bytes()).unwrap(), p);

    let leaves = tree(5);
    let cp = checkpoint(5, mth(&leaves));
    let cosigned = |ws: &[u64]| {
        let mut s = SignedCheckpoint::sign(cp.clone(), &log_key()).unwrap();
        for &i in ws {
            s.add_cosignature(&witness(i).cosign(&cp, 5).unwrap())
                .unwrap();
        }
        s
    };
    // 2 of X and 1 of Y.
    assert_eq!(
        p.verify_cosignatures(&cosigned(&[0, 2, 4])).unwrap().len(),
        3
    );
    assert!(p.verify_checkpoint(&cosigned(&[1, 2, 3])).is_ok());
    // 3 of X but no Y; 1 of X and all of Y.
    assert!(matches!(
        p.verify_cosignatures(&cosigned(&[0, 1, 2])),
        Err(PolicyError::QuorumNotMet { .. })
    ));
    assert!(matches!(
        p.verify_cosignatures(&cosigned(&[0, 3, 4, 5])),
        Err(PolicyError::QuorumNotMet { verified: 4, .. })
    ));
}

#[test]
fn policy_rejections() {
    let log = log_key().verifier_key().to_string();
    let w0 = witness(0).verifier_key().to_string();
    let w1 = witness(1).verifier_key().to_string();
    let cases: Vec<(String, PolicyError)> = vec![
        (format!("log {log}\n"), PolicyError::MissingQuorum),
        (
            "quorum none\nquorum none\n".into(),
            PolicyError::DuplicateQuorum { line: 2, first: 1 },
        ),
        (
            "quorum X\n".into(),
            PolicyError::UndefinedName {
                line: 1,
                name: "X".into(),
            },
        ),
        (
            format!("quorum A\nwitness A {w0}\n"),
            PolicyError::UndefinedName {
                line: 1,
                name: "A".into(),
            },
        ),
        (
            format!("witness A {w0}\nwitness A {w1}\n"),
            PolicyError::DuplicateName {
                line: 2,
                name: "A".into(),
            },
        ),
        (
            format!("witness A {w0}\nwitness B {w0}\n"),
            PolicyError::DuplicateKey { line: 2, first: 1 },
        ),
        (
            format!("log {log}\nlog {log}\n"),
            PolicyError::DuplicateKey { line: 2, first: 1 },
        ),
        (
            format!("witness none {w0}\n"),
            PolicyError::ReservedName {
                line: 1,
                name: "none".into(),
            },
        ),
        (
            format!("witness A {w0}\ngroup G any A none\n"),
            PolicyError::ReservedName {
                line: 2,
                name: "none".into(),
            },
        ),
        (
            format!("witness A {w0}\ngroup G any A A\n"),
            PolicyError::DuplicateMember {
                line: 2,
                name: "A".into(),
            },
        ),
        (
            format!("witness A {w0}\ngroup G 2 A\n"),
            PolicyError::BadThreshold {
                line: 2,
                found: "2".into(),
                members: 1,
            },
        ),
        (
            format!("witness A {w0}\ngroup G 0 A\n"),
            PolicyError::BadThreshold {
                line: 2,
                found: "0".into(),
                members: 1,
            },
        ),
        (
            format!("witness A {w0}\ngroup G 01 A\n"),
            PolicyError::BadThreshold {
                line: 2,
                found: "01".into(),
                members: 1,
            },
        ),
        ("group G any\n".into(), PolicyError::EmptyGroup { line: 1 }),
        (
            format!("witness A {log}\n"),
            PolicyError::WrongKeyType {
                line: 1,
                role: "witness",
                expected: KeyType::CosignatureV1,
                found: KeyType::Ed25519,
            },
        ),
        (
            format!("log {w0}\n"),
            PolicyError::WrongKeyType {
                line: 1,
                role: "log",
                expected: KeyType::Ed25519,
                found: KeyType::CosignatureV1,
            },
        ),
        (
            "log nonsense\n".into(),
            PolicyError::BadKey {
                line: 1,
                source: KeyError::MissingField { field: "key id" },
            },
        ),
        (
            format!("log {log} url extra\n"),
            PolicyError::WrongFieldCount {
                line: 1,
                keyword: "log",
            },
        ),
        (
            "quorum\n".into(),
            PolicyError::WrongFieldCount {
                line: 1,
                keyword: "quorum",
            },
        ),
        (
            "frobnicate\n".into(),
            PolicyError::UnknownKeyword {
                line: 1,
                keyword: "frobnicate".into(),
            },
        ),
        (
            "quorum none\r\n".into(),
            PolicyError::ForbiddenByte {
                line: 1,
                byte: b'\r',
            },
        ),
        (
            "quorum none\nlog \u{0}\n".into(),
            PolicyError::ForbiddenByte { line: 2, byte: 0 },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(TrustPolicy::parse(input.as_bytes()), Err(want), "{input:?}");
    }
    assert_eq!(
        TrustPolicy::parse(b"witness \xff x\n"),
        Err(PolicyError::NotUtf8 { line: 1 })
    );
    // Minimal policies.
    assert_eq!(
        TrustPolicy::parse(b"quorum none").unwrap().quorum(),
        Quorum::None
    );
    let single = TrustPolicy::parse(format!("witness A {w0}\nquorum A\n").as_bytes()).unwrap();
    assert_eq!(single.quorum(), Quorum::Witness(0));
    // Limits: 33 witnesses are supported (spec recommends ≥ 32).
    let mut many = String::new();
    for i in 0..33 {
        many.push_str(&format!(
            "witness W{i} {}\n",
            witness(1000 + i).verifier_key()
        ));
    }
    many.push_str("quorum none\n");
    assert_eq!(
        TrustPolicy::parse(many.as_bytes())
            .unwrap()
            .witnesses()
            .len(),
        33
    );
}

// ---------------------------------------------------------------------------------------
// Property tests

fn arb_name() -> impl Strategy<Value = KeyName> {
    "[a-z0-9./_-]{1,40}".prop_map(|s| KeyName::new(s).unwrap())
}

fn arb_hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn arb_checkpoint() -> impl Strategy<Value = Checkpoint> {
    (
        arb_name(),
        any::<u64>(),
        arb_hash(),
        prop::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
    )
        .prop_map(|(origin, size, root, extensions)| Checkpoint {
            origin: origin.into_string(),
            size,
            root,
            extensions,
        })
}

fn arb_signed_checkpoint() -> impl Strategy<Value = SignedCheckpoint> {
    (
        arb_checkpoint(),
        any::<u64>(),
        prop::collection::vec((0u64..5, 0u64..(1 << 63)), 0..4),
    )
        .prop_map(|(cp, seed, cosigs)| {
            let signer =
                NoteSigner::generate(KeyName::new(cp.origin.clone()).unwrap(), &mut rng(seed));
            let mut s = SignedCheckpoint::sign(cp.clone(), &signer).unwrap();
            for (w, ts) in cosigs {
                s.add_cosignature(&witness(w).cosign(&cp, ts).unwrap())
                    .unwrap();
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_note_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = SignedNote::parse(&bytes);
    }

    #[test]
    fn signed_note_parse_never_panics_on_near_valid(text in "[a-z\n]{0,30}", sigs in prop::collection::vec("(— |—|-)?[a-z+ ]{0,8} ?[A-Za-z0-9+/=]{0,12}", 0..4)) {
        let s = format!("{text}\n\n{}\n", sigs.join("\n"));
        if let Ok(n) = SignedNote::parse(s.as_bytes()) {
            prop_assert_eq!(n.to_bytes(), s.as_bytes());
        }
    }

    #[test]
    fn checkpoint_parse_text_never_panics(s in "\\PC{0,200}", t in "[0-9a-zA-Z+/=\n]{0,80}") {
        let _ = Checkpoint::parse_text(&s);
        if let Ok(cp) = Checkpoint::parse_text(&t) {
            prop_assert_eq!(cp.to_text(), t);
        }
    }

    #[test]
    fn signed_checkpoint_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = SignedCheckpoint::parse(&bytes);
    }

    #[test]
    fn tlog_proof_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = TlogProof::parse(&bytes);
    }

    #[test]
    fn tlog_proof_parse_never_panics_on_mutations(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (proof, leaf) = make_proof(9, 5, 1);
        let mut bytes = proof.to_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(p) = TlogProof::parse(&bytes) {
            // Either the mutation is rejected by verification or it did not change the proof.
            if p.verify(&leaf, &policy(1)).is_ok() {
                prop_assert_eq!(p.to_bytes(), proof.to_bytes());
            }
        }
    }

    #[test]
    fn vkey_from_str_never_panics(s in "\\PC{0,120}", t in "[a-z]{1,5}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/=]{40,48}") {
        let _ = s.parse::<VerifierKey>();
        let _ = t.parse::<VerifierKey>();
        let _ = NoteSigner::from_private_key_str(&s);
        let _ = NoteSigner::from_private_key_str(&format!("PRIVATE+KEY+{t}"));
        let _ = CosignerKey::from_private_key_str(&format!("PRIVATE+KEY+{t}"));
    }

    #[test]
    fn trust_policy_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024),
                                       lines in prop::collection::vec("(log|witness|group|quorum|#) ?[a-z0-9 ]{0,12}", 0..8)) {
        let _ = TrustPolicy::parse(&bytes);
        let _ = TrustPolicy::parse(lines.join("\n").as_bytes());
    }

    #[test]
    fn checkpoint_round_trip(cp in arb_checkpoint()) {
        prop_assert_eq!(Checkpoint::parse_text(&cp.to_text()).unwrap(), cp);
    }

    #[test]
    fn signed_note_round_trip(text in "([^\\x00-\\x1f]{0,20}\n){1,5}", seeds in prop::collection::vec(0u64..20, 1..4)) {
        let signers: Vec<NoteSigner> = seeds.iter().map(|&s| NoteSigner::generate(name(&format!("k{s}")), &mut rng(s))).collect();
        let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
        let note = SignedNote::sign(text, &refs).unwrap();
        let parsed = SignedNote::parse(&note.to_bytes()).unwrap();
        prop_assert_eq!(&parsed, &note);
        let keys: Vec<VerifierKey> = signers.iter().map(|s| s.verifier_key()).collect();
        prop_assert!(parsed.verify(&keys).is_ok());
    }

    #[test]
    fn signed_checkpoint_round_trip(s in arb_signed_checkpoint()) {
        prop_assert_eq!(SignedCheckpoint::parse(&s.to_bytes()).unwrap(), s);
    }

    #[test]
    fn tlog_proof_round_trip(extra in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
                             index in any::<u64>(),
                             inclusion in prop::collection::vec(arb_hash(), 0..=MAX_PROOF_HASHES),
                             checkpoint in arb_signed_checkpoint()) {
        let p = TlogProof { extra, index, inclusion, checkpoint };
        prop_assert_eq!(TlogProof::parse(&p.to_bytes()).unwrap(), p);
    }

    #[test]
    fn vkey_round_trip(n in arb_name(), seed in any::<u64>(), cosigner in any::<bool>()) {
        let k = if cosigner {
            CosignerKey::generate(n, &mut rng(seed)).verifier_key()
        } else {
            NoteSigner::generate(n, &mut rng(seed)).verifier_key()
        };
        prop_assert_eq!(k.to_string().parse::<VerifierKey>().unwrap(), k);
    }

    #[test]
    fn trust_policy_round_trip(n in 0usize..6, q in 0usize..6, seed in 0u64..1000) {
        let ws: Vec<VerifierKey> = (0..n as u64).map(|i| CosignerKey::generate(name(&format!("w{i}")), &mut rng(seed * 10 + i)).verifier_key()).collect();
        let q = q.min(n);
        let p = TrustPolicy::new(&[log_key().verifier_key()], &ws, q).unwrap();
        prop_assert_eq!(TrustPolicy::parse(p.to_text().as_bytes()).unwrap(), p);
    }
}
