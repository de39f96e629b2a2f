//! Interoperability of the note module with independent implementations: the `signed_note`
//! crate (a port of Go's `sumdb/note`) and `tlog_tiles` (Go `sumdb/tlog` + Sunlight's
//! checkpoint parser), plus known-answer vectors from the Go package and the C2SP spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use credx_protocol::merkle::Hash;
use credx_protocol::note::{
    Checkpoint, CosignerKey, KeyName, NoteError, NoteSigner, SignedCheckpoint, SignedNote,
    TrustPolicy, VerifierKey,
};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use rand::rngs::OsRng;
use rand::SeedableRng;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

fn name(s: &str) -> KeyName {
    KeyName::new(s).unwrap()
}

fn sample_checkpoint(origin: &str) -> Checkpoint {
    Checkpoint::new(
        origin,
        20852163,
        Hash::from_base64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=").unwrap(),
    )
}

/// A `signed_note::Verifier` for cosignature/v1 written independently of our code: strip
/// the 8-byte timestamp and rebuild `cosignature/v1\ntime N\n<body>`.
struct CosigVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl signed_note::Verifier for CosigVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        if sig.len() != 72 {
            return false;
        }
        let ts = u64::from_be_bytes(sig[..8].try_into().unwrap());
        let mut m = format!("cosignature/v1\ntime {ts}\n").into_bytes();
        m.extend_from_slice(msg);
        let sig = ed25519_dalek::Signature::from_slice(&sig[8..]).unwrap();
        self.key.verify(&m, &sig).is_ok()
    }
}

/// Independent key id for a 0x04 key, via `signed_note::key_id` (which hashes name || \n || key).
fn cosig_key_id(name: &str, pk: &VerifyingKey) -> u32 {
    let mut k = vec![0x04];
    k.extend_from_slice(pk.as_bytes());
    signed_note::key_id(name, &k)
}

/// A `signed_note::Signer` producing cosignature/v1 lines, independent of our code.
struct CosigSigner {
    name: String,
    id: u32,
    key: SigningKey,
    ts: u64,
}

impl signed_note::Signer for CosigSigner {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        let mut m = format!("cosignature/v1\ntime {}\n", self.ts).into_bytes();
        m.extend_from_slice(msg);
        let mut out = self.ts.to_be_bytes().to_vec();
        out.extend_from_slice(&self.key.sign(&m).to_bytes());
        Ok(out)
    }
}

#[test]
fn our_signed_checkpoint_verifies_with_signed_note_and_parses_with_tlog_tiles() {
    for seed in 0..20u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let origin = format!("county-{seed:03}.example.cn/log");
        let signer = NoteSigner::generate(name(&origin), &mut rng);
        let mut cp = sample_checkpoint(&origin);
        cp.size = seed * 1_000_003;
        if seed % 3 == 0 {
            cp.extensions = vec![format!("ext {seed}"), "— second".to_owned()];
        }
        let signed = SignedCheckpoint::sign(cp.clone(), &signer).unwrap();
        let bytes = signed.to_bytes();

        let vkey = signer.verifier_key().to_string();
        let verifier = StandardVerifier::new(&vkey).unwrap();
        let note = Note::from_bytes(&bytes).unwrap();
        let (verified, unverified) = note
            .verify(&VerifierList::new(vec![Box::new(verifier)]))
            .unwrap();
        assert_eq!(verified.len(), 1);
        assert!(unverified.is_empty());
        assert_eq!(verified[0].name(), origin);
        assert_eq!(verified[0].id(), signer.key_id());

        let theirs = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
        assert_eq!(theirs.origin(), origin);
        assert_eq!(theirs.size(), cp.size);
        assert_eq!(theirs.hash().0, cp.root.0);
        // And their serialisation is byte-identical to ours.
        assert_eq!(theirs.to_bytes(), cp.to_text().into_bytes());
    }
}

#[test]
fn notes_signed_by_signed_note_verify_with_ours() {
    let (skey, vkey) = signed_note::generate_key(&mut OsRng, "province-7.example.cn/log");
    let signer = StandardSigner::new(&skey).unwrap();
    let cp = sample_checkpoint("province-7.example.cn/log");
    let mut note = Note::new(cp.to_text().as_bytes(), &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let bytes = note.to_bytes();

    let ours: VerifierKey = vkey.parse().unwrap();
    assert_eq!(ours.to_string(), vkey);
    let parsed = SignedCheckpoint::parse(&bytes).unwrap();
    parsed.verify(&ours).unwrap();
    assert_eq!(parsed.checkpoint(), &cp);
    assert_eq!(parsed.to_bytes(), bytes);

    // Their private-key string is ours too, and signing is deterministic: same bytes.
    let our_signer = NoteSigner::from_private_key_str(&skey).unwrap();
    assert_eq!(our_signer.to_private_key_str(), skey);
    assert_eq!(our_signer.verifier_key(), ours);
    let ours_signed = SignedCheckpoint::sign(cp, &our_signer).unwrap();
    assert_eq!(ours_signed.to_bytes(), bytes);
}

#[test]
fn our_private_key_string_is_accepted_by_signed_note() {
    let signer = NoteSigner::generate(name("city-3.example.cn/log"), &mut OsRng);
    let theirs = StandardSigner::new(&signer.to_private_key_str()).unwrap();
    let mut note = Note::new(b"hello\n", &[]).unwrap();
    note.add_sigs(&[&theirs]).unwrap();
    let ours = SignedNote::sign("hello\n", &[&signer]).unwrap();
    assert_eq!(ours.to_bytes(), note.to_bytes());
}

/// Go `golang.org/x/mod/sumdb/note` documentation vector (also in `signed_note`'s docs).
#[test]
fn go_sumdb_note_known_answer() {
    let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let want = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n\
                \n\
                — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    let signer = NoteSigner::from_private_key_str(skey).unwrap();
    assert_eq!(signer.verifier_key().to_string(), vkey);
    let note = SignedNote::sign(text, &[&signer]).unwrap();
    assert_eq!(note.to_bytes(), want.as_bytes());

    let key: VerifierKey = vkey.parse().unwrap();
    let parsed = SignedNote::parse(want.as_bytes()).unwrap();
    let v = parsed.verify(&[key]).unwrap();
    assert_eq!(v.text, text);
    assert_eq!(v.verified.len(), 1);
}

/// The C2SP signed-note spec's verifier-key example. The signature line is the spec's; an
/// Ed25519 signature that verifies under the spec's key is self-certifying, and we also
/// check it with `signed_note`.
#[test]
fn c2sp_signed_note_spec_example() {
    let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    let msg = "This is an example message.\n\n\
               — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    let theirs = StandardVerifier::new(vkey).unwrap();
    Note::from_bytes(msg.as_bytes())
        .unwrap()
        .verify(&VerifierList::new(vec![Box::new(theirs)]))
        .unwrap();

    let key: VerifierKey = vkey.parse().unwrap();
    assert_eq!(key.key_id(), 0x530d903a);
    assert_eq!(key.to_string(), vkey);
    let note = SignedNote::parse(msg.as_bytes()).unwrap();
    assert_eq!(note.to_bytes(), msg.as_bytes());
    let v = note.verify(&[key]).unwrap();
    assert_eq!(v.text, "This is an example message.\n");

    // One flipped text byte and the (known) key's signature no longer verifies.
    let tampered = msg.replacen("example message", "example massage", 1);
    let key: VerifierKey = vkey.parse().unwrap();
    assert!(matches!(
        SignedNote::parse(tampered.as_bytes())
            .unwrap()
            .verify(&[key]),
        Err(NoteError::InvalidSignature { line: 3, .. })
    ));
}

#[test]
fn our_cosignatures_verify_with_an_independent_verifier() {
    let log = NoteSigner::generate(name("county-042.example.cn/log"), &mut OsRng);
    let witness = CosignerKey::generate(name("province-7.example.cn/witness"), &mut OsRng);
    let cp = sample_checkpoint("county-042.example.cn/log");
    let mut signed = SignedCheckpoint::sign(cp.clone(), &log).unwrap();
    let cosig = witness.cosign(&cp, 1_679_315_147).unwrap();
    signed.add_cosignature(&cosig).unwrap();
    let bytes = signed.to_bytes();

    let pk = witness.verifier_key();
    let id = cosig_key_id(pk.name().as_str(), pk.public_key());
    assert_eq!(id, witness.key_id(), "independent key id for type 0x04");
    let list = VerifierList::new(vec![
        Box::new(StandardVerifier::new(&log.verifier_key().to_string()).unwrap()),
        Box::new(CosigVerifier {
            name: pk.name().to_string(),
            id,
            key: *pk.public_key(),
        }),
    ]);
    let (verified, _) = Note::from_bytes(&bytes).unwrap().verify(&list).unwrap();
    assert_eq!(verified.len(), 2);

    // The 0x04 vkey is rejected by signed_note's standard verifier (it only knows 0x01).
    assert!(StandardVerifier::new(&pk.to_string()).is_err());
}

#[test]
fn independent_cosignatures_verify_with_ours() {
    let log = NoteSigner::generate(name("county-001.example.cn/log"), &mut OsRng);
    let wkey = SigningKey::generate(&mut OsRng);
    let wname = "national.example.cn/witness";
    let cp = sample_checkpoint("county-001.example.cn/log");
    let signed = SignedCheckpoint::sign(cp, &log).unwrap();

    let mut note = Note::from_bytes(&signed.to_bytes()).unwrap();
    let theirs = CosigSigner {
        name: wname.to_owned(),
        id: cosig_key_id(wname, &wkey.verifying_key()),
        key: wkey.clone(),
        ts: 1_700_000_000,
    };
    note.add_sigs(&[&theirs]).unwrap();
    let bytes = note.to_bytes();

    let parsed = SignedCheckpoint::parse(&bytes).unwrap();
    let ours = CosignerKey::from_signing_key(name(wname), wkey);
    let policy = TrustPolicy::new(&[log.verifier_key()], &[ours.verifier_key()], 1).unwrap();
    let cosigners = policy.verify_cosignatures(&parsed).unwrap();
    assert_eq!(cosigners, vec![wname.to_owned()]);
    let c = parsed.cosignature_by(&ours.verifier_key()).unwrap();
    assert_eq!(c.timestamp, 1_700_000_000);
    // Deterministic Ed25519: our cosigner produces the identical line.
    assert_eq!(ours.cosign(parsed.checkpoint(), 1_700_000_000).unwrap(), c);
}
