//! One sync of a Deployment: claim ReplicaSets, then pause, scale, or roll out, then status.

use super::{util, Shared};
use crate::error::Result;
use skiff_client::EventType;

impl Shared {
    /// Brings one Deployment's ReplicaSets toward its spec and writes its status.
    pub(super) async fn sync(&self, key: &str) -> Result<()> {
        let Some(d) = self.deployments.get(key) else {
            return Ok(());
        };
        let d = (*d).clone();
        let selector = d
            .spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default();
        if crate::selector::is_empty(&selector) {
            self.recorder.publish(
                &d,
                EventType::Warning,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            );
            return Ok(());
        }
        let mut rss = self.claim_replica_sets(&d).await?;
        if d.metadata.deletion_timestamp.is_some() {
            let new = self.new_replica_set(&d, &mut rss, false).await?;
            return self.write_status(&d, &rss, new, key).await;
        }
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused || Self::is_scaling_event(&d, &rss) {
            let new = self.new_replica_set(&d, &mut rss, false).await?;
            self.scale_proportionally(&d, &mut rss, new).await?;
            if paused {
                self.cleanup(&d, &rss, new).await?;
            }
            return self.write_status(&d, &rss, new, key).await;
        }
        let new = if util::is_recreate(&d) {
            self.recreate(&d, &mut rss).await?
        } else {
            let new = self.new_replica_set(&d, &mut rss, true).await?;
            if let Some(n) = new {
                self.rolling(&d, &mut rss, n).await?;
            }
            new
        };
        let status = self.calculate_status(&d, &rss, new);
        if super::status::is_complete(&d, &status) {
            self.cleanup(&d, &rss, new).await?;
        }
        self.write_status(&d, &rss, new, key).await
    }
}
