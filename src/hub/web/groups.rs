//! The order of the catalogue on the *Varer* page: groups (new, rename,
//! archive, ↑↓) and products ↑↓ within their group, each a small form
//! post (no JavaScript), treasurers only, with the session's CSRF token.
//! The changes themselves are `hub::groups`; this answers them and lays
//! the page out in sections, one per group.

use super::*;
use crate::hub::catalogue::HubProduct;
use crate::hub::groups::{Group, Move};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/katalog/gruppe/ny", post(add_group))
        .route("/katalog/gruppe/endre", post(rename_group))
        .route("/katalog/gruppe/arkiver", post(archive_group))
        .route("/katalog/gruppe/flytt", post(move_group))
        .route("/katalog/flytt", post(move_product))
}

/// The page's sections: the groups in use in their order, the products
/// without a group, then the archived groups; in each, its products on
/// sale in their order (with whether ↑/↓ can move them), then the archived
/// ones. Empty groups are shown too, so they can be named, moved or
/// archived.
pub(super) fn sections(groups: &[Group], products: &[HubProduct]) -> Vec<minijinja::Value> {
    let section = |group: Option<&Group>| {
        let name = group.map_or("", |g| g.name.as_str());
        let of: Vec<&HubProduct> = products.iter().filter(|p| p.group == name).collect();
        let active = of.iter().filter(|p| !p.archived).count();
        let cards: Vec<_> = of
            .iter()
            .enumerate()
            .map(|(i, p)| {
                minijinja::context! {
                    id => p.id, name => p.name, group => p.group, vat_code => p.vat_code,
                    archived => p.archived, first => i == 0, last => i + 1 >= active,
                    price_text => Money::nok(p.price).format_plain(),
                }
            })
            .collect();
        (of.is_empty(), cards)
    };
    let in_use: Vec<&Group> = groups.iter().filter(|g| !g.archived).collect();
    let mut out = Vec::new();
    for (i, g) in in_use.iter().enumerate() {
        let (_, cards) = section(Some(g));
        out.push(minijinja::context! {
            id => g.id, name => g.name, archived => false, first => i == 0,
            last => i + 1 == in_use.len(), products => cards,
        });
    }
    let (none, cards) = section(None);
    if !none {
        out.push(minijinja::context! { id => None::<i64>, name => "", products => cards });
    }
    for g in groups.iter().filter(|g| g.archived) {
        let (_, cards) = section(Some(g));
        out.push(minijinja::context! {
            id => g.id, name => g.name, archived => true, products => cards,
        });
    }
    out
}

/// A group's number as the form sends it.
fn group_id(text: &str) -> Result<i64, HubError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| HubError::refused(400, format!("Ukjent gruppe «{}».", text.trim())))
}

#[derive(Deserialize)]
struct GroupForm {
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    archived: String,
    #[serde(default, rename = "move")]
    dir: String,
}

/// The treasurer's session for a form, or the answer (403 for a
/// kioskansvarlig or a wrong token: nothing changed).
async fn treasurer_form(
    app: &App,
    headers: &HeaderMap,
    f: &GroupForm,
) -> Result<Session, Response> {
    form_session(app, headers, &f.csrf, false).await
}

async fn add_group(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let s = match treasurer_form(&app, &headers, &f).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = app.hub.add_group(&f.name).await;
    after_change(&app, &s, done, &NewProduct::default()).await
}

async fn rename_group(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let s = match treasurer_form(&app, &headers, &f).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = match group_id(&f.id) {
        Ok(id) => app.hub.rename_group(id, &f.name).await,
        Err(e) => Err(e),
    };
    after_change(&app, &s, done, &NewProduct::default()).await
}

async fn archive_group(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let s = match treasurer_form(&app, &headers, &f).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = match group_id(&f.id) {
        Ok(id) => app.hub.set_group_archived(id, f.archived == "1").await,
        Err(e) => Err(e),
    };
    after_change(&app, &s, done, &NewProduct::default()).await
}

async fn move_group(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let s = match treasurer_form(&app, &headers, &f).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = match (group_id(&f.id), Move::parse(&f.dir)) {
        (Ok(id), Ok(dir)) => app.hub.move_group(id, dir).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    after_change(&app, &s, done, &NewProduct::default()).await
}

async fn move_product(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let s = match treasurer_form(&app, &headers, &f).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = match Move::parse(&f.dir) {
        Ok(dir) => app.hub.move_product(f.id.trim(), dir).await,
        Err(e) => Err(e),
    };
    after_change(&app, &s, done, &NewProduct::default()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, group: &str, archived: bool) -> HubProduct {
        HubProduct {
            id: id.into(),
            name: id.to_uppercase(),
            group: group.into(),
            group_archived: false,
            price: 1_000,
            vat_code: 31,
            position: 0,
            archived,
            sold_out: false,
        }
    }

    fn group(id: i64, name: &str, archived: bool) -> Group {
        Group {
            id,
            name: name.into(),
            position: id as i32,
            archived,
        }
    }

    #[test]
    fn sections_follow_the_groups_with_the_ungrouped_and_archived_last() {
        let groups = [
            group(2, "Billetter", false),
            group(1, "Kiosk", false),
            group(3, "Tom", false),
            group(4, "Cup", true),
        ];
        let products = [
            product("voksen", "Billetter", false),
            product("kaffe", "Kiosk", false),
            product("brus", "Kiosk", false),
            product("gammel", "Kiosk", true),
            product("lodd", "", false),
            product("pokal", "Cup", false),
        ];
        let secs = sections(&groups, &products);
        let names: Vec<String> = secs
            .iter()
            .map(|s| s.get_attr("name").unwrap().to_string())
            .collect();
        assert_eq!(names, ["Billetter", "Kiosk", "Tom", "", "Cup"]);
        let kiosk = secs[1].get_attr("products").unwrap();
        let ids: Vec<String> = kiosk
            .try_iter()
            .unwrap()
            .map(|p| p.get_attr("id").unwrap().to_string())
            .collect();
        assert_eq!(ids, ["kaffe", "brus", "gammel"]);
        let flag = |i: usize, f: &str| {
            kiosk
                .get_item(&minijinja::Value::from(i))
                .unwrap()
                .get_attr(f)
                .unwrap()
                .is_true()
        };
        assert!(flag(0, "first") && !flag(0, "last"));
        assert!(
            !flag(1, "first") && flag(1, "last"),
            "brus is the last on sale"
        );
        assert!(secs[0].get_attr("first").unwrap().is_true());
        assert!(
            secs[2].get_attr("last").unwrap().is_true(),
            "Tom is the last in use"
        );
        assert!(secs[4].get_attr("archived").unwrap().is_true());
    }
}
