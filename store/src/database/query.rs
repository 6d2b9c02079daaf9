//! Statements written once for both databases: a [`Query`] is SQL text with
//! `$N` placeholders (both databases accept them) and typed [`Param`]s, run
//! on a connection or transaction of either database. This file is the one
//! seam where the two sqlx drivers meet: the only `match` on the driver a
//! statement needs is here, so store code calls plain functions that "go to
//! definition" finds.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::types::Json;
use sqlx::{Arguments, FromRow};
use uuid::Uuid;

use crate::{Error, Result};

/// A value bound to a placeholder, typed alike on both databases. Each
/// variant holds an `Option` where the column may be NULL, so a NULL still
/// knows its type (PostgreSQL's array parameters need it).
#[derive(Debug, Clone)]
pub(crate) enum Param<'a> {
    Bool(bool),
    Int(Option<i32>),
    BigInt(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Time(Option<DateTime<Utc>>),
    Uuid(Uuid),
    /// JSON, serialized once (`jsonb` on PostgreSQL, text on SQLite).
    Json(Option<Cow<'a, RawValue>>),
}

impl Param<'_> {
    /// The same value, owning its text and JSON.
    pub fn into_owned(self) -> Param<'static> {
        match self {
            Param::Bool(v) => Param::Bool(v),
            Param::Int(v) => Param::Int(v),
            Param::BigInt(v) => Param::BigInt(v),
            Param::Text(v) => Param::Text(v.map(|v| Cow::Owned(v.into_owned()))),
            Param::Time(v) => Param::Time(v),
            Param::Uuid(v) => Param::Uuid(v),
            Param::Json(v) => Param::Json(v.map(|v| Cow::Owned(v.into_owned()))),
        }
    }

    /// JSON of a serializable value.
    pub fn json(value: &impl serde::Serialize) -> Result<Param<'static>> {
        Ok(Param::Json(Some(Cow::Owned(
            serde_json::value::to_raw_value(value)?,
        ))))
    }
}

macro_rules! param_from {
    ($($ty:ty => $variant:ident($conv:expr)),* $(,)?) => {$(
        impl<'a> From<$ty> for Param<'a> {
            fn from(value: $ty) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Param::$variant(($conv)(value))
            }
        }
    )*};
}

param_from! {
    bool => Bool(|v| v),
    i32 => Int(Some),
    Option<i32> => Int(|v| v),
    i64 => BigInt(Some),
    Option<i64> => BigInt(|v| v),
    &'a str => Text(|v| Some(Cow::Borrowed(v))),
    &'a String => Text(|v: &'a String| Some(Cow::Borrowed(v.as_str()))),
    String => Text(|v| Some(Cow::Owned(v))),
    Option<&'a str> => Text(|v: Option<&'a str>| v.map(Cow::Borrowed)),
    &'a Option<String> => Text(|v: &'a Option<String>| v.as_deref().map(Cow::Borrowed)),
    DateTime<Utc> => Time(Some),
    Option<DateTime<Utc>> => Time(|v| v),
    Uuid => Uuid(|v| v),
    &'a RawValue => Json(|v| Some(Cow::Borrowed(v))),
    Option<&'a RawValue> => Json(|v: Option<&'a RawValue>| v.map(Cow::Borrowed)),
}

/// A row type either database can decode (`#[derive(sqlx::FromRow)]`
/// structs and tuples of column types).
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A connection of either database, borrowed to run one statement.
#[derive(Debug)]
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Anything a statement runs on: a pooled connection or a transaction.
pub(crate) trait Executor {
    /// The connection to run on.
    fn conn(&mut self) -> Conn<'_>;
}

impl Executor for sqlx::pool::PoolConnection<sqlx::Sqlite> {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Sqlite(self)
    }
}

impl Executor for sqlx::pool::PoolConnection<sqlx::Postgres> {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Postgres(self)
    }
}

/// SQL text with `$N` placeholders and their values, in order.
#[derive(Debug)]
pub(crate) struct Query<'a> {
    sql: Cow<'a, str>,
    params: Vec<Param<'a>>,
    /// Where [`Query::push_bind`] wrote each placeholder (its byte offset).
    pushed: Vec<usize>,
}

/// A query: `query("… $1 … $2").bind(a).bind(b)`.
pub(crate) fn query(sql: &str) -> Query<'_> {
    Query {
        sql: Cow::Borrowed(sql),
        params: Vec::new(),
        pushed: Vec::new(),
    }
}

impl<'a> Query<'a> {
    /// A query built piece by piece with [`Query::push`] and
    /// [`Query::push_bind`].
    pub fn build(start: impl Into<Cow<'a, str>>) -> Self {
        // Room for what is pushed: a statement grown a piece at a time
        // would otherwise be copied at every doubling.
        let start = start.into();
        let mut sql = String::with_capacity(start.len() + 1024);
        sql.push_str(&start);
        Query {
            sql: Cow::Owned(sql),
            params: Vec::with_capacity(8),
            pushed: Vec::with_capacity(8),
        }
    }

    /// Binds the next `$N` of the text.
    pub fn bind(mut self, value: impl Into<Param<'a>>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Binds every value of `params`, in order.
    pub fn bind_all(mut self, params: impl IntoIterator<Item = Param<'a>>) -> Self {
        self.params.extend(params);
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind(&mut self, value: impl Into<Param<'a>>) -> &mut Self {
        use std::fmt::Write as _;
        self.params.push(value.into());
        let n = self.params.len();
        self.pushed.push(self.sql.len());
        let _ = write!(self.sql.to_mut(), "${n}");
        self
    }

    /// Appends a comma-separated placeholder for each of `values` (the
    /// inside of `IN (…)`).
    pub fn push_binds<V: Into<Param<'a>>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            self.push(if i == 0 { "" } else { ", " }).push_bind(value);
        }
        self
    }

    /// Every row, decoded as `R`.
    pub async fn fetch_all<R: Record>(self, on: &mut impl Executor) -> Result<Vec<R>> {
        Ok(match on.conn() {
            Conn::Sqlite(c) => {
                sqlx::query_as_with(
                    &sqlite_text(&self.sql, &self.pushed, self.params.len()),
                    sqlite_args(self.params)?,
                )
                .fetch_all(c)
                .await?
            }
            Conn::Postgres(c) => {
                sqlx::query_as_with(&self.sql, pg_args(self.params)?)
                    .fetch_all(c)
                    .await?
            }
        })
    }

    /// The first row, if any.
    pub async fn fetch_optional<R: Record>(self, on: &mut impl Executor) -> Result<Option<R>> {
        Ok(match on.conn() {
            Conn::Sqlite(c) => {
                sqlx::query_as_with(
                    &sqlite_text(&self.sql, &self.pushed, self.params.len()),
                    sqlite_args(self.params)?,
                )
                .fetch_optional(c)
                .await?
            }
            Conn::Postgres(c) => {
                sqlx::query_as_with(&self.sql, pg_args(self.params)?)
                    .fetch_optional(c)
                    .await?
            }
        })
    }

    /// The one row the statement returns.
    pub async fn fetch_one<R: Record>(self, on: &mut impl Executor) -> Result<R> {
        self.fetch_optional(on)
            .await?
            .ok_or_else(|| Error::Internal("a statement that returns a row returned none".into()))
    }

    /// The first column of the one row the statement returns.
    pub async fn scalar<T>(self, on: &mut impl Executor) -> Result<T>
    where
        (T,): Record,
    {
        Ok(self.fetch_one::<(T,)>(on).await?.0)
    }

    /// The first column of the first row, if any.
    pub async fn scalar_optional<T>(self, on: &mut impl Executor) -> Result<Option<T>>
    where
        (T,): Record,
    {
        Ok(self.fetch_optional::<(T,)>(on).await?.map(|(value,)| value))
    }

    /// Runs the statement; returns how many rows it changed.
    pub async fn execute(self, on: &mut impl Executor) -> Result<u64> {
        Ok(match on.conn() {
            Conn::Sqlite(c) => sqlx::query_with(
                &sqlite_text(&self.sql, &self.pushed, self.params.len()),
                sqlite_args(self.params)?,
            )
            .execute(c)
            .await?
            .rows_affected(),
            Conn::Postgres(c) => sqlx::query_with(&self.sql, pg_args(self.params)?)
                .execute(c)
                .await?
                .rows_affected(),
        })
    }
}

/// The text SQLite runs. SQLite looks a named placeholder (`$N`) up in
/// a list, one by one, so binding a statement of n of them costs n²/2
/// steps (a 500-value insert: 125,000). When every placeholder was
/// pushed, each `$N` once and in order, they become anonymous `?`s,
/// bound by position at no such cost.
fn sqlite_text<'s>(sql: &'s str, pushed: &[usize], params: usize) -> Cow<'s, str> {
    let placeholders = sql.bytes().filter(|b| *b == b'$').count();
    if pushed.is_empty() || pushed.len() != params || placeholders != pushed.len() {
        return Cow::Borrowed(sql);
    }
    let mut text = String::with_capacity(sql.len());
    let mut from = 0;
    for &at in pushed {
        text.push_str(&sql[from..at]);
        text.push('?');
        from = at + 1 + sql[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
    }
    text.push_str(&sql[from..]);
    Cow::Owned(text)
}

/// A parameter the driver refused to encode (not expected for these types).
fn refused(err: sqlx::error::BoxDynError) -> Error {
    Error::Internal(format!("a parameter cannot be encoded: {err}"))
}

fn sqlite_args(params: Vec<Param<'_>>) -> Result<SqliteArguments<'_>> {
    let mut args = SqliteArguments::default();
    for param in params {
        match param {
            Param::Bool(v) => args.add(v),
            Param::Int(v) => args.add(v),
            Param::BigInt(v) => args.add(v),
            Param::Text(v) => args.add(v),
            Param::Time(v) => args.add(v),
            Param::Uuid(v) => args.add(v),
            Param::Json(v) => args.add(v.map(Json)),
        }
        .map_err(refused)?;
    }
    Ok(args)
}

fn pg_args(params: Vec<Param<'_>>) -> Result<PgArguments> {
    let mut args = PgArguments::default();
    for param in params {
        add_pg(&mut args, param)?;
    }
    Ok(args)
}

fn add_pg(args: &mut PgArguments, param: Param<'_>) -> Result<()> {
    match param {
        Param::Bool(v) => args.add(v),
        Param::Int(v) => args.add(v),
        Param::BigInt(v) => args.add(v),
        Param::Text(v) => args.add(v),
        Param::Time(v) => args.add(v),
        Param::Uuid(v) => args.add(v),
        Param::Json(v) => args.add(v.map(Json)),
    }
    .map_err(refused)
}

fn json_of(raw: Option<Cow<'_, RawValue>>) -> Option<Json<Cow<'_, RawValue>>> {
    raw.map(Json)
}

/// PostgreSQL: binds one array parameter holding `column`, the values of one
/// column for every row of a batch (all of one variant, as one column's
/// values are).
pub(crate) fn add_pg_array(args: &mut PgArguments, column: Vec<Param<'_>>) -> Result<()> {
    macro_rules! array {
        ($variant:ident, $map:expr) => {
            column
                .into_iter()
                .map(|param| match param {
                    Param::$variant(v) => Ok($map(v)),
                    other => Err(Error::Internal(format!(
                        "a batch column mixes {} with {other:?}",
                        stringify!($variant)
                    ))),
                })
                .collect::<Result<Vec<_>>>()?
        };
    }
    let added = match column.first() {
        None => return Err(Error::Internal("an empty batch column".into())),
        Some(Param::Bool(_)) => args.add(array!(Bool, |v| v)),
        Some(Param::Int(_)) => args.add(array!(Int, |v| v)),
        Some(Param::BigInt(_)) => args.add(array!(BigInt, |v| v)),
        Some(Param::Text(_)) => args.add(array!(Text, |v| v)),
        Some(Param::Time(_)) => args.add(array!(Time, |v| v)),
        Some(Param::Uuid(_)) => args.add(array!(Uuid, |v| v)),
        Some(Param::Json(_)) => args.add(array!(Json, json_of)),
    };
    added.map_err(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_placeholders_run_as_anonymous_ones_on_sqlite() {
        let mut q = Query::build("SELECT id FROM tasks WHERE user_id = ");
        q.push_bind("u").push(" AND id IN (");
        q.push_binds((1..=12).map(i64::from)).push(")");
        let text = sqlite_text(&q.sql, &q.pushed, q.params.len());
        assert_eq!(
            text,
            "SELECT id FROM tasks WHERE user_id = ? AND id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );

        // Written by hand, or beside a `$` of the text's own: as written.
        let q = query("SELECT $1, $1").bind(1_i64);
        assert_eq!(
            sqlite_text(&q.sql, &q.pushed, q.params.len()),
            "SELECT $1, $1"
        );
        let mut q = Query::build("SELECT json_extract(data, '$.title') FROM tasks WHERE id = ");
        q.push_bind(1_i64);
        assert_eq!(
            sqlite_text(&q.sql, &q.pushed, q.params.len()),
            "SELECT json_extract(data, '$.title') FROM tasks WHERE id = $1"
        );
    }
}
