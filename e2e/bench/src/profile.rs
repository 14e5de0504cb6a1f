//! Where time and bytes go outside webshell: the figures that show a metric's floor.
//!
//! - [`socket_queues`]: the bytes the kernel holds in TCP queues, per leg of the exec path
//!   (test node → API server → webshell → client) and side, read from `/proc/net/tcp{,6}`.
//! - [`CpuClock`]: CPU time per process (the API server, the test node, etcd, webshell, this
//!   benchmark), read from `/proc/<pid>/stat`, over an interval.
//!
//! Linux only, like the test cluster.

use std::collections::BTreeMap;
use std::time::Instant;

/// One leg of the path: the TCP connections with `port` at either end.
#[derive(Debug, Clone)]
pub struct Leg {
    /// What the leg is, e.g. "test node → API server".
    pub label: String,
    /// The listening port of the leg's server side.
    pub port: u16,
}

/// What the kernel holds on one leg's connections, by side. Output flows from the leg's
/// listening side to its connecting side on every leg of the exec path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    /// Not yet sent or not yet acknowledged, in the listening (sending) side's send queues.
    pub at_sender: u64,
    /// Arrived but not yet read, in the connecting (receiving) side's receive queues.
    pub at_receiver: u64,
}

/// The bytes queued in the kernel on each leg's connections.
pub fn socket_queues(legs: &[Leg]) -> anyhow::Result<Vec<(String, Queued)>> {
    let mut table = String::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(file) {
            table.push_str(&text);
        }
    }
    Ok(legs
        .iter()
        .map(|leg| (leg.label.clone(), queued_on(&table, leg.port)))
        .collect())
}

/// The send queues of the connections in `table` (the format of `/proc/net/tcp`) that
/// `port` serves, and the receive queues of the ones that connect to it.
fn queued_on(table: &str, port: u16) -> Queued {
    let mut queued = Queued {
        at_sender: 0,
        at_receiver: 0,
    };
    for line in table.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // sl local rem st tx_queue:rx_queue ...
        let (Some(local), Some(remote), Some(queues)) =
            (fields.get(1), fields.get(2), fields.get(4))
        else {
            continue;
        };
        let port_of = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
        let Some((tx, rx)) = queues.split_once(':') else {
            continue;
        };
        let (Ok(tx), Ok(rx)) = (u64::from_str_radix(tx, 16), u64::from_str_radix(rx, 16)) else {
            continue;
        };
        if port_of(local) == Some(port) {
            queued.at_sender += tx;
        } else if port_of(remote) == Some(port) {
            queued.at_receiver += rx;
        }
    }
    queued
}

/// CPU time of named processes between [`CpuClock::start`] and [`CpuClock::shares`].
pub struct CpuClock {
    started: Instant,
    before: BTreeMap<String, u64>,
    machine_before: Option<Vec<u64>>,
    names: Vec<(String, Vec<u32>)>,
}

/// What the whole machine's CPUs did, from `/proc/stat`, as [`CpuClock::shares`] labels them.
const MACHINE: [(&str, &[usize]); 4] = [
    // The columns: user nice system idle iowait irq softirq steal (guest time is in user).
    ("the whole machine: user time", &[0, 1]),
    (
        "the whole machine: kernel time (system, irq, softirq)",
        &[2, 5, 6],
    ),
    ("the whole machine: stolen by the hypervisor", &[7]),
    ("the whole machine: idle", &[3, 4]),
];

impl CpuClock {
    /// Starts the clock on the processes `names` gives: a label and the pids counted under it.
    pub fn start(names: Vec<(String, Vec<u32>)>) -> CpuClock {
        let before = ticks_of(&names);
        CpuClock {
            started: Instant::now(),
            before,
            machine_before: machine_ticks(),
            names,
        }
    }

    /// Each label's CPU time since the start, in percent of one core, then the whole
    /// machine's by kind ([`MACHINE`]): kernel time that no process accounts for is the
    /// kernel's own work (softirqs, the workers that move PTY and socket data).
    pub fn shares(&self) -> Vec<(String, f64)> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let after = ticks_of(&self.names);
        // USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
        let ticks_per_s = 100.0;
        let percent = |ticks: u64| ticks as f64 / ticks_per_s / elapsed * 100.0;
        let machine: Vec<(String, f64)> = match (&self.machine_before, machine_ticks()) {
            (Some(before), Some(after)) => MACHINE
                .iter()
                .map(|(label, columns)| {
                    let sum = |t: &[u64]| {
                        columns
                            .iter()
                            .map(|c| t.get(*c).copied().unwrap_or(0))
                            .sum::<u64>()
                    };
                    (
                        (*label).to_owned(),
                        percent(sum(&after).saturating_sub(sum(before))),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        self.names
            .iter()
            .map(|(label, _)| {
                let count = |ticks: &BTreeMap<String, u64>| ticks.get(label).copied().unwrap_or(0);
                // A process that exited meanwhile counts as nothing, not as negative time.
                let used = count(&after).saturating_sub(count(&self.before));
                (label.clone(), percent(used))
            })
            .chain(machine)
            .collect()
    }
}

/// The columns of `/proc/stat`'s `cpu` line: all CPUs together, in ticks.
fn machine_ticks() -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    Some(
        cpu.split_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect(),
    )
}

fn ticks_of(names: &[(String, Vec<u32>)]) -> BTreeMap<String, u64> {
    names
        .iter()
        .map(|(label, pids)| {
            (
                label.clone(),
                pids.iter().filter_map(|p| cpu_ticks(*p)).sum(),
            )
        })
        .collect()
}

/// utime + stime of a process (all its threads), in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), i.e. 11 and 12 after the state (field 3).
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The pids whose executable name (`/proc/<pid>/comm`) is `comm`.
pub fn pids_named(comm: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == comm)
        })
        .collect()
}

/// Every process below `roots` (children, grandchildren, …): the pods' processes below the
/// test node.
pub fn descendants_of(roots: &[u32]) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut found: Vec<u32> = Vec::new();
    let mut frontier = roots.to_vec();
    while let Some(parent) = frontier.pop() {
        for (pid, _) in parents.iter().filter(|(_, p)| *p == parent) {
            if !found.contains(pid) {
                found.push(*pid);
                frontier.push(*pid);
            }
        }
    }
    found
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the name: state, then ppid.
    stat[stat.rfind(')')? + 2..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legs_bytes_are_the_servers_send_queues_and_the_clients_receive_queues() {
        // 127.0.0.1:16443 (0x403B) serves; 0x9C40 and 0x9C41 are clients; 0x4E52 is elsewhere.
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:403B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1
   1: 0100007F:403B 0100007F:9C40 01 00010000:00000000 00:00000000 00000000     0        0 2
   2: 0100007F:9C40 0100007F:403B 01 00000000:00020000 00:00000000 00000000     0        0 3
   3: 0100007F:9C41 0100007F:403B 01 00000000:00000010 00:00000000 00000000     0        0 4
   4: 0100007F:4E52 0100007F:9C42 01 00ffffff:00ffffff 00:00000000 00000000     0        0 5";
        assert_eq!(
            queued_on(table, 16443),
            Queued {
                at_sender: 0x10000,
                at_receiver: 0x20000 + 0x10
            }
        );
        assert_eq!(
            queued_on(table, 1),
            Queued {
                at_sender: 0,
                at_receiver: 0
            }
        );
    }

    #[test]
    fn a_child_process_is_a_descendant() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = descendants_of(&[std::process::id()]);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
    }

    #[test]
    fn this_process_is_found_by_name_and_has_used_cpu() {
        let me = std::process::id();
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(pids_named(comm.trim_end()).contains(&me));
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1 && cpu_ticks(me).is_some_and(|t| t > 0));
        assert!(machine_ticks().is_some_and(|t| t.len() >= 8 && t[0] > 0));
    }
}
