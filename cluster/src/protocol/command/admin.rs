//! Commands of operator tools and roles' status: `ROLE_STATUS`, `AUTH`, `INSPECT`.

use super::args::{codec, Args, Encoded};
use super::{Command, CommandError, InspectQuery};

fn s(v: &str) -> String {
    v.to_string()
}

/// `what` and, where it needs one, its argument (`INSPECT`, `INSPECT_RESULT`).
fn inspect_query(a: &mut Args) -> Result<InspectQuery, CommandError> {
    let what = a.name("what")?;
    Ok(match what.as_str() {
        "sessions" => InspectQuery::Sessions,
        "topics" => InspectQuery::Topics,
        "accounts" => InspectQuery::Accounts,
        "topic" => InspectQuery::Topic(a.name("topic")?),
        "user" => InspectQuery::User(a.name("id")?),
        _ => {
            return Err(a.bad(format!(
                "`what` must be sessions, topics, topic, user or accounts; got {what:?}"
            )))
        }
    })
}

/// `[what, arg?]`.
fn query_args(q: &InspectQuery) -> Vec<String> {
    let mut v = vec![q.what().to_string()];
    v.extend(q.arg().map(str::to_string));
    v
}

codec! {
    "ROLE_STATUS", Command::RoleStatus,
        |a| Command::RoleStatus,
        Encoded::args(vec![]);
    "ROLE_STATUS_OK", Command::RoleStatusOk { role, data },
        |a| Command::RoleStatusOk { role: a.name("role")?, data: a.data() },
        Encoded::with_data(vec![s(role)], data);
    "AUTH", Command::Auth { secret },
        |a| Command::Auth { secret: a.text("secret")? },
        Encoded::args(vec![s(secret)]);
    "INSPECT", Command::Inspect { query },
        |a| Command::Inspect { query: inspect_query(a)? },
        Encoded::args(query_args(query));
    "INSPECT_RESULT", Command::InspectResult { query, data },
        |a| Command::InspectResult { query: inspect_query(a)?, data: a.data() },
        Encoded::with_data(query_args(query), data);
}
