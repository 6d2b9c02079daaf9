//! The database test harness: a test declared with `on_both_databases!` runs
//! once on SQLite and once on PostgreSQL. SQLite gets a fresh database file
//! per test; PostgreSQL, at `TASKFLOW_TEST_DATABASE_URL`, a fresh schema per
//! test, dropped when the test passes. Without that variable a PostgreSQL
//! test fails, unless `TASKFLOW_SKIP_POSTGRES=1` asks to skip it: a skipped
//! test counts as passed, so skipping must be a choice, never an accident.
//! `raw` gives tests plain SQL access for checks and fault injection.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgPool, SqlitePool};
use taskflow_store::{Database, ManualClock, PostgresConnectOptions, TaskService};

pub const PG_URL_VAR: &str = "TASKFLOW_TEST_DATABASE_URL";
/// `1` skips the PostgreSQL tests when `PG_URL_VAR` is not set.
pub const PG_SKIP_VAR: &str = "TASKFLOW_SKIP_POSTGRES";

/// A database under test.
#[derive(Debug)]
pub struct Harness {
    pub svc: TaskService,
    pub clock: ManualClock,
    pub raw: Raw,
    /// A URL another process can open the same database with.
    pub url: String,
    cleanup: Option<(PgPool, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// Direct SQL access to the database under test.
#[derive(Debug)]
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// Runs a statement.
    pub async fn exec(&self, sql: &str) {
        match self {
            Raw::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
            Raw::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs a query returning one integer.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Raw::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a query returning rows of (integer, text).
    pub async fn pairs(&self, sql: &str) -> Vec<(i64, String)> {
        match self {
            Raw::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
            Raw::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Makes every insert into `table` fail, to test that a transaction
    /// leaves nothing behind.
    pub async fn break_inserts(&self, table: &str) {
        match self {
            Raw::Sqlite(_) => {
                self.exec(&format!(
                    "CREATE TRIGGER break_{table} BEFORE INSERT ON {table} \
                     BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
                ))
                .await
            }
            Raw::Postgres(_) => {
                self.exec(&format!(
                    "CREATE FUNCTION break_{table}() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
                     CREATE TRIGGER break_{table} BEFORE INSERT ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION break_{table}();"
                ))
                .await
            }
        }
    }

    /// Makes the database refuse any task titled `title`.
    pub async fn refuse_title(&self, title: &str) {
        match self {
            Raw::Sqlite(_) => {
                self.exec(&format!(
                    "CREATE TRIGGER refuse_title BEFORE INSERT ON tasks WHEN NEW.title = '{title}' \
                     BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
                ))
                .await
            }
            Raw::Postgres(_) => {
                self.exec(&format!(
                    "CREATE FUNCTION refuse_title() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
                     CREATE TRIGGER refuse_title BEFORE INSERT ON tasks FOR EACH ROW \
                     WHEN (NEW.title = '{title}') EXECUTE FUNCTION refuse_title();"
                ))
                .await
            }
        }
    }

    /// Undoes `break_inserts`.
    pub async fn mend_inserts(&self, table: &str) {
        match self {
            Raw::Sqlite(_) => self.exec(&format!("DROP TRIGGER break_{table}")).await,
            Raw::Postgres(_) => {
                self.exec(&format!(
                    "DROP TRIGGER break_{table} ON {table}; DROP FUNCTION break_{table}();"
                ))
                .await
            }
        }
    }
}

/// The instant the manual clock starts at: Monday 2026-03-23 12:00 UTC.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 23, 12, 0, 0).unwrap()
}

pub async fn sqlite() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taskflow.db");
    let db = Database::open_sqlite(&path).await.unwrap();
    db.migrate().await.unwrap();
    let raw = SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    let clock = ManualClock::new(start());
    Harness {
        svc: TaskService::with_clock(db, Arc::new(clock.clone())),
        clock,
        raw: Raw::Sqlite(raw),
        url: format!("sqlite://{}", path.display()),
        cleanup: None,
        _dir: Some(dir),
    }
}

/// The PostgreSQL server for tests, from `TASKFLOW_TEST_DATABASE_URL`; None
/// (after saying so on stderr) when it is unset and `TASKFLOW_SKIP_POSTGRES=1`.
///
/// # Panics
///
/// When neither is set: a PostgreSQL test must not pass without running.
pub fn postgres_url() -> Option<String> {
    if let Some(url) = std::env::var(PG_URL_VAR).ok().filter(|u| !u.is_empty()) {
        return Some(url);
    }
    if std::env::var(PG_SKIP_VAR).is_ok_and(|v| v == "1") {
        eprintln!("skipped: {PG_URL_VAR} is not set and {PG_SKIP_VAR}=1");
        return None;
    }
    panic!(
        "{PG_URL_VAR} is not set: point it at a PostgreSQL database (a local one: \
         postgres://postgres@127.0.0.1:5432/test), or set {PG_SKIP_VAR}=1 to skip \
         the PostgreSQL tests"
    );
}

/// A fresh schema on the tests' PostgreSQL server; None only when
/// [`postgres_url`] says to skip (and it panics when nothing is configured).
pub async fn postgres() -> Option<Harness> {
    let url = postgres_url()?;
    let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{PG_URL_VAR} is set but PostgreSQL is unreachable: {e}"));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let options: PostgresConnectOptions = url
        .parse::<PostgresConnectOptions>()
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let db = Database::connect_postgres(options.clone(), 8)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let clock = ManualClock::new(start());
    Some(Harness {
        svc: TaskService::with_clock(db, Arc::new(clock.clone())),
        clock,
        raw: Raw::Postgres(raw),
        url: format!(
            "{url}{}options=-c%20search_path%3D{schema}",
            if url.contains('?') { '&' } else { '?' }
        ),
        cleanup: Some((admin, schema)),
        _dir: None,
    })
}

impl Harness {
    /// Closes the database and, on PostgreSQL, drops the test's schema.
    pub async fn finish(self) {
        self.svc.database().close().await;
        match &self.raw {
            Raw::Sqlite(p) => p.close().await,
            Raw::Postgres(p) => p.close().await,
        }
        if let Some((admin, schema)) = self.cleanup {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin)
                .await
                .unwrap();
        }
    }
}

/// Declares each listed `async fn name(h: Harness)` as two tests,
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = $crate::harness::sqlite().await;
                    super::$name(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    // None only when skipping was asked for.
                    let Some(h) = $crate::harness::postgres().await else {
                        return;
                    };
                    super::$name(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}
