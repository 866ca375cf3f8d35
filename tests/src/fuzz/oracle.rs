//! What every answer must satisfy, whatever was asked: no 5xx; a GraphQL answer that is JSON
//! with `data` or `errors`; every error with `extensions.code` (and, over HTTP, the request id);
//! no `INTERNAL`; no dropped connection or stalled request. Refusals are fine: a fuzzer's
//! requests are mostly wrong. [`judge`] classifies an answer; [`Report`] counts them and keeps
//! the violations.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::cast::Who;
use super::operations::{Case, Transport};
use super::Tag;

/// What came back for a case.
#[derive(Debug, Clone)]
pub enum Answer {
    Http {
        status: u16,
        body: Vec<u8>,
    },
    WebSocket {
        /// The upgrade was refused with this status.
        refused: Option<u16>,
        /// Protocol messages after `connection_init` (acks, `next`, `error`, `complete`).
        messages: Vec<Value>,
        /// The server closed the socket with this code and reason.
        closed: Option<(u16, String)>,
        /// Nothing final arrived within the patience (a subscription still waiting).
        waiting: bool,
    },
    /// A body past the server's limit that the server stopped reading (the client could not
    /// finish sending it, so it never read the 413).
    CutOff(String),
    /// No answer: the connection failed, was reset, or the request timed out.
    Failed(String),
}

/// How a case ended, for the counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Data and no error.
    Ok,
    /// Some data and some errors (a batch, or a field that failed).
    Partial,
    /// Errors only; the first one's code.
    Refused(String),
    /// Refused before GraphQL, with an HTTP status (a body that is not a GraphQL request).
    Rejected(u16),
    /// A subscription that delivered nothing yet.
    Waiting,
    /// The server closed the WebSocket (code).
    Closed(u16),
}

/// Something no answer may be.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    ServerError(u16),
    /// Not JSON, or JSON that is no GraphQL response.
    NotGraphql(String),
    MissingCode(Value),
    Internal(Value),
    MissingRequestId(Value),
    /// No answer at all.
    NoAnswer(String),
    /// A WebSocket closed as by a failure of the server (1011).
    ClosedOnFailure(String),
}

impl Problem {
    fn name(&self) -> &'static str {
        match self {
            Problem::ServerError(_) => "5xx",
            Problem::NotGraphql(_) => "not a GraphQL response",
            Problem::MissingCode(_) => "error without extensions.code",
            Problem::Internal(_) => "INTERNAL",
            Problem::MissingRequestId(_) => "error without extensions.requestId",
            Problem::NoAnswer(_) => "no answer",
            Problem::ClosedOnFailure(_) => "WebSocket closed on a failure (1011)",
        }
    }
}

/// Classifies an answer and lists what is wrong with it.
pub fn judge(case: &Case, answer: &Answer) -> (Outcome, Vec<Problem>) {
    match answer {
        Answer::Failed(why) => (Outcome::Rejected(0), vec![Problem::NoAnswer(why.clone())]),
        Answer::CutOff(_) => (Outcome::Rejected(413), Vec::new()),
        Answer::Http { status, body } => {
            if *status >= 500 {
                let text = String::from_utf8_lossy(body).into_owned();
                return (
                    Outcome::Rejected(*status),
                    vec![Problem::ServerError(*status), Problem::NotGraphql(text)],
                );
            }
            match serde_json::from_slice::<Value>(body) {
                Ok(json) if *status == 200 => judge_graphql(&json, case.transport),
                // A 4xx before GraphQL (a body too large, not JSON, not a GraphQL request): a
                // GraphQL error all the same, with a code and the request id (issue 16,
                // item 6). A 4xx that is not JSON falls to the last arm.
                Ok(json) if *status >= 400 => {
                    let (_, mut problems) = judge_graphql(&json, case.transport);
                    if json["errors"].as_array().is_none_or(Vec::is_empty) {
                        problems.push(Problem::NotGraphql(json.to_string()));
                    }
                    (Outcome::Rejected(*status), problems)
                }
                Ok(json) => judge_graphql(&json, case.transport),
                Err(error) => (
                    Outcome::Rejected(*status),
                    vec![Problem::NotGraphql(format!(
                        "{error}: {}",
                        String::from_utf8_lossy(body)
                    ))],
                ),
            }
        }
        Answer::WebSocket {
            refused,
            messages,
            closed,
            waiting,
        } => {
            if let Some(status) = refused {
                let problems = if *status >= 500 {
                    vec![Problem::ServerError(*status)]
                } else {
                    Vec::new()
                };
                return (Outcome::Rejected(*status), problems);
            }
            let mut problems = Vec::new();
            let mut outcome = None;
            for message in messages {
                let payload = &message["payload"];
                match message["type"].as_str() {
                    Some("next") => {
                        let (judged, found) = judge_graphql(payload, case.transport);
                        outcome.get_or_insert(judged);
                        problems.extend(found);
                    }
                    Some("error") => {
                        // graphql-transport-ws: the payload is a list of errors.
                        let wrapped = serde_json::json!({ "errors": payload });
                        let (judged, found) = judge_graphql(&wrapped, case.transport);
                        outcome.get_or_insert(judged);
                        problems.extend(found);
                    }
                    _ => {}
                }
            }
            if let Some((code, reason)) = closed {
                // 1011 is a failure of the server, except where async-graphql uses it to refuse
                // a `subscribe` sent before `connection_init` was acknowledged (the protocol
                // asks for 4401 there).
                if *code == 1011 && reason != "The handshake is not completed." {
                    problems.push(Problem::ClosedOnFailure(reason.clone()));
                }
                outcome.get_or_insert(Outcome::Closed(*code));
            }
            if *waiting {
                outcome.get_or_insert(Outcome::Waiting);
            }
            (outcome.unwrap_or(Outcome::Closed(1000)), problems)
        }
    }
}

/// One GraphQL response, or a batch (an array) of them.
fn judge_graphql(json: &Value, transport: Transport) -> (Outcome, Vec<Problem>) {
    if let Some(responses) = json.as_array() {
        let mut problems = Vec::new();
        let mut outcomes = Vec::new();
        for response in responses {
            let (outcome, found) = judge_graphql(response, transport);
            outcomes.push(outcome);
            problems.extend(found);
        }
        let outcome = match outcomes.first() {
            Some(first) if outcomes.iter().all(|outcome| outcome == first) => first.clone(),
            Some(_) => Outcome::Partial,
            None => Outcome::Ok,
        };
        return (outcome, problems);
    }
    let data = json.get("data").filter(|data| !data.is_null());
    let errors = json.get("errors").and_then(Value::as_array);
    // `{"data": null}` alone is what async-graphql answers when `@skip` left nothing to run.
    if json.get("data").is_none() && errors.is_none() {
        return (
            Outcome::Rejected(200),
            vec![Problem::NotGraphql(json.to_string())],
        );
    }
    let mut problems = Vec::new();
    let mut first_code = None;
    for error in errors.into_iter().flatten() {
        let code = error["extensions"]["code"].as_str();
        match code {
            None => problems.push(Problem::MissingCode(error.clone())),
            Some("INTERNAL") => problems.push(Problem::Internal(error.clone())),
            Some(_) => {}
        }
        if transport == Transport::Http && !error["extensions"]["requestId"].is_string() {
            problems.push(Problem::MissingRequestId(error.clone()));
        }
        first_code.get_or_insert_with(|| code.unwrap_or("(none)").to_owned());
    }
    let outcome = match (data, first_code) {
        (_, None) => Outcome::Ok,
        (Some(_), Some(_)) => Outcome::Partial,
        (None, Some(code)) => Outcome::Refused(code),
    };
    (outcome, problems)
}

/// Counts of outcomes for one kind or one role.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub cases: usize,
    pub ok: usize,
    pub partial: usize,
    pub refused: usize,
    pub rejected: usize,
    pub websocket: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        self.cases += 1;
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Partial => self.partial += 1,
            Outcome::Refused(_) => self.refused += 1,
            Outcome::Rejected(_) => self.rejected += 1,
            Outcome::Waiting | Outcome::Closed(_) => self.websocket += 1,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>5} cases: ok {:>4}, partial {:>3}, refused {:>4}, rejected {:>3}",
            self.cases, self.ok, self.partial, self.refused, self.rejected
        )?;
        if self.websocket > 0 {
            write!(f, ", websocket open/closed {}", self.websocket)?;
        }
        Ok(())
    }
}

/// The tally of a run.
#[derive(Debug, Default)]
pub struct Report {
    pub backend: String,
    pub seed: u64,
    pub cases: usize,
    pub operations: usize,
    pub elapsed: Duration,
    pub deadline_hit: bool,
    pub by_kind: BTreeMap<&'static str, Counts>,
    pub by_role: BTreeMap<Who, Counts>,
    /// Clean cases (valid documents, valid values) and broken ones.
    pub by_flaws: BTreeMap<&'static str, Counts>,
    /// Violations by kind (problem and transport).
    pub problems: BTreeMap<String, usize>,
    /// Every error code answered, over all errors.
    pub codes: BTreeMap<String, usize>,
    pub statuses: BTreeMap<u16, usize>,
    pub websocket_closes: BTreeMap<u16, usize>,
    pub tags: BTreeMap<Tag, usize>,
    pub health_checks: usize,
    /// The violations, with the request and answer (the first ones in full).
    pub violations: Vec<String>,
    pub violation_count: usize,
    /// Resident memory of the test process (server and client) before and after, in KiB.
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

/// Violations kept in full; the others are only counted.
const KEPT: usize = 20;

impl Report {
    /// Counts one answered case, and records its violations (except those a known finding
    /// explains).
    pub fn record(&mut self, case: &Case, answer: &Answer) {
        let (outcome, problems) = judge(case, answer);
        self.cases += 1;
        self.operations += case.operations;
        self.by_kind
            .entry(case.kind.as_str())
            .or_default()
            .add(&outcome);
        self.by_role.entry(case.who).or_default().add(&outcome);
        self.by_flaws
            .entry(if case.broken { "broken" } else { "clean" })
            .or_default()
            .add(&outcome);
        for tag in &case.tags {
            *self.tags.entry(*tag).or_default() += 1;
        }
        match answer {
            Answer::Http { status, body } => {
                *self.statuses.entry(*status).or_default() += 1;
                if let Ok(json) = serde_json::from_slice::<Value>(body) {
                    count_codes(&json, &mut self.codes);
                }
            }
            Answer::WebSocket {
                messages, closed, ..
            } => {
                for message in messages {
                    count_codes(&message["payload"], &mut self.codes);
                }
                if let Some((code, _)) = closed {
                    *self.websocket_closes.entry(*code).or_default() += 1;
                }
            }
            Answer::CutOff(_) => *self.statuses.entry(413).or_default() += 1,
            Answer::Failed(_) => {}
        }
        for problem in &problems {
            *self
                .problems
                .entry(format!("{} over {:?}", problem.name(), case.transport))
                .or_default() += 1;
        }
        if !problems.is_empty() {
            self.violation(format!(
                "{problems:?}\nrequest: {}\nanswer: {}",
                case.describe(),
                describe_answer(answer)
            ));
        }
    }

    /// Records a violation that is not about one case (a failed health check).
    pub fn violation(&mut self, text: String) {
        self.violation_count += 1;
        if self.violations.len() < KEPT {
            self.violations.push(text);
        }
    }

    pub fn rss_growth_kib(&self) -> i64 {
        self.rss_after_kib as i64 - self.rss_before_kib as i64
    }
}

/// Counts the codes of a response, a batch of responses, or a list of errors.
fn count_codes(json: &Value, codes: &mut BTreeMap<String, usize>) {
    match json.as_array() {
        Some(items) => {
            for item in items {
                if item.get("message").is_some() {
                    bump(item, codes);
                } else {
                    count_codes(item, codes);
                }
            }
        }
        None => {
            for error in json["errors"].as_array().into_iter().flatten() {
                bump(error, codes);
            }
        }
    }
}

fn bump(error: &Value, codes: &mut BTreeMap<String, usize>) {
    let code = error["extensions"]["code"].as_str().unwrap_or("(none)");
    *codes.entry(code.to_owned()).or_default() += 1;
}

fn describe_answer(answer: &Answer) -> String {
    let text = match answer {
        Answer::Http { status, body } => {
            format!("HTTP {status}: {}", String::from_utf8_lossy(body))
        }
        other => format!("{other:?}"),
    };
    if text.len() > 4_000 {
        let mut end = 4_000;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &text[..end], text.len())
    } else {
        text
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "GraphQL fuzz on {} (seed {:#x}): {} cases, {} operations in {:.1} s ({:.0} cases/s){}",
            self.backend,
            self.seed,
            self.cases,
            self.operations,
            secs,
            self.cases as f64 / secs.max(0.001),
            if self.deadline_hit {
                ", STOPPED AT THE DEADLINE"
            } else {
                ""
            }
        )?;
        writeln!(f, "  by kind:")?;
        for (kind, counts) in &self.by_kind {
            writeln!(f, "    {kind:<16} {counts}")?;
        }
        for (flaws, counts) in &self.by_flaws {
            writeln!(f, "    {flaws:<16} {counts}")?;
        }
        writeln!(f, "  by role:")?;
        for (who, counts) in &self.by_role {
            writeln!(f, "    {:<16} {counts}", format!("{who:?}"))?;
        }
        let join = |items: Vec<String>| items.join(", ");
        writeln!(
            f,
            "  error codes: {}",
            join(
                self.codes
                    .iter()
                    .map(|(code, n)| format!("{code} {n}"))
                    .collect()
            )
        )?;
        writeln!(
            f,
            "  HTTP statuses: {}",
            join(
                self.statuses
                    .iter()
                    .map(|(code, n)| format!("{code} ×{n}"))
                    .collect()
            )
        )?;
        if !self.websocket_closes.is_empty() {
            writeln!(
                f,
                "  WebSocket closes: {}",
                join(
                    self.websocket_closes
                        .iter()
                        .map(|(code, n)| format!("{code} ×{n}"))
                        .collect()
                )
            )?;
        }
        writeln!(
            f,
            "  cases with: {}",
            join(
                self.tags
                    .iter()
                    .map(|(tag, n)| format!("{tag:?} {n}"))
                    .collect()
            )
        )?;
        writeln!(
            f,
            "  health checks passed: {}; RSS {} MiB -> {} MiB ({:+} MiB)",
            self.health_checks,
            self.rss_before_kib / 1024,
            self.rss_after_kib / 1024,
            self.rss_growth_kib() / 1024
        )?;
        writeln!(f, "  violations: {} cases", self.violation_count)?;
        for (problem, n) in &self.problems {
            writeln!(f, "    {problem} ×{n}")?;
        }
        for violation in &self.violations {
            writeln!(f, "  ---\n  {violation}")?;
        }
        Ok(())
    }
}

/// The resident set size of this process, in KiB (0 where `/proc` is not there).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
