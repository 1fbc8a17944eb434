//! `luka product ID --sold-out | --on-sale | --count N [--low N] | --add N |
//! --uncounted`: what is left to sell, set headless (journaled like the
//! organizer screen's buttons); one JSON line out. `luka product` alone
//! lists every counted or sold-out product.

use serde_json::json;

use crate::config::Config;
use crate::kiosk::StockChange;

pub(super) async fn product(
    config: Config,
    id: Option<&str>,
    change: Option<StockChange>,
    operator: Option<&str>,
) -> anyhow::Result<i32> {
    let app = super::start_as(config, operator).await?;
    let done = match (id, change) {
        (Some(id), Some(change)) => app.kiosk.set_stock(id, change).map(|s| json!(s)),
        (None, None) => app.kiosk.stock().map(|s| json!({ "stock": s })),
        _ => {
            super::finish(app, operator).await;
            anyhow::bail!(
                "give a product and what to do with it, e.g. `luka product polse --count 40` \
                 or `luka product polse --sold-out`; `luka product` alone lists the stock"
            );
        }
    };
    super::finish(app, operator).await;
    println!("{}", done?);
    Ok(0)
}
