//! docker compose for real: the images are built (the base images from Debian's
//! packages where no registry can be had, `deploy/base-images.sh`; Accord's from the
//! binary this run built, `--target prebuilt`), the shipped compose file is brought
//! up with every container on the host network, the whole scenario is driven through
//! NATS as the client user, the projections equal the in-memory run's, one service
//! container is restarted and nothing acknowledged is lost, its volume is backed up
//! and restored as `deploy/README.md` says, then `down -v` leaves no container,
//! network or volume behind.
//!
//! Needs a Docker engine and docker compose (`.ci/run` installs Debian's docker.io,
//! docker-compose and debootstrap and starts dockerd); without them it says why and
//! passes without checking anything else.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use accord::play::{expected_heads, expected_projections, items, play_step, projections, settle};
use accord_bus::{AccordClient, Bus, NatsBus};
use accord_runtime::ServiceKind;
use accord_scenario::{Embedded, Scenario};
use serde_yaml::{Mapping, Value};
use support::{deploy_dir, password, rewrite, url, Ports, PASSWORDS};

/// How the compose CLI is called here: `docker compose` (v2) or `docker-compose`.
fn compose_cli() -> Option<Vec<&'static str>> {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works("docker", &["compose", "version"]) {
        Some(vec!["docker", "compose"])
    } else if works("docker-compose", &["version"]) {
        Some(vec!["docker-compose"])
    } else {
        None
    }
}

/// Why this machine cannot run the test, if it cannot.
fn missing_engine() -> Option<String> {
    match Command::new("docker").arg("info").output() {
        Err(error) => return Some(format!("no docker CLI ({error})")),
        Ok(out) if !out.status.success() => {
            return Some(format!(
                "the Docker engine does not answer `docker info`: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
        Ok(_) => {}
    }
    if compose_cli().is_none() {
        return Some("neither `docker compose` nor `docker-compose` is installed".into());
    }
    None
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A compose project of this test: brought down with its volumes, and its Accord
/// image removed, when dropped, whatever happened.
struct Project {
    cli: Vec<&'static str>,
    name: String,
    file: PathBuf,
    image: String,
}

impl Project {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.cli[0]);
        command
            .args(&self.cli[1..])
            .args(["-p", &self.name, "-f"])
            .arg(&self.file)
            .args(args);
        for (var, value) in PASSWORDS {
            command.env(var, value);
        }
        command
    }

    fn compose(&self, args: &[&str]) -> Output {
        run(&mut self.command(args))
    }

    fn container(&self, service: &str) -> String {
        stdout(&self.compose(&["ps", "-q", service]))
    }

    /// Waits until every container of the project reports healthy.
    fn wait_healthy(&self, services: &[&str], patience: Duration) {
        let deadline = Instant::now() + patience;
        loop {
            let states: Vec<(String, String)> = services
                .iter()
                .map(|service| {
                    let id = self.container(service);
                    let state = Command::new("docker")
                        .args(["inspect", "--format", "{{.State.Health.Status}}", &id])
                        .output()
                        .map(|o| stdout(&o))
                        .unwrap_or_default();
                    ((*service).to_owned(), state)
                })
                .collect();
            if states.iter().all(|(_, state)| state == "healthy") {
                return;
            }
            if Instant::now() >= deadline {
                let logs = self.command(&["logs", "--tail", "30"]).output().unwrap();
                panic!(
                    "not healthy after {patience:?}: {states:?}\n{}",
                    String::from_utf8_lossy(&logs.stdout)
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Everything docker still holds of the project: containers, networks, volumes.
    fn leftovers(&self) -> String {
        let label = format!("label=com.docker.compose.project={}", self.name);
        ["ps", "network", "volume"]
            .iter()
            .map(|kind| {
                let mut args = if *kind == "ps" {
                    vec!["ps", "-aq"]
                } else {
                    vec![*kind, "ls", "-q"]
                };
                args.extend(["--filter", &label]);
                stdout(&run(Command::new("docker").args(&args)))
            })
            .filter(|found| !found.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .command(&["down", "-v", "--remove-orphans", "--timeout", "5"])
            .output();
        let _ = Command::new("docker")
            .args(["image", "rm", &self.image])
            .output();
    }
}

/// Ports on 127.0.0.1 for NATS (client, monitoring) and each service's HTTP.
struct HostPorts {
    nats: u16,
    nats_http: u16,
    http: Vec<(ServiceKind, u16)>,
}

/// The shipped compose file with the test's override applied: every container on
/// the host network (so nothing leaves 127.0.0.1; host networking publishes no
/// ports, so the port mappings are dropped, which an override file cannot do), the
/// images built here, NATS from Debian's nats-server with the shipped config
/// rewritten for its ports (and without `sync_interval`, which nats-server 2.9
/// refuses), and the services pointed at it. Volumes, users, healthchecks (their
/// addresses moved to the new ports), dependencies and commands stay as shipped.
fn host_network_compose(ports: &HostPorts, nats_dir: &Path, accord_image: &str) -> String {
    let shipped = std::fs::read_to_string(deploy_dir().join("docker-compose.yml")).unwrap();
    let mut compose: Value = serde_yaml::from_str(&shipped).unwrap();
    // The services' shared settings come through the `<<: *accord` merge key.
    compose.apply_merge().unwrap();
    compose.as_mapping_mut().unwrap().remove("x-accord");
    let services = compose["services"].as_mapping_mut().unwrap();
    for (name, service) in services.iter_mut() {
        let name = name.as_str().unwrap().to_owned();
        let service = service.as_mapping_mut().unwrap();
        service.remove("ports");
        service.remove("build");
        service.insert("network_mode".into(), "host".into());
        let set_env = |service: &mut Mapping, key: &str, value: String| {
            service
                .entry("environment".into())
                .or_insert_with(|| Value::Mapping(Mapping::new()))
                .as_mapping_mut()
                .unwrap()
                .insert(key.into(), value.into());
        };
        let healthcheck = |service: &mut Mapping, test: Vec<String>| {
            service["healthcheck"]
                .as_mapping_mut()
                .unwrap()
                .insert("test".into(), test.into());
        };
        if name == "nats" {
            service.insert("image".into(), "accord-nats:debian".into());
            service.insert(
                "command".into(),
                vec!["-c", "/etc/accord-test/nats.conf"].into(),
            );
            let volumes = service["volumes"].as_sequence_mut().unwrap();
            volumes.retain(|v| !v.as_str().unwrap().starts_with("./nats"));
            volumes.push(format!("{}:/etc/accord-test:ro", nats_dir.display()).into());
            // Debian's minimal image has no wget: bash asks /healthz itself.
            let probe = format!(
                "exec 3<>/dev/tcp/127.0.0.1/{} && printf 'GET /healthz?js-enabled-only=true HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ok <&3",
                ports.nats_http
            );
            healthcheck(
                service,
                vec!["CMD".into(), "bash".into(), "-c".into(), probe],
            );
            continue;
        }
        let kind: ServiceKind = name.parse().unwrap();
        let http = ports.http.iter().find(|(k, _)| *k == kind).unwrap().1;
        service.insert("image".into(), accord_image.into());
        set_env(service, "ACCORD_NATS_URL", url(&name, &[ports.nats]));
        set_env(service, "ACCORD_HTTP_ADDR", format!("127.0.0.1:{http}"));
        // The scenario's commands are sent unsigned, as by the other end-to-end
        // tests (signatures have tests of their own).
        set_env(service, "ACCORD_REQUIRE_SIGNATURES", "false".into());
        // The scenario's dates are all past: a watcher would notice them at the
        // restart, which the in-memory run does not.
        set_env(service, "ACCORD_DEADLINE_CHECK_SECS", "0".into());
        healthcheck(
            service,
            [
                "CMD",
                "accord",
                "probe",
                "--http",
                &format!("127.0.0.1:{http}"),
                "/readyz",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    serde_yaml::to_string(&compose).unwrap()
}

/// Builds accord's image from the binary this test run built (no Rust image needed).
fn build_accord_image(tag: &str) {
    let context = tempfile::tempdir().unwrap();
    let prebuilt = context.path().join("deploy/prebuilt");
    std::fs::create_dir_all(&prebuilt).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_accord"), prebuilt.join("accord")).unwrap();
    run(Command::new("docker")
        .args(["build", "-q", "--target", "prebuilt", "-t", tag, "-f"])
        .arg(deploy_dir().join("Dockerfile"))
        .arg(context.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compose_stack_runs_the_scenario_and_keeps_what_it_acknowledged_across_a_restart() {
    if let Some(why) = missing_engine() {
        eprintln!("SKIPPED the compose test: {why}");
        return;
    }
    run(Command::new("bash").arg(deploy_dir().join("base-images.sh")));
    let project_name = format!("accord-test-{}", std::process::id());
    let accord_image = format!("accord:{project_name}");
    build_accord_image(&accord_image);

    let dir = tempfile::tempdir().unwrap();
    let ports = HostPorts {
        nats: accord_testkit::free_port(),
        nats_http: accord_testkit::free_port(),
        http: ServiceKind::ALL
            .into_iter()
            .map(|kind| (kind, accord_testkit::free_port()))
            .collect(),
    };
    let nats_dir = dir.path().join("nats");
    std::fs::create_dir_all(&nats_dir).unwrap();
    let config = std::fs::read_to_string(deploy_dir().join("nats/nats.conf")).unwrap();
    let config = rewrite(
        &config,
        &Ports {
            client: ports.nats,
            http: ports.nats_http,
            cluster: None,
        },
        Path::new("/data/jetstream"),
    );
    std::fs::write(nats_dir.join("nats.conf"), config).unwrap();
    std::fs::copy(
        deploy_dir().join("nats/accounts.conf"),
        nats_dir.join("accounts.conf"),
    )
    .unwrap();
    let file = dir.path().join("docker-compose.yml");
    std::fs::write(
        &file,
        host_network_compose(&ports, &nats_dir, &accord_image),
    )
    .unwrap();
    let project = Project {
        cli: compose_cli().unwrap(),
        name: project_name.clone(),
        file,
        image: accord_image.clone(),
    };

    // Up, as users start it, and every healthcheck passing.
    project.compose(&["up", "-d"]);
    let all = ["nats", "agreements", "projects", "procurement"];
    project.wait_healthy(&all, Duration::from_secs(120));

    // The container runs as the Dockerfile's user, its data on its volume.
    let agreements = project.container("agreements");
    let uid = run(Command::new("docker").args(["exec", &agreements, "id", "-u"]));
    assert_eq!(stdout(&uid), "10001");
    let mounts = run(Command::new("docker").args([
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}};{{end}}",
        &agreements,
    ]));
    let mounts = stdout(&mounts);
    assert!(
        mounts.contains(&format!("volume {project_name}_agreements-data /data")),
        "{mounts}"
    );

    // The whole scenario through NATS, as the client user.
    let bus = Bus::Nats(
        NatsBus::connect(
            &format!(
                "nats://client:{}@127.0.0.1:{}",
                password("client"),
                ports.nats
            ),
            "compose-test",
        )
        .await
        .unwrap(),
    );
    let client = AccordClient::new(bus);
    let scenario = Scenario::lt_ua().unwrap();
    let mut pure = Embedded::default();
    let patience = Duration::from_secs(60);
    for index in 0..scenario.steps.len() {
        play_step(
            &client,
            &scenario.steps,
            index,
            &mut pure,
            index % 2 == 0,
            patience,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let items = items(&pure);
    let expected = expected_projections(&pure, &items, accord_runtime::now().date());
    assert_eq!(projections(&client, &items).await.unwrap(), expected);
    // The log is on the volume, under the service's name.
    let data = run(Command::new("docker").args(["exec", &agreements, "ls", "/data/agreements"]));
    assert!(
        stdout(&data).lines().any(|f| f == "db"),
        "{}",
        stdout(&data)
    );

    // One service restarted: what it acknowledged is all still there.
    let started = |id: &str| {
        stdout(&run(Command::new("docker").args([
            "inspect",
            "--format",
            "{{.State.StartedAt}}",
            id,
        ])))
    };
    let before = started(&agreements);
    project.compose(&["restart", "agreements"]);
    project.wait_healthy(&all, Duration::from_secs(120));
    assert_ne!(
        started(&agreements),
        before,
        "the container was not restarted"
    );
    settle(&client, &expected_heads(&pure), patience)
        .await
        .unwrap();
    assert_eq!(projections(&client, &items).await.unwrap(), expected);

    // Backed up and restored as deploy/README.md says: stopped, the volume tarred,
    // emptied, unpacked again, started: the same log, the same projections.
    let volume = format!("{project_name}_agreements-data");
    let backup = dir.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let in_volume = |mount: &str, script: &str| {
        run(Command::new("docker").args([
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &format!("{volume}:/data{mount}"),
            "-v",
            &format!("{}:/backup", backup.display()),
            "debian:bookworm-slim",
            "sh",
            "-c",
            script,
        ]))
    };
    project.compose(&["stop", "agreements"]);
    in_volume(":ro", "tar -C /data -czf /backup/agreements-data.tgz .");
    in_volume("", "rm -rf /data/* && test -z \"$(ls /data)\"");
    in_volume("", "tar -C /data -xzf /backup/agreements-data.tgz");
    project.compose(&["start", "agreements"]);
    project.wait_healthy(&all, Duration::from_secs(120));
    settle(&client, &expected_heads(&pure), patience)
        .await
        .unwrap();
    assert_eq!(projections(&client, &items).await.unwrap(), expected);

    // Down with the volumes: nothing of the project is left.
    project.compose(&["down", "-v", "--remove-orphans", "--timeout", "10"]);
    assert_eq!(project.leftovers(), "");
}
