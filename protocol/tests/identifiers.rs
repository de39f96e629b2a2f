//! Identifier fixtures from credit-data.md §1.6, §2.3, §8 and credit-testdata.txt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use credx_protocol::ident::checksum::{
    gb11714_sum, gb32100_check_char, gb32100_sum, is_valid_business_registration_number,
    mod11_2_sum, GB32100_ALPHABET,
};
use credx_protocol::ident::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn dc(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

const VALID_USCC: &[&str] = &[
    "91420281PDY00001X0",
    "92420222PDY000028E",
    "93420222PDY0000366",
    "91420200PDY000044B",
    "11420281PDY000052Q",
    "11420222PDY000132X",
    "11420000PDY0001162",
    "12420200PDY0000606",
    "51630000PDY0000799",
    "11630000PDY0001404",
    "52460200PDY000087A",
    "11460200PDY000159A",
    "53410100PDY0000958",
    "11410100PDY0001756",
    "91131100PDY000108G",
    "11131100PDY000167U",
    "Y1630000PDY000124G",
    // real-world checksum fixtures
    "91110000600037341L",
    "12100000400009880K",
    "91512081MA62K0260E",
    "91350200MA2YJ1XR9G",
];

#[test]
fn valid_usccs_parse_and_round_trip() {
    for code in VALID_USCC {
        let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(u.as_str(), *code);
        assert_eq!(u.to_string(), *code);
        assert!(u.authority_category_known(), "{code}");
        assert_eq!(
            Uscc::check(code, &UsccPolicy::default()),
            UsccCheck::Valid(u)
        );
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<Uscc>(&json).unwrap(), u);
    }
}

#[test]
fn uscc_accessors() {
    let u = Uscc::parse("11420281PDY000052Q").unwrap();
    assert_eq!(u.division_code(), "420281");
    assert_eq!(u.division(), dc("420281"));
    assert_eq!(u.organization_code(), "PDY000052");
    assert_eq!(u.registration_authority(), '1');
    assert_eq!(u.category(), '1');
    assert!(u.is_government_authority());
    let e = Uscc::parse("91420281PDY00001X0").unwrap();
    assert!(!e.is_government_authority());
    assert_eq!(e.category(), '1');
    assert_eq!(
        Uscc::parse("12100000400009880K").unwrap().division(),
        DivisionCode::CENTRAL
    );
}

#[test]
fn worked_example_checksums() {
    assert_eq!(gb32100_sum(b"91110000600037341"), Some(538));
    assert_eq!(gb32100_check_char(b"91110000600037341"), Some('L'));
    assert_eq!(gb11714_sum(b"60003734"), Some(109));
    assert_eq!(gb32100_sum(b"91420281PDY00001X").map(|s| s % 31), Some(0));
    assert_eq!(gb32100_sum(b"91420281PDY00001X"), Some(2728));
    assert_eq!(gb32100_check_char(b"91420281PDY00001X"), Some('0'));
    assert_eq!(gb11714_sum(b"PDY00001"), Some(474));
    assert_eq!(mod11_2_sum(b"11010519491231002"), Some(167));
    assert_eq!(
        Uscc::complete("91420281PDY00001").as_deref(),
        Some("91420281PDY00001X0")
    );
}

#[test]
fn invalid_usccs_exact_errors() {
    use UsccError::*;
    let cases: &[(&str, UsccError)] = &[
        (
            "91420281PDY00001X1",
            FinalCheck {
                expected: '0',
                found: '1',
            },
        ),
        (
            "91420281PDY0000106",
            BodyCheck {
                expected: 'X',
                found: '0',
            },
        ),
        (
            "91420281IDY00001X0",
            ForbiddenCharacter {
                position: 9,
                character: 'I',
            },
        ),
        ("91420281PDY00001X", Length { found: 17 }),
        (
            "91310115MA1G4L1WXK",
            FinalCheck {
                expected: '7',
                found: 'K',
            },
        ),
        ("", Empty),
        ("  - ", Empty),
        (
            "9142028APDY00001X0",
            DivisionNotDigits {
                position: 8,
                character: 'A',
            },
        ),
        (
            "91420281PDY00001中0",
            NonAsciiCharacter {
                position: 17,
                character: '中',
            },
        ),
        (
            "91420281PDY0000*X0",
            ForbiddenCharacter {
                position: 16,
                character: '*',
            },
        ),
    ];
    for (code, err) in cases {
        assert_eq!(Uscc::parse(code).as_ref(), Err(err), "{code}");
        assert!(!err.to_string().is_empty());
    }
    // Body check of the fabricated code is also wrong (expected 0).
    assert_eq!(
        credx_protocol::ident::checksum::gb11714_check_char(b"MA1G4L1W"),
        Some('0')
    );
    assert!(Uscc::parse("91420281PDY00001X1")
        .unwrap_err()
        .to_string()
        .contains("position 18"));
}

#[test]
fn unknown_division_in_uscc() {
    // Valid checksums, but 990000 is no province and 420299 is absent from complete 4202.
    for prefix in ["91990000PDY00001", "91420299PDY00001", "91429999PDY00001"] {
        let code = Uscc::complete(prefix).unwrap();
        assert!(
            matches!(Uscc::parse(&code), Err(UsccError::UnknownDivision { .. })),
            "{code}"
        );
    }
}

#[test]
fn uscc_normalisation_and_policy() {
    assert_eq!(
        Uscc::parse("91420281pdy00001x0").unwrap().as_str(),
        "91420281PDY00001X0"
    );
    assert_eq!(
        Uscc::parse("９１４２０２８１PDY00001X0").unwrap().as_str(),
        "91420281PDY00001X0"
    );
    assert_eq!(
        Uscc::parse(" 91420281-PDY00001X-0 ").unwrap().as_str(),
        "91420281PDY00001X0"
    );
    let strict = UsccPolicy {
        strict_case: true,
        ..UsccPolicy::default()
    };
    assert_eq!(
        Uscc::check("91420281pdy00001x0", &strict),
        UsccCheck::Invalid(UsccError::LowerCase {
            position: 9,
            character: 'p'
        })
    );
    assert!(matches!(
        Uscc::check("91420281PDY00001X0", &strict),
        UsccCheck::Valid(_)
    ));
    // Pilot-era code: allow-listed by default, rejected by parse and without the list.
    let pilot = "91350100M0001TGQXM";
    let defect = UsccError::FinalCheck {
        expected: '1',
        found: 'M',
    };
    assert_eq!(Uscc::parse(pilot), Err(defect.clone()));
    match Uscc::check(pilot, &UsccPolicy::default()) {
        UsccCheck::AllowListed { code, defect: d } => {
            assert_eq!(code.as_str(), pilot);
            assert_eq!(d, defect);
        }
        other => panic!("{other:?}"),
    }
    let empty = UsccPolicy {
        allow_list: Default::default(),
        strict_case: false,
    };
    assert_eq!(Uscc::check(pilot, &empty), UsccCheck::Invalid(defect));
    // Allow-listed codes can be read back from stored records.
    assert!(serde_json::from_str::<Uscc>(&format!("\"{pilot}\"")).is_ok());
    assert!(serde_json::from_str::<Uscc>("\"91420281PDY00001X1\"").is_err());
    assert!(matches!(
        Uscc::check("91310115MA1G4L1WXK", &UsccPolicy::default()),
        UsccCheck::Invalid(UsccError::FinalCheck { .. })
    ));
}

#[test]
fn authority_category_table() {
    let known = |p: &str| {
        Uscc::parse(&Uscc::complete(p).unwrap())
            .unwrap()
            .authority_category_known()
    };
    assert!(known("93420222PDY00003"));
    assert!(!known("94420222PDY00003"));
    assert!(!known("Y2630000PDY00012"));
    assert!(known("N1420281PDY00001"));
    assert!(!known("H1420281PDY00001"));
}

const VALID_IDS: &[(&str, Gender, &str)] = &[
    ("420281199603151237", Gender::Male, "420281"),
    ("420222199801012465", Gender::Female, "420222"),
    ("630102198806300179", Gender::Male, "630102"),
    ("469002200402290884", Gender::Female, "469002"),
    ("460202201403010669", Gender::Female, "460202"),
    ("410105199012315558", Gender::Male, "410105"),
    ("131102199808083400", Gender::Female, "131102"),
    ("422327196005200313", Gender::Male, "422327"),
    ("11010519491231002X", Gender::Female, "110105"),
    ("440524188001010014", Gender::Male, "440524"),
];

#[test]
fn valid_resident_ids() {
    let today = d(2026, 11, 22);
    for (id, gender, addr) in VALID_IDS {
        let r = ResidentId::parse_on(id, today).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(r.gender(), *gender, "{id}");
        assert_eq!(r.address_code().as_str(), *addr);
        assert_eq!(r.to_string(), *id);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<ResidentId>(&json).unwrap(), r);
    }
    let leap = ResidentId::parse("469002200402290884").unwrap();
    assert_eq!(leap.birth_date(), d(2004, 2, 29));
    assert_eq!(leap.age_on(d(2022, 2, 28)), 17);
    assert_eq!(leap.age_on(d(2022, 3, 1)), 18);
    let minor = ResidentId::parse("460202201403010669").unwrap();
    assert!(minor.age_on(d(2026, 11, 22)) < 18);
    assert_eq!(minor.age_on(d(2032, 3, 1)), 18);
    assert_eq!(minor.age_on(d(2000, 1, 1)), 0);
    let std = ResidentId::parse("11010519491231002X").unwrap();
    assert_eq!(std.birth_date(), d(1949, 12, 31));
    assert_eq!(
        ResidentId::parse("420281199603151237").unwrap().masked(),
        "420281********1237"
    );
    assert!(!format!("{:?}", std).contains("19491231"));
}

#[test]
fn invalid_resident_ids() {
    use ResidentIdError::*;
    assert_eq!(
        ResidentId::parse("420281199902301231"),
        Err(InvalidBirthDate {
            date: "19990230".into()
        })
    );
    let today = d(2026, 11, 22);
    assert!(ResidentId::parse("420281209912311237").is_ok());
    assert_eq!(
        ResidentId::parse_on("420281209912311237", today),
        Err(BirthDateInFuture {
            date: d(2099, 12, 31),
            today
        })
    );
    assert_eq!(
        ResidentId::parse("420281199603151230"),
        Err(CheckDigit {
            expected: '7',
            found: '0'
        })
    );
    assert_eq!(
        ResidentId::parse("42028119960315123"),
        Err(Length {
            expected: 18,
            found: 17
        })
    );
    assert_eq!(ResidentId::parse(" "), Err(Empty));
    assert_eq!(
        ResidentId::parse("4202811996 0315123"),
        Err(NotDigits {
            position: 11,
            character: ' '
        })
    );
    assert_eq!(
        ResidentId::parse("42028119960315123A"),
        Err(NotDigits {
            position: 18,
            character: 'A'
        })
    );
    // Province / prefecture codes and unknown codes as address codes (checksums made valid).
    let with_addr = |addr: &str| {
        let body = format!("{addr}19900101123");
        let c = credx_protocol::ident::checksum::mod11_2_check_char(body.as_bytes()).unwrap();
        format!("{body}{c}")
    };
    assert_eq!(
        ResidentId::parse(&with_addr("420000")),
        Err(NotCountyLevel {
            code: "420000".into()
        })
    );
    assert_eq!(
        ResidentId::parse(&with_addr("420200")),
        Err(NotCountyLevel {
            code: "420200".into()
        })
    );
    for bad in ["420299", "429999", "990101"] {
        assert_eq!(
            ResidentId::parse(&with_addr(bad)),
            Err(UnknownAddressCode { code: bad.into() }),
            "{bad}"
        );
    }
}

#[test]
fn resident_id_normalisation_and_legacy() {
    assert_eq!(
        ResidentId::parse("11010519491231002x").unwrap().as_str(),
        "11010519491231002X"
    );
    assert_eq!(
        ResidentId::parse("４２０２８１１９９６０３１５１２３７")
            .unwrap()
            .as_str(),
        "420281199603151237"
    );
    let legacy = ResidentId::from_legacy_15("420281850315123").unwrap();
    assert_eq!(legacy.as_str(), "420281198503151235");
    assert_eq!(
        ResidentId::from_legacy_15("42028185031512"),
        Err(ResidentIdError::Length {
            expected: 15,
            found: 14
        })
    );
    assert!(ResidentId::from_legacy_15_on("420281850315123", d(2026, 1, 1)).is_ok());
}

#[test]
fn business_registration_number() {
    assert!(is_valid_business_registration_number("420281000000013"));
    assert!(!is_valid_business_registration_number("420281000000014"));
    assert!(!is_valid_business_registration_number("42028100000001"));
}

#[test]
fn division_fixtures() {
    for code in [
        "420000", "420200", "420281", "420222", "630000", "460000", "460200", "410000", "410100",
        "130000", "131100",
    ] {
        let c = dc(code);
        assert!(c.is_known(), "{code}");
        assert!(c.is_current_on(d(2026, 1, 1)), "{code}");
        assert_eq!(c.status(), DivisionStatus::Known);
    }
    let yangxin_old = dc("422327");
    assert!(yangxin_old.is_known());
    assert!(!yangxin_old.is_current_on(d(2026, 1, 1)));
    assert!(yangxin_old.is_current_on(d(1990, 1, 1)));
    assert_eq!(yangxin_old.current_successor(), dc("420222"));
    assert_eq!(division_info(yangxin_old).unwrap().name, "阳新县");
    let daye = dc("420221");
    assert!(daye.is_known() && !daye.is_current_on(d(2000, 1, 1)));
    assert_eq!(daye.current_successor(), dc("420281"));
    let xisaishan = dc("420203");
    assert_eq!(xisaishan.info().unwrap().name, "西塞山区");
    assert_eq!(division_history(xisaishan)[0].name, "石灰窑区");
    assert!(xisaishan.is_current_on(d(1990, 1, 1)) && xisaishan.is_current_on(d(2026, 1, 1)));
    let huangzhong = dc("630122");
    assert_eq!(huangzhong.current_successor(), dc("630106"));
    assert!(huangzhong.is_current_on(d(2018, 6, 1)) && !huangzhong.is_current_on(d(2020, 1, 1)));
    assert_eq!(dc("131103").info().unwrap().name, "冀州区");
    assert_eq!(dc("440524").current_successor(), dc("440513"));
    for code in ["429999", "420299", "990000"] {
        let c = dc(code);
        assert!(!c.is_known(), "{code}");
        assert_eq!(c.status(), DivisionStatus::Unknown, "{code}");
        assert!(DivisionCode::parse_known(code).is_err());
    }
    // An area not loaded in full cannot be judged offline.
    assert_eq!(dc("310115").status(), DivisionStatus::NotCovered);
}

#[test]
fn division_levels_and_parse_errors() {
    assert_eq!(dc("420000").level(), DivisionLevel::Province);
    assert_eq!(dc("420200").level(), DivisionLevel::Prefecture);
    assert_eq!(dc("420281").level(), DivisionLevel::County);
    assert_eq!(DivisionCode::CENTRAL.level(), DivisionLevel::National);
    assert_eq!(dc("420281").province(), Some(dc("420000")));
    assert_eq!(dc("420281").prefecture(), Some(dc("420200")));
    assert_eq!(dc("469002").prefecture(), None);
    assert_eq!(dc("469002").province(), Some(dc("460000")));
    assert_eq!(dc("420000").prefecture(), None);
    assert_eq!(DivisionCode::parse(""), Err(DivisionError::Empty));
    assert_eq!(
        DivisionCode::parse("42028"),
        Err(DivisionError::Length { found: 5 })
    );
    assert_eq!(
        DivisionCode::parse("42O281"),
        Err(DivisionError::NotDigits {
            position: 3,
            character: 'O'
        })
    );
    assert!(matches!(
        DivisionCode::parse("001234"),
        Err(DivisionError::InvalidPattern { .. })
    ));
    assert_eq!(DivisionCode::parse("４２０２８１").unwrap(), dc("420281"));
    let json = serde_json::to_string(&dc("420281")).unwrap();
    assert_eq!(json, "\"420281\"");
    assert!(serde_json::from_str::<DivisionCode>("\"42028X\"").is_err());
}

#[test]
fn jurisdiction_prefix_rule() {
    let city = Jurisdiction::of(dc("420200"));
    let prov = Jurisdiction::of(dc("420000"));
    let county = Jurisdiction::of(dc("420281"));
    let wuhan = Jurisdiction::of(dc("420100"));
    assert_eq!(city.prefix(), "4202");
    assert_eq!(prov.prefix(), "42");
    assert_eq!(county.prefix(), "420281");
    assert!(city.contains(dc("420281")) && prov.contains(dc("420281")));
    assert!(!wuhan.contains(dc("420281")));
    assert!(county.contains(dc("420281")) && !county.contains(dc("420222")));
    // Historical codes map to their current successor.
    assert!(city.contains(dc("422327")));
    assert!(!Jurisdiction::of(dc("421200")).contains(dc("422327")));
    assert!(county.contains(dc("420221")));
    // Directly administered counties belong to the province only.
    let hainan = Jurisdiction::of(dc("460000"));
    assert!(hainan.contains(dc("469002")));
    assert!(!Jurisdiction::of(dc("460200")).contains(dc("469002")));
    assert_eq!(dc("469002").prefecture(), None);
    let national = Jurisdiction::national();
    assert!(national.contains(dc("469002")) && national.contains(DivisionCode::CENTRAL));
    assert!(!prov.contains(DivisionCode::CENTRAL));
    assert_eq!(Jurisdiction::of(DivisionCode::CENTRAL), national);
    let json = serde_json::to_string(&city).unwrap();
    assert_eq!(serde_json::from_str::<Jurisdiction>(&json).unwrap(), city);
}

#[test]
fn normalize_helper() {
    assert_eq!(
        normalize_code(" ９１４２０２８１pdy-00001 x0 "),
        "91420281PDY00001X0"
    );
}

fn alphabet_char() -> impl Strategy<Value = char> {
    (0..31usize).prop_map(|i| char::from(GB32100_ALPHABET[i]))
}

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = Uscc::parse(&s);
        let _ = Uscc::check(&s, &UsccPolicy { strict_case: true, ..UsccPolicy::default() });
        let _ = ResidentId::parse(&s);
        let _ = ResidentId::parse_on(&s, NaiveDate::MIN);
        let _ = ResidentId::from_legacy_15(&s);
        let _ = DivisionCode::parse(&s);
        let _ = normalize_code(&s);
    }

    #[test]
    fn parsers_never_panic_on_near_miss(s in "[0-9A-Za-z０-９Ｘｘ -]{14,20}") {
        let _ = Uscc::parse(&s);
        let _ = ResidentId::parse(&s);
        let _ = DivisionCode::parse(&s);
    }

    #[test]
    fn completed_codes_round_trip(
        head in proptest::collection::vec(alphabet_char(), 2),
        div in proptest::sample::select(vec!["420281", "420200", "420000", "630000", "460200", "100000"]),
        body in proptest::collection::vec(alphabet_char(), 8),
    ) {
        let prefix: String = head.iter().chain(div.chars().collect::<Vec<_>>().iter()).chain(body.iter()).collect();
        let code = Uscc::complete(&prefix).unwrap();
        let parsed = Uscc::parse(&code).unwrap();
        prop_assert_eq!(parsed.as_str(), code.as_str());
        prop_assert_eq!(Uscc::parse(&code.to_lowercase()).unwrap(), parsed);
    }

    #[test]
    fn resident_id_check_round_trip(seq in 0u32..1000, day in 1u32..=28, month in 1u32..=12, year in 1900i32..2020) {
        let body = format!("420281{year:04}{month:02}{day:02}{seq:03}");
        let c = credx_protocol::ident::checksum::mod11_2_check_char(body.as_bytes()).unwrap();
        let id = ResidentId::parse(&format!("{body}{c}")).unwrap();
        prop_assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(year, month, day).unwrap());
    }
}
