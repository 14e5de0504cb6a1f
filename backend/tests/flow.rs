//! Input and output flowing together, against the real cluster: nothing wedges, nothing is
//! lost, and Ctrl-C gets through a flood. The client speaks webshell.v2 as the browser does
//! (acknowledges output, sends stdin within the input window). Needs the test cluster.

mod support;

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::{Presented, Server, Term};
use webshell_protocol::{ServerFrame, close_code};

async fn signed_in() -> (Server, Presented) {
    let server = Server::local("admin").await;
    let cookie = server.sign_in_locally().await;
    (server, cookie)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic incompressible bytes.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e3779b97f4a7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn ten_mb_through_a_non_tty_cat_read_concurrently_comes_back_whole() {
    let (server, cookie) = signed_in().await;
    let mut term = server
        .term("bash-pod", "main", "?command=cat&tty=false", &cookie)
        .await;
    let input = noise(10 << 20);
    let started = Instant::now();
    term.pump(&input, |out| out.len() >= input.len()).await;
    assert_eq!(term.output.len(), input.len());
    assert_eq!(Sha256::digest(&term.output), Sha256::digest(&input));
    println!("10 MiB echoed through cat in {:?}", started.elapsed());
}

#[tokio::test]
async fn a_ten_mb_paste_into_a_cooked_tty_comes_back_whole() {
    let (server, cookie) = signed_in().await;
    // cat stores what the terminal delivers, and sha256sum says whether it is all there, in
    // order; meanwhile the line discipline echoes the paste back.
    let script = "command=sh&command=-c&command=cat%20%3E%20%24HOME%2Fpaste%20%26%26%20sha256sum%20%24HOME%2Fpaste";
    let mut term = server
        .term("bash-pod", "main", &format!("?{script}"), &cookie)
        .await;
    // Printable lines, shorter than the 4096-byte canonical line limit.
    let line: Vec<u8> = (0..100).map(|i| b'a' + (i % 26) as u8).collect();
    let mut input = Vec::with_capacity(10 << 20);
    while input.len() < 10 << 20 {
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    let expected = hex(&Sha256::digest(&input));
    input.push(0x04); // Ctrl-D at the start of a line: end of input.
    let started = Instant::now();
    term.pump(&input, |out| {
        String::from_utf8_lossy(out).contains(&expected)
    })
    .await;
    // The line discipline's echo flowed back meanwhile. (Not byte for byte: Linux drops
    // echoes when the terminal's output queue is full, which is the kernel's doing.)
    let echoed = term.output.len();
    assert!(echoed > 4 << 20, "the echo came back too ({echoed} bytes)");
    let (frames, code, reason) = term.until_close().await;
    let exited_ok = |f: &ServerFrame| matches!(f, ServerFrame::Exit { code: 0, .. });
    assert!(
        term.exit == Some(0) || frames.iter().any(exited_ok),
        "{code} {reason} {frames:?}"
    );
    assert_eq!(code, close_code::NORMAL);
    println!("10 MiB pasted and echoed in {:?}", started.elapsed());
}

#[tokio::test]
async fn ctrl_c_during_a_flood_reaches_the_shell_within_200_ms() {
    let (server, cookie) = signed_in().await;
    let mut term: Term = server.term("bash-pod", "main", "", &cookie).await;
    term.hello().await;
    term.type_text("PS1='READY''> '; yes\r").await;
    // Let the flood run past a few windows, reading and acknowledging like the browser.
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        term.frame().await.expect("flooding");
    }
    assert!(
        term.output.len() > 1 << 20,
        "a real flood: {} bytes",
        term.output.len()
    );
    let before = term.output.len();
    let pressed = Instant::now();
    term.type_text("\x03").await;
    loop {
        term.frame().await.expect("the prompt comes back");
        if String::from_utf8_lossy(&term.output[before..]).contains("READY> ") {
            break;
        }
    }
    // Got through the flood rather than behind it; how fast is the benchmark's to measure
    // (BENCHMARKS.md, goal 200 ms), not a timed test's.
    let took = pressed.elapsed();
    println!(
        "prompt back {took:?} and {} bytes after Ctrl-C during a flood",
        term.output.len() - before
    );
    assert!(took < Duration::from_secs(2), "Ctrl-C took {took:?}");
}
