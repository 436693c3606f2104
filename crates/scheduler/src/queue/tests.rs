use super::*;
use crate::framework::Plugin;
use crate::testing::pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn p(name: &str, created_secs: i64) -> Arc<Pod> {
    let mut pod = pod(name, "", "").build();
    pod.metadata.creation_timestamp = Some(Time(
        k8s_openapi::jiff::Timestamp::from_second(created_secs).expect("time"),
    ));
    Arc::new(pod)
}

async fn pop_now(q: &SchedulingQueue) -> Option<String> {
    tokio::time::timeout(Duration::from_millis(1), q.pop())
        .await
        .ok()
        .map(|qp| qp.key)
}

#[tokio::test(start_paused = true)]
async fn higher_priority_first_then_older_first() {
    let q = SchedulingQueue::new();
    q.add(p("young", 20), 0);
    q.add(p("old", 10), 0);
    q.add(p("vip", 30), 1000);
    assert_eq!(q.pop().await.key, "default/vip");
    assert_eq!(q.pop().await.key, "default/old");
    assert_eq!(q.pop().await.key, "default/young");
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pods_wait_for_a_relevant_event_then_back_off() {
    let q = SchedulingQueue::new();
    q.add(p("a", 1), 0);
    let qp = q.pop().await;
    q.unschedulable(&qp.key, Plugin::NodeResourcesFit.bit(), q.cycle());
    assert_eq!(q.counts(), (0, 0, 1));
    q.move_all(Plugin::InterPodAffinity.bit());
    assert_eq!(q.counts(), (0, 0, 1), "an unrelated event leaves it parked");
    q.move_all(Plugin::NodeResourcesFit.bit());
    assert_eq!(q.counts(), (0, 1, 0), "still within its 1 s backoff");
    assert_eq!(pop_now(&q).await, None);
    tokio::time::advance(Duration::from_millis(1000)).await;
    assert_eq!(pop_now(&q).await.as_deref(), Some("default/a"));
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_up_to_ten_seconds() {
    assert_eq!(backoff(1), Duration::from_secs(1));
    assert_eq!(backoff(2), Duration::from_secs(2));
    assert_eq!(backoff(4), Duration::from_secs(8));
    assert_eq!(backoff(5), MAX_BACKOFF);
    assert_eq!(backoff(50), MAX_BACKOFF);
}

#[tokio::test(start_paused = true)]
async fn unschedulable_pods_are_retried_after_sixty_seconds_without_events() {
    let q = SchedulingQueue::new();
    q.add(p("a", 1), 0);
    let qp = q.pop().await;
    q.unschedulable(&qp.key, Plugin::NodeResourcesFit.bit(), q.cycle());
    let start = Instant::now();
    let again = q.pop().await;
    assert_eq!(again.key, "default/a");
    assert_eq!(again.attempts, 2);
    let waited = start.elapsed();
    assert!(
        waited >= UNSCHEDULABLE_TIMEOUT && waited <= UNSCHEDULABLE_TIMEOUT + LEFTOVER_CHECK,
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_during_the_attempt_sends_the_pod_to_backoff_not_to_the_parking_lot() {
    let q = SchedulingQueue::new();
    q.add(p("a", 1), 0);
    let qp = q.pop().await;
    let cycle = q.cycle();
    q.move_all(Plugin::NodeResourcesFit.bit());
    q.unschedulable(&qp.key, Plugin::NodeResourcesFit.bit(), cycle);
    assert_eq!(q.counts(), (0, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn a_changed_spec_retries_an_unschedulable_pod_but_a_status_update_does_not() {
    let q = SchedulingQueue::new();
    let original = p("a", 1);
    q.add(original.clone(), 0);
    let qp = q.pop().await;
    q.unschedulable(&qp.key, Plugin::NodeAffinity.bit(), q.cycle());
    let mut status_only = (*original).clone();
    status_only.status = Some(Default::default());
    q.add(Arc::new(status_only), 0);
    assert_eq!(q.counts(), (0, 0, 1));
    let mut relabelled = (*original).clone();
    relabelled.metadata.labels = Some([("x".to_string(), "y".to_string())].into());
    q.add(Arc::new(relabelled), 0);
    assert_eq!(q.counts(), (0, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn deleted_and_done_pods_leave_the_queue() {
    let q = SchedulingQueue::new();
    q.add(p("a", 1), 0);
    q.add(p("b", 2), 0);
    q.delete("default/a");
    let qp = q.pop().await;
    assert_eq!(qp.key, "default/b");
    q.done(&qp.key);
    q.unschedulable(&qp.key, 0, q.cycle());
    assert_eq!(q.counts(), (0, 0, 0));
    assert_eq!(pop_now(&q).await, None);
}

#[tokio::test(start_paused = true)]
async fn a_failed_binding_is_retried_after_backoff() {
    let q = SchedulingQueue::new();
    q.add(p("a", 1), 0);
    let qp = q.pop().await;
    q.done(&qp.key);
    q.retry(qp);
    assert_eq!(q.counts(), (0, 1, 0));
    let start = Instant::now();
    assert_eq!(q.pop().await.key, "default/a");
    assert_eq!(start.elapsed(), INITIAL_BACKOFF);
}

#[tokio::test(start_paused = true)]
async fn a_waiting_pop_wakes_when_a_moved_pods_backoff_ends() {
    let q = SchedulingQueue::new();
    q.add(p("a", 1), 0);
    let qp = q.pop().await;
    q.unschedulable(&qp.key, Plugin::NodeResourcesFit.bit(), q.cycle());
    let waiter = tokio::spawn({
        let q = q.clone();
        async move {
            let start = Instant::now();
            let key = q.pop().await.key;
            (key, start.elapsed())
        }
    });
    tokio::task::yield_now().await;
    q.move_all(ANY_PLUGIN);
    let (key, waited) = waiter.await.expect("pop");
    assert_eq!(key, "default/a");
    assert!(
        waited <= INITIAL_BACKOFF,
        "woke at the end of backoff, not at the next sweep: {waited:?}"
    );
}

const ANY_PLUGIN: PluginSet = PluginSet::MAX;
