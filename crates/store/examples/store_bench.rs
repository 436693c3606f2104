//! Measures durable create throughput and latency of `SqliteStore` under concurrent writers.
//!
//! Usage: `store_bench [TASKS] [SECONDS] [VALUE_BYTES] [DIR]` (defaults: 32, 5, 300, a
//! temporary directory under the current directory, so the file is on a real disk).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use skiff_store::{SqliteOptions, SqliteStore, Store};

fn arg<T: std::str::FromStr>(n: usize, default: T) -> anyhow::Result<T> {
    match std::env::args().nth(n) {
        Some(text) => text
            .parse()
            .map_err(|_| anyhow::anyhow!("bad argument {n}: {text}")),
        None => Ok(default),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let tasks: usize = arg(1, 32)?;
    let seconds: u64 = arg(2, 5)?;
    let value_bytes: usize = arg(3, 300)?;
    let parent: PathBuf = arg(4, PathBuf::from("."))?;
    let dir = tempfile::tempdir_in(&parent).context("create a temporary directory")?;
    let path = dir.path().join("bench.db");
    let store: Arc<dyn Store> = SqliteStore::open(&path, SqliteOptions::default())?;

    let duration = Duration::from_secs(seconds);
    let start = Instant::now();
    let mut workers = Vec::new();
    for t in 0..tasks {
        let store = Arc::clone(&store);
        workers.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new(3)?;
            let value = vec![b'v'; value_bytes];
            let mut i = 0u64;
            while start.elapsed() < duration {
                let key = format!("/registry/pods/bench-{t}/pod-{i}");
                let began = Instant::now();
                store.create(&key, value.clone()).await?;
                histogram.record(began.elapsed().as_micros() as u64)?;
                i += 1;
            }
            anyhow::Ok(histogram)
        }));
    }
    let mut histogram = Histogram::<u64>::new(3)?;
    for worker in workers {
        histogram.add(worker.await??)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{} creates of {value_bytes} B from {tasks} tasks in {elapsed:.2} s: {:.0} creates/s",
        histogram.len(),
        histogram.len() as f64 / elapsed
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        histogram.max() as f64 / 1000.0
    );
    let revision = store.current_revision().await?;
    let size = |suffix: &str| {
        let file = path.with_file_name(format!("bench.db{suffix}"));
        std::fs::metadata(file).map_or(0, |m| m.len()) / (1 << 20)
    };
    println!(
        "final revision {revision}; database {} MiB, write-ahead log {} MiB",
        size(""),
        size("-wal")
    );
    Ok(())
}
