//! Rollout strategies: RollingUpdate (maxSurge/maxUnavailable), Recreate, and proportional
//! scaling when replicas change mid-rollout.

use super::util::{self, DESIRED_REPLICAS};
use super::Shared;
use crate::error::Result;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

/// Replicas the new ReplicaSet may have now (upstream's NewRSNewReplicas).
pub(super) fn new_rs_replicas(d: &Deployment, rss: &[ReplicaSet], new_current: i32) -> i32 {
    let want = util::replicas(d);
    if util::is_recreate(d) {
        return want;
    }
    let (surge, _) = util::surge_and_unavailable(d);
    let current: i32 = rss.iter().map(util::rs_replicas).sum::<i32>();
    let max_total = want + surge;
    if current >= max_total {
        return new_current;
    }
    let up = (max_total - current).min(want - new_current).max(0);
    new_current + up
}

fn by_age(rss: &[ReplicaSet], new: Option<usize>) -> Vec<usize> {
    let mut old: Vec<usize> = (0..rss.len()).filter(|i| Some(*i) != new).collect();
    old.sort_by_key(|i| rss[*i].metadata.creation_timestamp.as_ref().map(|t| t.0));
    old
}

impl Shared {
    /// One RollingUpdate step; true if something was scaled.
    pub(super) async fn rolling(
        &self,
        d: &Deployment,
        rss: &mut [ReplicaSet],
        new: usize,
    ) -> Result<bool> {
        let want = util::replicas(d);
        let new_current = util::rs_replicas(&rss[new]);
        if new_current != want {
            let target = if new_current > want {
                want
            } else {
                new_rs_replicas(d, rss, new_current)
            };
            if self.scale(d, &mut rss[new], target).await? {
                return Ok(true);
            }
        }
        let old = by_age(rss, Some(new));
        let old_pods: i32 = old.iter().map(|i| util::rs_replicas(&rss[*i])).sum();
        if old_pods == 0 {
            return Ok(false);
        }
        let all: i32 = rss.iter().map(util::rs_replicas).sum();
        let (_, max_unavailable) = util::surge_and_unavailable(d);
        let min_available = want - max_unavailable;
        let new_unavailable = util::rs_replicas(&rss[new]) - util::rs_available(&rss[new]);
        let max_scaled_down = all - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        let mut scaled = false;
        let mut cleaned = 0;
        for i in &old {
            if cleaned >= max_scaled_down {
                break;
            }
            let r = util::rs_replicas(&rss[*i]);
            let unhealthy = r - util::rs_available(&rss[*i]);
            if r == 0 || unhealthy <= 0 {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(unhealthy);
            cleaned += down;
            scaled |= self.scale(d, &mut rss[*i], r - down).await?;
        }
        let available: i32 = rss.iter().map(util::rs_available).sum();
        if available > min_available {
            let total = available - min_available;
            let mut done = 0;
            for i in &old {
                if done >= total {
                    break;
                }
                let r = util::rs_replicas(&rss[*i]);
                if r == 0 {
                    continue;
                }
                let down = r.min(total - done);
                done += down;
                scaled |= self.scale(d, &mut rss[*i], r - down).await?;
            }
        }
        Ok(scaled)
    }

    /// One Recreate step: old ReplicaSets to zero, wait for their pods, then the new one up.
    pub(super) async fn recreate(
        &self,
        d: &Deployment,
        rss: &mut Vec<ReplicaSet>,
    ) -> Result<Option<usize>> {
        let new = self.new_replica_set(d, rss, false).await?;
        let mut scaled = false;
        for (i, rs) in rss.iter_mut().enumerate() {
            if Some(i) != new && util::rs_replicas(rs) > 0 {
                scaled |= self.scale(d, rs, 0).await?;
            }
        }
        if scaled {
            return Ok(new);
        }
        let old_running = rss
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != new)
            .any(|(_, r)| r.status.as_ref().map(|s| s.replicas).unwrap_or(0) > 0);
        if old_running {
            return Ok(new);
        }
        let new = match new {
            Some(i) => i,
            None => match self.new_replica_set(d, rss, true).await? {
                Some(i) => i,
                None => return Ok(None),
            },
        };
        self.scale(d, &mut rss[new], util::replicas(d)).await?;
        Ok(Some(new))
    }

    /// Whether replicas changed since the active ReplicaSets were last scaled.
    pub(super) fn is_scaling_event(d: &Deployment, rss: &[ReplicaSet]) -> bool {
        let want = util::replicas(d).to_string();
        rss.iter().filter(|r| util::rs_replicas(r) > 0).any(|r| {
            r.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESIRED_REPLICAS))
                .is_some_and(|v| *v != want)
        })
    }

    /// Scales active ReplicaSets to a new replica count, proportionally to their sizes.
    pub(super) async fn scale_proportionally(
        &self,
        d: &Deployment,
        rss: &mut [ReplicaSet],
        new: Option<usize>,
    ) -> Result<()> {
        let want = util::replicas(d);
        let active: Vec<usize> = (0..rss.len())
            .filter(|i| util::rs_replicas(&rss[*i]) > 0)
            .collect();
        if active.len() <= 1 {
            let target = active.first().copied().or(new);
            if let Some(i) = target {
                self.scale(d, &mut rss[i], want).await?;
            }
            return Ok(());
        }
        if let Some(n) = new {
            let saturated =
                util::rs_replicas(&rss[n]) == want && util::rs_available(&rss[n]) == want;
            if saturated {
                for i in active.into_iter().filter(|i| *i != n) {
                    self.scale(d, &mut rss[i], 0).await?;
                }
                return Ok(());
            }
        }
        let (surge, _) = util::surge_and_unavailable(d);
        let allowed = if util::is_recreate(d) {
            want
        } else {
            want + surge
        };
        let current: i32 = active.iter().map(|i| util::rs_replicas(&rss[*i])).sum();
        let mut to_add = allowed - current;
        let mut order = active.clone();
        order.sort_by_key(|i| {
            (
                std::cmp::Reverse(util::rs_replicas(&rss[*i])),
                std::cmp::Reverse(rss[*i].metadata.creation_timestamp.as_ref().map(|t| t.0)),
            )
        });
        let mut targets: Vec<(usize, i32)> = Vec::new();
        let mut added = 0;
        for i in &order {
            let r = util::rs_replicas(&rss[*i]);
            let share = if current == 0 {
                0
            } else {
                ((i64::from(r) * i64::from(to_add)) / i64::from(current)) as i32
            };
            let share = if to_add > 0 {
                share.min(to_add - added)
            } else {
                share.max(to_add - added)
            };
            added += share;
            targets.push((*i, r + share));
        }
        to_add -= added;
        if let Some(first) = targets.first_mut() {
            first.1 = (first.1 + to_add).max(0);
        }
        for (i, t) in targets {
            self.scale(d, &mut rss[i], t.max(0)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, ReplicaSetSpec};

    fn deployment(replicas: i32) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rs(replicas: i32) -> ReplicaSet {
        ReplicaSet {
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn new_replica_set_grows_only_by_the_surge() {
        // 6 replicas, 25% surge rounds up to 2: old 6 + new 0 may grow the new one to 2.
        let d = deployment(6);
        assert_eq!(new_rs_replicas(&d, &[rs(6), rs(0)], 0), 2);
        // Already at 6 + 2: no more growth.
        assert_eq!(new_rs_replicas(&d, &[rs(6), rs(2)], 2), 2);
        // Old scaled down to 4: the new one may reach 4.
        assert_eq!(new_rs_replicas(&d, &[rs(4), rs(2)], 2), 4);
    }

    #[test]
    fn a_fresh_deployment_creates_all_replicas_at_once() {
        assert_eq!(new_rs_replicas(&deployment(6), &[], 0), 6);
    }
}
