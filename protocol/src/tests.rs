//! The format, specified by example.

use super::*;
use proptest::prelude::*;

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(ClientFrame::Stdin),
        (any::<u16>(), any::<u16>())
            .prop_map(|(cols, rows)| ClientFrame::Resize(TermSize { cols, rows })),
        Just(ClientFrame::StdinClose),
        any::<u64>().prop_map(ClientFrame::Keepalive),
        any::<u32>().prop_map(ClientFrame::Ack),
    ]
}

fn error_kind() -> impl Strategy<Value = ErrorKind> {
    prop::sample::select(ErrorKind::WIRE.to_vec())
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    prop_oneof![
        (
            any::<u16>(),
            ".{0,40}",
            prop::collection::vec(".{0,20}", 0..4)
        )
            .prop_map(|(version, session_id, command)| ServerFrame::Hello {
                version,
                session_id,
                command
            }),
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(ServerFrame::Stdout),
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(ServerFrame::Stderr),
        (any::<i32>(), ".{0,40}").prop_map(|(code, reason)| ServerFrame::Exit { code, reason }),
        (error_kind(), ".{0,200}").prop_map(|(kind, message)| ServerFrame::Error { kind, message }),
        any::<u64>().prop_map(ServerFrame::Keepalive),
        any::<u32>().prop_map(ServerFrame::StdinAck),
    ]
}

proptest! {
    #[test]
    fn every_client_frame_round_trips(frame in client_frame()) {
        prop_assert_eq!(ClientFrame::from_bytes(&frame.to_bytes()), Ok(frame));
    }

    #[test]
    fn every_server_frame_round_trips(frame in server_frame()) {
        prop_assert_eq!(ServerFrame::from_bytes(&frame.to_bytes()), Ok(frame));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = ClientFrame::from_bytes(&bytes);
        let _ = ServerFrame::from_bytes(&bytes);
    }

    /// Mutation fuzzing in every test run: valid frames with bytes overwritten. Whatever
    /// still decodes is a frame like any other: it round-trips. (Not byte-identical: an
    /// unknown error kind decodes as `Other`.)
    #[test]
    fn mutated_frames_never_panic_and_what_decodes_round_trips(
        frame in server_frame(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = frame.to_bytes();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(decoded) = ServerFrame::from_bytes(&bytes) {
            prop_assert_eq!(ServerFrame::from_bytes(&decoded.to_bytes()), Ok(decoded));
        }
    }

    #[test]
    fn a_truncated_frame_is_an_error_not_a_shorter_frame(frame in server_frame(), cut in 1usize..8) {
        let bytes = frame.to_bytes();
        let cut = cut.min(bytes.len());
        prop_assert!(ServerFrame::from_bytes(&bytes[..bytes.len() - cut]).is_err());
    }
}

/// Golden vectors: these bytes are the format. If one of these fails, the wire format changed;
/// that needs a new [`SUBPROTOCOL`] version, not a new vector.
#[test]
fn golden_client_frames() {
    let cases: &[(ClientFrame, &[u8])] = &[
        (
            ClientFrame::Stdin(b"ls\r".to_vec()),
            &[0, 3, b'l', b's', b'\r'],
        ),
        (
            ClientFrame::Resize(TermSize {
                cols: 120,
                rows: 40,
            }),
            &[1, 120, 40],
        ),
        (
            ClientFrame::Resize(TermSize {
                cols: 300,
                rows: 50,
            }),
            &[1, 251, 44, 1, 50],
        ),
        (ClientFrame::StdinClose, &[2]),
        (ClientFrame::Keepalive(7), &[3, 7]),
        (ClientFrame::Ack(65536), &[4, 252, 0, 0, 1, 0]),
    ];
    for (frame, bytes) in cases {
        assert_eq!(&frame.to_bytes(), bytes, "{frame:?}");
        assert_eq!(&ClientFrame::from_bytes(bytes).as_ref(), &Ok(frame));
    }
}

#[test]
fn golden_server_frames() {
    let cases: &[(ServerFrame, &[u8])] = &[
        (
            ServerFrame::Hello {
                version: 1,
                session_id: "s1".into(),
                command: vec!["sh".into()],
            },
            &[0, 1, 2, b's', b'1', 1, 2, b's', b'h'],
        ),
        (ServerFrame::Stdout("é".into()), &[1, 2, 0xc3, 0xa9]),
        (ServerFrame::Stderr(b"!".to_vec()), &[2, 1, b'!']),
        (
            ServerFrame::Exit {
                code: 3,
                reason: "X".into(),
            },
            &[3, 6, 1, b'X'],
        ),
        (
            ServerFrame::Exit {
                code: -1,
                reason: String::new(),
            },
            &[3, 1, 0],
        ),
        (
            ServerFrame::Error {
                kind: ErrorKind::NoShell,
                message: "m".into(),
            },
            &[4, 3, 1, b'm'],
        ),
        (ServerFrame::Keepalive(300), &[5, 251, 44, 1]),
        (ServerFrame::StdinAck(100), &[6, 100]),
    ];
    for (frame, bytes) in cases {
        assert_eq!(&frame.to_bytes(), bytes, "{frame:?}");
        assert_eq!(&ServerFrame::from_bytes(bytes).as_ref(), &Ok(frame));
    }
}

#[test]
fn stdout_bytes_are_not_reinterpreted_even_when_they_split_a_utf8_character() {
    let half = vec![0xe2, 0x82]; // the first two bytes of '€'
    let frame = ServerFrame::Stdout(half.clone());
    assert_eq!(
        ServerFrame::from_bytes(&frame.to_bytes()),
        Ok(ServerFrame::Stdout(half))
    );
}

#[test]
fn a_frame_from_a_newer_peer_is_reported_as_unknown_so_it_can_be_skipped() {
    assert_eq!(
        ClientFrame::from_bytes(&[5, 9]),
        Err(DecodeError::UnknownFrame(5))
    );
    assert_eq!(
        ServerFrame::from_bytes(&[7]),
        Err(DecodeError::UnknownFrame(7))
    );
}

#[test]
fn an_error_kind_from_a_newer_peer_decodes_as_other() {
    assert_eq!(
        ServerFrame::from_bytes(&[4, 99, 0]),
        Ok(ServerFrame::Error {
            kind: ErrorKind::Other,
            message: String::new()
        })
    );
}

#[test]
fn error_kinds_keep_their_wire_values_and_new_ones_are_appended() {
    let wire: Vec<u8> = [
        ErrorKind::BadRequest,
        ErrorKind::Other,
        ErrorKind::Unauthorized,
        ErrorKind::UpstreamTimeout,
        ErrorKind::ShuttingDown,
    ]
    .into_iter()
    .map(|kind| {
        ServerFrame::Error {
            kind,
            message: String::new(),
        }
        .to_bytes()[1]
    })
    .collect();
    assert_eq!(wire, [0, 6, 7, 10, 11]);
}

#[test]
fn each_error_kind_has_one_status_and_one_close_code_in_the_application_range() {
    for kind in ErrorKind::WIRE {
        let code = kind.close_code();
        let standard = kind == ErrorKind::ShuttingDown && code == close_code::GOING_AWAY;
        assert!(standard || (4000..5000).contains(&code), "{kind:?}: {code}");
        assert!((400..600).contains(&kind.http_status()), "{kind:?}");
        assert!(!kind.reason().is_empty());
    }
    assert_eq!(
        ErrorKind::Unauthorized.close_code(),
        close_code::UNAUTHORIZED
    );
    assert_eq!(ErrorKind::Forbidden.http_status(), 403);
}

#[test]
fn close_reasons_are_cut_to_fit_a_close_frame_on_a_character_boundary() {
    assert_eq!(close_reason("short"), "short");
    let long = "é".repeat(100); // 200 bytes
    let cut = close_reason(&long);
    assert!(cut.len() <= MAX_CLOSE_REASON_BYTES);
    assert_eq!(cut.len(), 122, "61 whole two-byte characters");
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let bytes = vec![0u8; MAX_FRAME_BYTES + 1];
    assert_eq!(
        ClientFrame::from_bytes(&bytes),
        Err(DecodeError::TooLarge(MAX_FRAME_BYTES + 1))
    );
}

#[test]
fn a_length_prefix_claiming_huge_data_fails_without_allocating_it() {
    // Stdin with a varint length of u64::MAX (tag 253 = u64 follows).
    let mut bytes = vec![0, 253];
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        ClientFrame::from_bytes(&bytes),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn trailing_bytes_are_an_error() {
    assert_eq!(
        ClientFrame::from_bytes(&[2, 0]),
        Err(DecodeError::TrailingBytes(1))
    );
}

#[test]
fn empty_input_is_malformed() {
    assert!(matches!(
        ServerFrame::from_bytes(&[]),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn invalid_utf8_in_a_string_field_is_malformed() {
    assert!(matches!(
        ServerFrame::from_bytes(&[3, 0, 1, 0xff]),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn negotiation_picks_the_newest_version_offered() {
    assert_eq!(negotiate(["webshell.v1", "webshell.v2"]), Some(Version::V2));
    assert_eq!(negotiate(["chat", "webshell.v1"]), Some(Version::V1));
    assert_eq!(negotiate(["webshell.v0", "webshell.v3"]), None);
    assert_eq!(negotiate([]), None);
    assert_eq!(Version::V2.subprotocol(), SUBPROTOCOL);
    assert!(Version::V2.flow_control() && !Version::V1.flow_control());
}

#[test]
fn a_v1_resize_decodes_as_the_same_term_size() {
    // v1 wrote `Resize { cols, rows }`; the bytes of `Resize(TermSize)` are the same.
    assert_eq!(
        ClientFrame::from_bytes(&[1, 80, 24]),
        Ok(ClientFrame::Resize(TermSize { cols: 80, rows: 24 }))
    );
}

proptest! {
    #[test]
    fn an_output_header_plus_payload_is_exactly_the_encoded_frame(
        len in prop::sample::select(vec![0usize, 1, 250, 251, 65535, 65536, 1 << 20]),
        stderr in any::<bool>(),
    ) {
        let payload = vec![7u8; len];
        let (output, frame) = if stderr {
            (Output::Stderr, ServerFrame::Stderr(payload.clone()))
        } else {
            (Output::Stdout, ServerFrame::Stdout(payload.clone()))
        };
        let mut header = [0u8; MAX_OUTPUT_HEADER];
        let n = output_frame_header(output, len, &mut header);
        let mut bytes = header[..n].to_vec();
        bytes.extend_from_slice(&payload);
        prop_assert_eq!(bytes, frame.to_bytes());
    }
}

#[test]
fn the_windows_leave_room_for_a_whole_chunk() {
    const {
        assert!(MAX_STDIN_CHUNK as u32 * 2 <= INPUT_WINDOW);
        assert!(OUTPUT_WINDOW <= 500_000, "the xterm.js guide's limit");
    }
}

#[test]
fn a_rest_reason_names_its_kind_back() {
    for kind in [
        ErrorKind::BadRequest,
        ErrorKind::NotFound,
        ErrorKind::Forbidden,
        ErrorKind::Unauthorized,
        ErrorKind::TooMany,
        ErrorKind::ShuttingDown,
    ] {
        assert_eq!(ErrorKind::from_reason(kind.reason()), kind);
    }
    assert_eq!(ErrorKind::from_reason("SomethingNew"), ErrorKind::Other);
}
