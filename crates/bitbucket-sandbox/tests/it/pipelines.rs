//! Pipelines run for real: steps run their scripts with `sh` in a checkout of the commit, with
//! the variables of the workspace, repository, environment and run, and their logs, states,
//! deployments and build statuses are what the spec says.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::contract::validate;
use crate::support::{Running, error_message, start, start_with};

const REPO: &str = "/repositories/acme/widgets";

const PIPELINES: &str = r#"
pipelines:
  default:
    - step:
        name: Build
        script:
          - echo building $BITBUCKET_BRANCH in $(basename $PWD)
          - echo "token is $TOKEN"
          - test -f README.md
    - step:
        name: Test
        script:
          - echo testing
          - exit 3
    - step:
        name: Never
        script: [echo never]
  custom:
    slow:
      - step:
          name: Sleep
          script:
            - echo started
            - sleep 30
            - echo finished
    ship:
      - step:
          name: Ship
          deployment: production
          script:
            - echo "to $BITBUCKET_DEPLOYMENT_ENVIRONMENT in $REGION at level $LEVEL"
"#;

async fn running() -> Running {
    let sb = start_with(|c| c.with_run_pipelines(true)).await;
    sb.commit(REPO, "main", &[("bitbucket-pipelines.yml", PIPELINES)])
        .await;
    sb
}

async fn run(sb: &Running, target: Value) -> Value {
    let (status, body) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/pipelines"),
            json!({ "target": target }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    validate(
        "POST",
        "/repositories/{workspace}/{repo_slug}/pipelines",
        "201",
        &body,
    );
    body
}

fn path_of(pipeline: &Value) -> String {
    let uuid = pipeline["uuid"].as_str().expect("uuid");
    format!(
        "{REPO}/pipelines/{}",
        uuid.replace('{', "%7B").replace('}', "%7D")
    )
}

/// Reads the run until `done` says so, returning it and the state names seen on the way.
async fn watch(
    sb: &Running,
    pipeline: &Value,
    done: impl Fn(&Value) -> bool,
) -> (Value, Vec<String>) {
    let path = path_of(pipeline);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let now = sb.get_json(&path).await;
        let name = now["state"]["name"].as_str().unwrap_or_default().to_owned();
        if seen.last() != Some(&name) {
            seen.push(name);
        }
        if done(&now) {
            validate(
                "GET",
                "/repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}",
                "200",
                &now,
            );
            return (now, seen);
        }
        assert!(
            Instant::now() < deadline,
            "the run did not get there: {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn completed(p: &Value) -> bool {
    p["state"]["name"] == "COMPLETED"
}

async fn steps(sb: &Running, pipeline: &Value) -> Vec<Value> {
    let page = sb.get_json(&format!("{}/steps", path_of(pipeline))).await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/steps",
        "200",
        &page,
    );
    page["values"].as_array().expect("steps").clone()
}

async fn log(sb: &Running, pipeline: &Value, step: &Value) -> String {
    let uuid = step["uuid"]
        .as_str()
        .expect("uuid")
        .replace('{', "%7B")
        .replace('}', "%7D");
    let response = sb
        .demo(
            Method::GET,
            &format!("{}/steps/{uuid}/log", path_of(pipeline)),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    response.text().await.expect("text")
}

#[tokio::test]
async fn a_run_moves_through_its_states_and_stops_at_the_failing_step() {
    let sb = running().await;
    let (status, secret) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/pipelines_config/variables"),
            json!({"key": "TOKEN", "value": "hunter2", "secured": true}),
        )
        .await;
    assert_eq!(status, 201, "{secret}");
    assert!(
        secret.get("value").is_none(),
        "a secured value came back: {secret}"
    );

    let started = run(
        &sb,
        json!({"type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main"}),
    )
    .await;
    assert_eq!(started["build_number"], 1);
    assert_eq!(started["target"]["selector"]["type"], "default");
    let (done, seen) = watch(&sb, &started, completed).await;
    assert_eq!(seen.last().map(String::as_str), Some("COMPLETED"));
    assert!(seen.len() >= 2, "never seen before it completed: {seen:?}");
    assert_eq!(done["state"]["result"]["name"], "FAILED", "{done}");

    let steps = steps(&sb, &done).await;
    let results: Vec<_> = steps
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default(),
                s["state"]["result"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("Build", "SUCCESSFUL"),
            ("Test", "FAILED"),
            ("Never", "NOT_RUN")
        ]
    );

    let build = log(&sb, &done, &steps[0]).await;
    assert!(
        build.contains("+ echo building $BITBUCKET_BRANCH"),
        "{build}"
    );
    assert!(build.contains("building main in build"), "{build}");
    assert!(
        build.contains("token is $TOKEN"),
        "the secured value is masked: {build}"
    );
    assert!(!build.contains("hunter2"), "{build}");
    let failing = log(&sb, &done, &steps[1]).await;
    assert!(
        failing.contains("+ exit 3") && failing.contains("exited with 3"),
        "{failing}"
    );

    // The tail of a log, as a tool reads it.
    let uuid = steps[1]["uuid"]
        .as_str()
        .expect("uuid")
        .replace('{', "%7B")
        .replace('}', "%7D");
    let tail = sb
        .demo(Method::GET, &format!("{}/steps/{uuid}/log", path_of(&done)))
        .header("range", "bytes=-8")
        .send()
        .await
        .expect("request");
    assert_eq!(tail.status(), 206);
    let range = tail.headers()["content-range"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        tail.text().await.expect("text"),
        &failing[failing.len() - 8..],
        "{range}"
    );

    // The run left a build status on its commit.
    let hash = done["target"]["commit"]["hash"].as_str().expect("hash");
    let statuses = sb.get_json(&format!("{REPO}/commit/{hash}/statuses")).await;
    let ours: Vec<_> = statuses["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter(|s| s["key"] == done["uuid"])
        .collect();
    assert_eq!(ours.len(), 1, "{statuses}");
    assert_eq!(ours[0]["state"], "FAILED");

    // The list shows it, newest first, and filters by status.
    let list = sb
        .get_json(&format!("{REPO}/pipelines?status=FAILED"))
        .await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pipelines",
        "200",
        &list,
    );
    assert_eq!(list["size"], 1);
    let (status, again) = sb
        .send_json(
            Method::POST,
            &format!("{}/stopPipeline", path_of(&done)),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "{again}");
    assert!(error_message(&again).contains("already completed"));
}

#[tokio::test]
async fn a_long_step_is_stopped_and_a_deployment_is_recorded() {
    let sb = running().await;
    let slow = run(
        &sb,
        json!({"ref_type": "branch", "ref_name": "main", "selector": {"type": "custom", "pattern": "slow"}}),
    )
    .await;
    // Running, with its first line in the log.
    let (_, _) = watch(&sb, &slow, |p| p["state"]["name"] == "IN_PROGRESS").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let steps = steps(&sb, &slow).await;
        if steps[0]["state"]["name"] == "IN_PROGRESS"
            && log(&sb, &slow, &steps[0]).await.contains("started")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the step never started: {steps:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = Instant::now();
    let (status, body) = sb
        .send_json(
            Method::POST,
            &format!("{}/stopPipeline", path_of(&slow)),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (stopped, _) = watch(&sb, &slow, completed).await;
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "the sleep was not killed"
    );
    assert_eq!(stopped["state"]["result"]["name"], "STOPPED");
    let stopped_steps = steps(&sb, &stopped).await;
    assert_eq!(stopped_steps[0]["state"]["result"]["name"], "STOPPED");
    assert!(
        !log(&sb, &stopped, &stopped_steps[0])
            .await
            .contains("finished")
    );

    // A deployment to production with the environment's, workspace's and run's variables.
    let envs = sb.get_json(&format!("{REPO}/environments")).await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/environments",
        "200",
        &envs,
    );
    let names: Vec<_> = envs["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, ["Test", "Staging", "Production"]);
    let production = envs["values"][2]["uuid"]
        .as_str()
        .expect("uuid")
        .replace('{', "%7B")
        .replace('}', "%7D");
    let (status, _) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/deployments_config/environments/{production}/variables"),
            json!({"key": "REGION", "value": "eu-west"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = sb
        .send_json(
            Method::POST,
            "/workspaces/acme/pipelines-config/variables",
            json!({"key": "LEVEL", "value": "workspace"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, ship) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/pipelines"),
            json!({
                "target": {"ref_type": "branch", "ref_name": "main", "selector": {"type": "custom", "pattern": "ship"}},
                "variables": [{"key": "LEVEL", "value": "run"}],
            }),
        )
        .await;
    assert_eq!(status, 201, "{ship}");
    let (shipped, _) = watch(&sb, &ship, completed).await;
    assert_eq!(
        shipped["state"]["result"]["name"], "SUCCESSFUL",
        "{shipped}"
    );
    let shipped_steps = steps(&sb, &shipped).await;
    let text = log(&sb, &shipped, &shipped_steps[0]).await;
    assert!(
        text.contains("to production in eu-west at level run"),
        "{text}"
    );
    let deployments = sb.get_json(&format!("{REPO}/deployments")).await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/deployments",
        "200",
        &deployments,
    );
    assert_eq!(deployments["size"], 1, "{deployments}");
    let d = &deployments["values"][0];
    assert_eq!(d["environment"]["name"], "Production");
    assert_eq!(d["state"]["status"]["name"], "SUCCESSFUL");
    assert_eq!(
        d["release"]["commit"]["hash"],
        shipped["target"]["commit"]["hash"]
    );
}

#[tokio::test]
async fn bad_runs_are_refused_and_record_nothing() {
    let sb = running().await;
    let first = sb.get_json(&format!("{REPO}/commits/main?pagelen=2")).await;
    let before_file = first["values"][1]["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    sb.commit(
        REPO,
        "broken",
        &[("bitbucket-pipelines.yml", "pipelines: [")],
    )
    .await;
    for (target, expected) in [
        (
            json!({"commit": {"hash": before_file}, "type": "pipeline_commit_target"}),
            "There is no bitbucket-pipelines.yml",
        ),
        (
            json!({"ref_type": "branch", "ref_name": "broken"}),
            "not valid YAML",
        ),
        (
            json!({"ref_type": "branch", "ref_name": "main", "selector": {"type": "custom", "pattern": "nightly"}}),
            "no `custom` pipeline named `nightly`",
        ),
        (
            json!({"ref_type": "branch", "ref_name": "nowhere"}),
            "No branch 'nowhere'",
        ),
        (
            json!({"ref_type": "bookmark", "ref_name": "main"}),
            "not one of branch, tag",
        ),
        (json!({}), "name a branch or tag"),
    ] {
        let (status, body) = sb
            .send_json(
                Method::POST,
                &format!("{REPO}/pipelines"),
                json!({ "target": target }),
            )
            .await;
        assert!(status == 400 || status == 404, "{target}: {status} {body}");
        assert!(error_message(&body).contains(expected), "{target}: {body}");
    }
    let list = sb.get_json(&format!("{REPO}/pipelines")).await;
    assert_eq!(list["size"], 0, "{list}");
    let (status, body) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/pipelines_config/variables"),
            json!({"key": "9LIVES", "value": "x"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let vars = sb
        .get_json(&format!("{REPO}/pipelines_config/variables"))
        .await;
    assert_eq!(vars["size"], 0);
    let (status, gone) = sb
        .send_json(
            Method::GET,
            "/teams/acme/pipelines_config/variables",
            Value::Null,
        )
        .await;
    assert_eq!(status, 410, "{gone}");
}

#[tokio::test]
async fn with_running_off_a_run_is_recorded_and_says_why_it_did_not_run() {
    let sb = start().await;
    sb.commit(REPO, "main", &[("bitbucket-pipelines.yml", PIPELINES)])
        .await;
    let run = run(&sb, json!({"ref_type": "branch", "ref_name": "main"})).await;
    assert_eq!(run["state"]["name"], "COMPLETED", "{run}");
    assert_eq!(run["state"]["result"]["name"], "ERROR");
    let message = run["state"]["result"]["error"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("--run-pipelines"), "{message}");
    let run_steps = steps(&sb, &run).await;
    assert!(
        run_steps
            .iter()
            .all(|s| s["state"]["result"]["name"] == "NOT_RUN"),
        "{run_steps:?}"
    );
}

#[tokio::test]
async fn schedules_runners_known_hosts_caches_and_the_oidc_document() {
    let sb = start().await;
    let schedules = format!("{REPO}/pipelines_config/schedules");
    let (status, schedule) = sb
        .send_json(
            Method::POST,
            &schedules,
            json!({"target": {"type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main",
                "selector": {"type": "branches", "pattern": "main"}}, "cron_pattern": "0 0 12 * * ? *"}),
        )
        .await;
    assert_eq!(status, 201, "{schedule}");
    let uuid = schedule["uuid"]
        .as_str()
        .expect("uuid")
        .replace('{', "%7B")
        .replace('}', "%7D");
    let (status, off) = sb
        .send_json(
            Method::PUT,
            &format!("{schedules}/{uuid}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(status, 200, "{off}");
    validate(
        "PUT",
        "/repositories/{workspace}/{repo_slug}/pipelines_config/schedules/{schedule_uuid}",
        "200",
        &off,
    );
    let listed = sb.get_json(&schedules).await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pipelines_config/schedules",
        "200",
        &listed,
    );
    assert_eq!(listed["values"][0]["enabled"], false);
    for (body, expected) in [
        (
            json!({"target": {"ref_name": "main"}, "cron_pattern": "every day"}),
            "seven fields",
        ),
        (
            json!({"target": {"ref_name": "nowhere"}, "cron_pattern": "0 0 12 * * ? *"}),
            "No branch 'nowhere'",
        ),
        (json!({"cron_pattern": "0 0 12 * * ? *"}), "target"),
    ] {
        let (status, error) = sb.send_json(Method::POST, &schedules, body.clone()).await;
        assert!(status == 400 || status == 404, "{body}: {status}");
        assert!(error_message(&error).contains(expected), "{body}: {error}");
    }
    assert_eq!(sb.get_json(&schedules).await["size"], 1);

    let runners = format!("{REPO}/pipelines-config/runners");
    let (status, runner) = sb
        .send_json(
            Method::POST,
            &runners,
            json!({"name": "build-box", "labels": ["self.hosted", "linux"]}),
        )
        .await;
    assert_eq!(status, 200, "{runner}");
    assert_eq!(runner["state"]["status"], "UNREGISTERED");
    let listed = sb.get_json(&runners).await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pipelines-config/runners",
        "200",
        &listed,
    );
    let (status, _) = sb
        .send_json(Method::POST, &runners, json!({"name": ""}))
        .await;
    assert_eq!(status, 400);

    let hosts = format!("{REPO}/pipelines_config/ssh/known_hosts");
    let key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    let (status, host) = sb
        .send_json(Method::POST, &hosts, json!({"hostname": "bitbucket.org", "public_key": {"key_type": "ssh-ed25519", "key": key}}))
        .await;
    assert_eq!(status, 201, "{host}");
    assert!(
        host["public_key"]["sha256_fingerprint"]
            .as_str()
            .is_some_and(|f| f.starts_with("SHA256:")),
        "{host}"
    );
    let (status, again) = sb
        .send_json(Method::POST, &hosts, json!({"hostname": "bitbucket.org", "public_key": {"key_type": "ssh-ed25519", "key": key}}))
        .await;
    assert_eq!(status, 409, "{again}");
    let (status, _) = sb
        .send_json(
            Method::POST,
            &hosts,
            json!({"hostname": "x.org", "public_key": {"key_type": "ssh-dss", "key": key}}),
        )
        .await;
    assert_eq!(status, 400);
    let listed = sb.get_json(&hosts).await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pipelines_config/ssh/known_hosts",
        "200",
        &listed,
    );
    assert_eq!(listed["size"], 1);

    let caches = sb
        .get_json(&format!("{REPO}/pipelines-config/caches"))
        .await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pipelines-config/caches",
        "200",
        &caches,
    );
    assert_eq!(caches["size"], 0);

    // Public, as an identity provider's discovery document is.
    let oidc = sb
        .http
        .get(sb.url(
            "/workspaces/acme/pipelines-config/identity/oidc/.well-known/openid-configuration",
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(oidc.status(), 200);
    let oidc: Value = oidc.json().await.expect("json");
    let jwks = oidc["jwks_uri"].as_str().expect("jwks_uri");
    let keys: Value = sb
        .http
        .get(jwks)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(keys["keys"], json!([]));
}

#[tokio::test]
async fn a_run_pauses_before_a_manual_step_until_it_is_stopped() {
    let sb = start_with(|c| c.with_run_pipelines(true)).await;
    let file = "pipelines:\n  default:\n    - step:\n        name: Build\n        script: [echo built]\n    - step:\n        name: Release\n        trigger: manual\n        script: [echo released]\n";
    sb.commit(REPO, "main", &[("bitbucket-pipelines.yml", file)])
        .await;
    let run = run(&sb, json!({"ref_type": "branch", "ref_name": "main"})).await;
    let (paused, _) = watch(&sb, &run, |p| p["state"]["stage"]["name"] == "PAUSED").await;
    assert_eq!(paused["state"]["name"], "IN_PROGRESS", "{paused}");
    let paused_steps = steps(&sb, &paused).await;
    assert_eq!(paused_steps[0]["state"]["result"]["name"], "SUCCESSFUL");
    assert_eq!(paused_steps[1]["state"]["name"], "PENDING");
    assert_eq!(
        paused_steps[1]["trigger"]["type"],
        "pipeline_step_trigger_manual"
    );
    let (status, body) = sb
        .send_json(
            Method::POST,
            &format!("{}/stopPipeline", path_of(&paused)),
            json!({}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let stopped = sb.get_json(&path_of(&paused)).await;
    assert_eq!(stopped["state"]["result"]["name"], "STOPPED", "{stopped}");
    assert_eq!(
        steps(&sb, &stopped).await[1]["state"]["result"]["name"],
        "NOT_RUN"
    );
    let hash = stopped["target"]["commit"]["hash"].as_str().expect("hash");
    let statuses = sb.get_json(&format!("{REPO}/commit/{hash}/statuses")).await;
    assert!(
        statuses["values"]
            .as_array()
            .expect("values")
            .iter()
            .any(|s| s["key"] == stopped["uuid"] && s["state"] == "STOPPED"),
        "{statuses}"
    );
    // The first step cannot wait for a person.
    sb.commit(REPO, "manual-first", &[("bitbucket-pipelines.yml", "pipelines:\n  default:\n    - step:\n        trigger: manual\n        script: [echo x]\n")]).await;
    let (status, body) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/pipelines"),
            json!({"target": {"ref_type": "branch", "ref_name": "manual-first"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(error_message(&body).contains("cannot be manual"), "{body}");
}
