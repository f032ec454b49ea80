//! CPU time by thread and by child process, read from `/proc/<pid>/task/<tid>/schedstat`:
//! nanoseconds on a CPU, nanoseconds runnable but waiting for one, and how many times
//! each thread ran. It shows where a case's time goes on machines whose `perf` has no
//! hardware counters: per thread group, per request, in the same run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// CPU time so far of this process's threads, by name, and of its child processes,
/// by command name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuTimes {
    threads: BTreeMap<String, Sched>,
    children: BTreeMap<String, Sched>,
}

/// One line of `schedstat`, summed over a group of threads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sched {
    /// Nanoseconds on a CPU.
    running: u64,
    /// Nanoseconds runnable, waiting for a CPU.
    waiting: u64,
    /// Times the threads were given a CPU.
    runs: u64,
}

impl Sched {
    fn add(&mut self, other: Sched) {
        self.running += other.running;
        self.waiting += other.waiting;
        self.runs += other.runs;
    }

    fn minus(self, earlier: Sched) -> Sched {
        Sched {
            running: self.running.saturating_sub(earlier.running),
            waiting: self.waiting.saturating_sub(earlier.waiting),
            runs: self.runs.saturating_sub(earlier.runs),
        }
    }
}

impl CpuTimes {
    /// Reads them now. Threads named alike (`sled-io-0`, `sled-io-1`) count as one.
    pub fn now() -> CpuTimes {
        let mut times = CpuTimes::default();
        for (name, sched) in task_times(Path::new("/proc/self")) {
            times
                .threads
                .entry(group_name(&name))
                .or_default()
                .add(sched);
        }
        let me = std::process::id();
        for (pid, name) in children_of(me) {
            let child = times.children.entry(name).or_default();
            for (_, sched) in task_times(&Path::new("/proc").join(pid.to_string())) {
                child.add(sched);
            }
        }
        times
    }

    /// What was spent between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        let minus = |now: &BTreeMap<String, Sched>, then: &BTreeMap<String, Sched>| {
            now.iter()
                .map(|(name, sched)| {
                    let before = then.get(name).copied().unwrap_or_default();
                    (name.clone(), sched.minus(before))
                })
                .collect()
        };
        CpuTimes {
            threads: minus(&self.threads, &earlier.threads),
            children: minus(&self.children, &earlier.children),
        }
    }

    /// CPU time of this process's threads whose name starts with any of `prefixes`.
    pub fn threads(&self, prefixes: &[&str]) -> Duration {
        Duration::from_nanos(self.matching(prefixes).map(|s| s.running).sum())
    }

    /// How long those threads were runnable but waited for a CPU.
    pub fn waited(&self, prefixes: &[&str]) -> Duration {
        Duration::from_nanos(self.matching(prefixes).map(|s| s.waiting).sum())
    }

    /// How many times those threads were given a CPU.
    pub fn runs(&self, prefixes: &[&str]) -> u64 {
        self.matching(prefixes).map(|s| s.runs).sum()
    }

    fn matching<'a>(&'a self, prefixes: &'a [&str]) -> impl Iterator<Item = &'a Sched> {
        self.threads
            .iter()
            .filter(|(name, _)| prefixes.iter().any(|p| name.starts_with(p)))
            .map(|(_, sched)| sched)
    }

    /// CPU time of the child processes named `name`.
    pub fn child(&self, name: &str) -> Duration {
        Duration::from_nanos(self.children.get(name).map_or(0, |s| s.running))
    }

    /// CPU time of every thread of this process and of its children.
    pub fn total(&self) -> Duration {
        let all = self.threads.values().chain(self.children.values());
        Duration::from_nanos(all.map(|s| s.running).sum())
    }
}

/// The CPU time (by thread and child) and wall time of one run of a case.
#[derive(Debug, Clone)]
pub struct Spent {
    pub cpu: CpuTimes,
    pub wall: Duration,
}

impl Spent {
    /// Runs `case`, and what it spent.
    pub async fn of<T>(case: impl std::future::Future<Output = T>) -> (T, Spent) {
        let (before, started) = (CpuTimes::now(), std::time::Instant::now());
        let done = case.await;
        let wall = started.elapsed();
        let cpu = CpuTimes::now().since(&before);
        (done, Spent { cpu, wall })
    }

    /// Microseconds of the part `of` picks per one of `count` requests, run by run.
    pub fn per_request(
        runs: &[Spent],
        count: usize,
        of: &dyn Fn(&CpuTimes) -> Duration,
    ) -> crate::Summary {
        runs.iter()
            .map(|s| of(&s.cpu).as_secs_f64() * 1e6 / count as f64)
            .collect()
    }

    /// How busy all the machine's cores were, in percent, run by run.
    pub fn busy(runs: &[Spent]) -> crate::Summary {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        runs.iter()
            .map(|s| 100.0 * s.cpu.total().as_secs_f64() / s.wall.as_secs_f64() / cores)
            .collect()
    }
}

/// `sled-io-12` → `sled-io`: numbered threads of one pool are one group.
fn group_name(name: &str) -> String {
    name.trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('-')
        .to_owned()
}

/// Each thread of the process at `proc_dir`: its name and scheduler statistics.
/// Threads that end while being read are skipped.
fn task_times(proc_dir: &Path) -> Vec<(String, Sched)> {
    let Ok(tasks) = std::fs::read_dir(proc_dir.join("task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let mut fields = schedstat.split_whitespace().map(str::parse::<u64>);
            let sched = Sched {
                running: fields.next()?.ok()?,
                waiting: fields.next()?.ok()?,
                runs: fields.next()?.ok()?,
            };
            Some((name.trim_end().to_owned(), sched))
        })
        .collect()
}

/// The processes whose parent is `parent`: pid and command name.
fn children_of(parent: u32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
            let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then(|| (pid, comm.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_numbered_threads_when_grouped_then_they_are_one_group() {
        assert_eq!(group_name("sled-io-12"), "sled-io");
        assert_eq!(group_name("accord-log-writ"), "accord-log-writ");
        assert_eq!(group_name("worker7"), "worker");
    }

    #[test]
    fn given_a_busy_thread_and_a_child_when_read_then_both_are_counted() {
        let before = CpuTimes::now();
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 5",
            ])
            .spawn()
            .unwrap();
        let (spun, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let spinner = std::thread::Builder::new()
            .name("cpu-test-spin".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                let mut x = 0u64;
                while started.elapsed() < Duration::from_millis(50) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                spun.0.send(()).unwrap();
                // Still listed while it is read.
                release.1.recv().ok();
            })
            .unwrap();
        spun.1.recv().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let spent = CpuTimes::now().since(&before);
        release.0.send(()).unwrap();
        spinner.join().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let spin = spent.threads(&["cpu-test-spin"]);
        assert!(spin > Duration::ZERO, "{spent:?}");
        assert!(spent.runs(&["cpu-test-spin"]) >= 1, "{spent:?}");
        assert!(spent.child("sh") > Duration::ZERO, "{spent:?}");
        assert!(spent.total() >= spin + spent.child("sh"));
        assert_eq!(spent.threads(&["no-such-thread"]), Duration::ZERO);
    }
}
