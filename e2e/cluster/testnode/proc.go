package main

// Process helpers. Every process the node starts is a session leader
// (setsid), so "everything that process started" is "every live process in
// its session", including background jobs a shell moved to other process
// groups. Signalling the session is how the node leaves nothing behind.

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	utilexec "k8s.io/utils/exec"
)

// sessionMembers lists live (non-zombie) processes whose session id is sid.
func sessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state ppid pgrp session ...
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 4 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if sess, _ := strconv.Atoi(f[3]); sess == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// signalSession sends sig to every process of the session and reports how
// many there were.
func signalSession(sid int, sig syscall.Signal) int {
	if sid <= 1 {
		return 0
	}
	pids := sessionMembers(sid)
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
	return len(pids)
}

// stopSession sends first to the session, waits up to grace for it to empty,
// then SIGKILLs what is left and waits (briefly) until it is gone.
func stopSession(sid int, first syscall.Signal, grace time.Duration) {
	if signalSession(sid, first) == 0 {
		return
	}
	// A stopped process would sit on SIGHUP/SIGTERM forever.
	signalSession(sid, syscall.SIGCONT)
	if waitSessionEmpty(sid, grace) {
		return
	}
	signalSession(sid, syscall.SIGKILL)
	waitSessionEmpty(sid, time.Second)
}

func waitSessionEmpty(sid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if len(sessionMembers(sid)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killUnder SIGKILLs every process whose cwd is under dir: what escaped its
// session (setsid, daemonised) but still runs in a pod's directory.
func killUnder(dir string) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil {
			continue
		}
		if cwd+"/" == prefix || strings.HasPrefix(cwd, prefix) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// exitCode turns the result of cmd.Wait into the shell convention: the exit
// status, or 128+signal when a signal ended the process.
func exitCode(err error) (int, bool) {
	if err == nil {
		return 0, true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1, false
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), true
	}
	return ee.ExitCode(), true
}

// asExecResult is what RunInContainer returns: virtual-kubelet turns a
// utilexec.ExitError that Exited() into a NonZeroExitCode status with an
// ExitCode cause, exactly like the kubelet.
func asExecResult(err error) error {
	code, ok := exitCode(err)
	switch {
	case !ok:
		return err
	case code == 0:
		return nil
	default:
		return utilexec.CodeExitError{Err: err, Code: code}
	}
}
