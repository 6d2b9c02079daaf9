//! A database that cannot take a write (another session holds the lock)
//! answers 503 with `Retry-After` within seconds, on SQLite and PostgreSQL,
//! instead of queueing requests without bound or failing with 500; reads
//! go on meanwhile, and writes work again once the lock is gone.

use std::time::{Duration, Instant};

use crate::common::serve;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;
use taskflow_testkit::harness::{Harness, Raw};
use taskflow_testkit::on_both_databases;

on_both_databases!(a_locked_database_answers_503_with_retry_after);

async fn a_locked_database_answers_503_with_retry_after(h: &Harness) {
    let api = serve(h).await;
    let made = api.create_task("alice", json!({"title": "before"})).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let id = made.body["id"].as_i64().unwrap();

    // Another session takes the write lock and keeps it.
    let (sqlite, postgres) = match &h.raw {
        Raw::Sqlite(pool) => {
            let mut conn = pool.acquire().await.unwrap().detach();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            (Some(conn), None)
        }
        Raw::Postgres(pool) => {
            let mut conn = pool.acquire().await.unwrap().detach();
            sqlx::raw_sql("BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            (None, Some(conn))
        }
    };
    let asked = Instant::now();
    let path = format!("/api/tasks/{id}");
    let (create, update) = tokio::join!(
        api.create_task("alice", json!({"title": "during"})),
        api.call(Method::PATCH, &path, "alice", Some(json!({"title": "x"}))),
    );
    let waited = asked.elapsed();
    for reply in [&create, &update] {
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{:?}",
            reply.body
        );
        assert_eq!(reply.body["code"], "unavailable");
        assert_eq!(reply.header("retry-after"), "1");
    }
    assert!(
        waited < Duration::from_secs(12),
        "answered after {waited:?}"
    );

    if let Some(conn) = sqlite {
        // SQLite readers are not blocked by a writer (WAL).
        let read = api.get_task("alice", id).await;
        assert_eq!(read.status, StatusCode::OK);
        conn.close().await.unwrap();
    }
    if let Some(conn) = postgres {
        conn.close().await.unwrap();
    }
    let after = api.create_task("alice", json!({"title": "after"})).await;
    assert_eq!(after.status, StatusCode::CREATED, "{:?}", after.body);
}
