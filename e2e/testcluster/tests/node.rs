//! The test node behaves like a real kubelet + runtime, checked through the real apiserver
//! with kube-rs (the same client the product uses). Needs `e2e/cluster/cluster.sh up`.

use std::time::Duration;

use futures::SinkExt;
use kube::api::{AttachParams, LogParams, TerminalSize};
use testcluster::{demo_pods, is_alive, next_lines, read_until, run, wait_gone};
use tokio::io::AsyncWriteExt;

const T: Duration = Duration::from_secs(10);

fn tty() -> AttachParams {
    AttachParams::interactive_tty()
}

#[tokio::test]
async fn a_tty_exec_sees_its_size_and_a_resize_fires_sigwinch() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let mut bash = pods
        .exec("bash-pod", ["bash", "--norc", "-i"], &tty())
        .await?;
    let mut sizes = bash.terminal_size().expect("tty");
    let mut stdin = bash.stdin().expect("stdin");
    let mut stdout = bash.stdout().expect("stdout");
    sizes
        .send(TerminalSize {
            width: 80,
            height: 24,
        })
        .await?;
    stdin
        .write_all(b"trap 'echo winch-fired' WINCH; stty size\n")
        .await?;
    let sized = read_until(&mut stdout, "24 80", T).await?;
    // The kernel signals a resize to the terminal's foreground process group: until `stty`
    // has exited and bash printed its prompt, that is `stty`'s, and bash would never see it
    // (the flake CI once hit). So resize only once bash is back at its prompt.
    let after_size = &sized[sized.find("24 80").unwrap_or(0)..];
    if !after_size.contains("# ") {
        read_until(&mut stdout, "# ", T).await?;
    }
    sizes
        .send(TerminalSize {
            width: 120,
            height: 40,
        })
        .await?;
    read_until(&mut stdout, "winch-fired", T).await?;
    stdin.write_all(b"stty size\n").await?;
    read_until(&mut stdout, "40 120", T).await?;
    Ok(())
}

#[tokio::test]
async fn exit_3_is_a_non_zero_exit_code_status_with_code_3() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let (_, _, status) = run(&pods, "bash-pod", &["sh", "-c", "exit 3"]).await?;
    let status = status.expect("a status");
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let cause = &status.details.expect("details").causes.expect("causes")[0];
    assert_eq!(
        (cause.reason.as_deref(), cause.message.as_deref()),
        (Some("ExitCode"), Some("3"))
    );
    Ok(())
}

#[tokio::test]
async fn ctrl_c_interrupts_sleep_100() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let script = r#"trap 'echo got-sigint' INT; echo ready; sleep 100; echo after-sleep"#;
    let mut process = pods.exec("bash-pod", ["sh", "-c", script], &tty()).await?;
    let mut sizes = process.terminal_size().expect("tty");
    sizes
        .send(TerminalSize {
            width: 80,
            height: 24,
        })
        .await?;
    let mut stdin = process.stdin().expect("stdin");
    let mut stdout = process.stdout().expect("stdout");
    read_until(&mut stdout, "ready", T).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stdin.write_all(b"\x03").await?;
    // Well under the 100 s the sleep would take.
    read_until(&mut stdout, "after-sleep", Duration::from_secs(3)).await?;
    Ok(())
}

#[tokio::test]
async fn without_a_tty_stderr_is_kept_apart_and_stdin_eof_is_delivered() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let (out, err, _) = run(
        &pods,
        "bash-pod",
        &["sh", "-c", "echo to-out; echo to-err >&2"],
    )
    .await?;
    assert_eq!((out.as_str(), err.as_str()), ("to-out\n", "to-err\n"));

    let params = AttachParams::default().stdin(true).stderr(true);
    let mut cat = pods
        .exec("bash-pod", ["sh", "-c", "cat; echo eof-seen"], &params)
        .await?;
    let mut stdin = cat.stdin().expect("stdin");
    let mut stdout = cat.stdout().expect("stdout");
    stdin.write_all(b"piped\n").await?;
    stdin.shutdown().await?;
    drop(stdin);
    read_until(&mut stdout, "piped\neof-seen", T).await?;
    Ok(())
}

#[tokio::test]
async fn bob_is_forbidden_to_exec_while_alice_may() -> anyhow::Result<()> {
    let bob = demo_pods("bob").await?;
    match bob
        .exec("bash-pod", ["true"], &AttachParams::default())
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
            assert!(status.message.contains("pods/exec"), "{}", status.message);
        }
        Err(other) => panic!("expected 403, got {other}"),
        Ok(_) => panic!("bob must not exec"),
    }
    let alice = demo_pods("alice").await?;
    let (out, _, _) = run(&alice, "bash-pod", &["echo", "alice-was-here"]).await?;
    assert_eq!(out, "alice-was-here\n");
    Ok(())
}

#[tokio::test]
async fn distroless_pod_has_no_sh() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let (_, _, status) = run(&pods, "distroless-pod", &["sh", "-c", "true"]).await?;
    let status = status.expect("a status");
    assert_eq!(status.status.as_deref(), Some("Failure"));
    let message = status.message.unwrap_or_default();
    assert!(message.contains("executable file not found"), "{message}");
    Ok(())
}

#[tokio::test]
async fn closing_the_exec_stream_ends_the_remote_process_within_2s() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let mut process = pods
        .exec(
            "bash-pod",
            ["sh", "-c", "echo pid=$$; exec sleep 100"],
            &tty(),
        )
        .await?;
    let mut sizes = process.terminal_size().expect("tty");
    sizes
        .send(TerminalSize {
            width: 80,
            height: 24,
        })
        .await?;
    let mut stdout = process.stdout().expect("stdout");
    let seen = read_until(&mut stdout, "\n", T).await?;
    let pid = seen.trim().trim_start_matches("pid=").to_string();
    assert!(
        is_alive(&pods, "bash-pod", &pid).await?,
        "the check must see the live process"
    );
    drop(stdout);
    drop(process); // aborts the connection, as the server does when a browser goes away
    let took = wait_gone(&pods, "bash-pod", &pid, Duration::from_secs(2)).await?;
    println!("remote process {pid} gone {took:?} after the stream closed");
    Ok(())
}

#[tokio::test]
async fn logs_follow_new_lines() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let params = LogParams {
        follow: true,
        tail_lines: Some(1),
        ..Default::default()
    };
    let lines = next_lines(pods.log_stream("bash-pod", &params).await?, 3, T).await?;
    let ticks: Vec<u64> = lines
        .iter()
        .map(|l| l.trim_start_matches("tick ").parse().expect("tick N"))
        .collect();
    assert!(ticks.windows(2).all(|w| w[1] == w[0] + 1), "{lines:?}");
    Ok(())
}

#[tokio::test]
async fn attach_reaches_the_main_process() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let mut attached = pods.attach("attach-pod", &tty()).await?;
    let mut stdin = attached.stdin().expect("stdin");
    let mut stdout = attached.stdout().expect("stdout");
    stdin.write_all(b"echo attached-$((40+2))\n").await?;
    read_until(&mut stdout, "attached-42", T).await?;
    Ok(())
}

#[tokio::test]
async fn each_pod_has_its_own_hostname_and_working_directory() -> anyhow::Result<()> {
    let pods = demo_pods("admin").await?;
    let (bash, _, _) = run(&pods, "bash-pod", &["sh", "-c", "echo $HOSTNAME; pwd"]).await?;
    let (sh, _, _) = run(&pods, "sh-pod", &["sh", "-c", "echo $HOSTNAME; pwd"]).await?;
    assert!(bash.starts_with("bash-pod\n"), "{bash}");
    assert!(sh.starts_with("sh-pod\n"), "{sh}");
    assert_ne!(bash.lines().nth(1), sh.lines().nth(1));
    Ok(())
}

#[tokio::test]
async fn an_ephemeral_debug_container_starts_and_can_be_execd_into() -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Patch, PatchParams};
    let pods = demo_pods("admin").await?;
    // Ephemeral containers cannot be removed, so each run adds one with a fresh name.
    let name = format!("debug-{}", std::process::id());
    let patch = serde_json::json!({"spec": {"ephemeralContainers": [{
        "name": name, "image": "webshell.test/bash", "command": ["sleep", "3600"],
        "targetContainerName": "main",
    }]}});
    pods.patch_ephemeral_containers(
        "distroless-pod",
        &PatchParams::default(),
        &Patch::Strategic(patch),
    )
    .await?;
    let running = tokio::time::timeout(T, async {
        loop {
            let pod: Pod = pods.get("distroless-pod").await?;
            let status = pod
                .status
                .and_then(|s| s.ephemeral_container_statuses)
                .unwrap_or_default();
            if status
                .iter()
                .any(|s| s.name == name && s.state.as_ref().is_some_and(|st| st.running.is_some()))
            {
                return anyhow::Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    running??;
    let params = AttachParams::default()
        .container(&name)
        .stdin(false)
        .stderr(true);
    let mut process = pods
        .exec(
            "distroless-pod",
            ["sh", "-c", "echo debug-in-$HOSTNAME"],
            &params,
        )
        .await?;
    let mut stdout = process.stdout().expect("stdout");
    read_until(&mut stdout, "debug-in-distroless-pod", T).await?;
    Ok(())
}
