//! `luka training on|off`: training mode of a production till, switched
//! headless (the organizer screen's button, behind the PIN, does the same).
//! Both switches are journaled (SAF-T 13023/13024); one JSON line out.

use serde_json::json;

use crate::config::Config;

pub(super) async fn switch(
    config: Config,
    on: bool,
    operator: Option<&str>,
) -> anyhow::Result<i32> {
    let app = super::start_as(config, operator).await?;
    let switched = app.kiosk.set_training(on).await;
    super::finish(app, operator).await;
    let changed = switched?;
    println!("{}", json!({ "training": on, "changed": changed }));
    Ok(0)
}
