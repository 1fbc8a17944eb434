//! `GET /menyer` and its forms: event menus (new, rename, which products
//! by checkboxes, archive), and `POST /kasser/meny`: the menu each till
//! sells from, chosen on *Kasser*. Treasurers only, each form with the
//! session's CSRF token; the rules are `hub::menus`, this only answers.

use std::collections::BTreeMap;

use super::*;
use crate::hub::menus::parse_id;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route("/menyer", get(menus_page))
        .route("/menyer/ny", post(add_menu))
        .route("/menyer/endre", post(save_menu))
        .route("/menyer/arkiver", post(archive_menu))
        .route("/kasser/meny", post(set_till_menu))
}

/// The *Menyer* page: every menu with a checkbox per product on sale (in
/// the catalogue's sections), and the refusal of the last change, if any.
async fn menus_view(app: &App, s: &Session, status: StatusCode, error: Option<&str>) -> Response {
    let (menus, (_, products), groups, tills) = match tokio::try_join!(
        app.hub.menus(),
        app.hub.products(),
        app.hub.groups(),
        app.hub.tills()
    ) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    // The sales units the tills say they have keys for: the names a menu
    // may give (offered as suggestions; the keys stay on the tills).
    let mut units: Vec<String> = tills
        .iter()
        .filter_map(|t| t.status.as_ref())
        .flat_map(|s| s.sales_units.iter().cloned())
        .collect();
    units.sort();
    units.dedup();
    let on_sale: Vec<_> = products
        .iter()
        .filter(|p| !p.archived && !p.group_archived)
        .cloned()
        .collect();
    let sections = super::groups::sections(&groups, &on_sale);
    let menus: Vec<_> = menus
        .iter()
        .map(|m| {
            // Products of the menu not on the page (archived) go back with
            // every save, so archiving a product never empties a menu.
            let hidden: Vec<&String> = m
                .products
                .iter()
                .filter(|id| !on_sale.iter().any(|p| &p.id == *id))
                .collect();
            let count = m.products.len() - hidden.len();
            minijinja::context! {
                id => m.id, name => m.name, archived => m.archived, products => m.products,
                tills => m.tills, hidden => hidden, count => count,
                sales_unit => m.sales_unit,
            }
        })
        .collect();
    let mut resp = render(
        app,
        "menus.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, menus => menus,
            sections => sections, error => error, units => units,
        },
    );
    *resp.status_mut() = status;
    resp
}

/// The *Kasser* page, with each till's menu to choose.
pub(super) async fn tills_view(
    app: &App,
    s: &Session,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let (tills, menus, chosen, (_, products)) = match tokio::try_join!(
        app.hub.tills(),
        app.hub.menus(),
        app.hub.till_menus(),
        app.hub.products()
    ) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    // Menus left with nothing on sale (their products or groups archived
    // since): a till given one sells on from what it has, so say so.
    let empty: Vec<i64> = menus
        .iter()
        .filter(|m| {
            !products
                .iter()
                .any(|p| !p.archived && !p.group_archived && m.products.contains(&p.id))
        })
        .map(|m| m.id)
        .collect();
    let menu_of: BTreeMap<String, i64> = chosen
        .into_iter()
        .filter_map(|(till, menu)| Some((till, menu?)))
        .collect();
    // A till whose menu names a sales unit it has no keys for sells under
    // its own instead (it says which it has in its status): say so.
    let unit_missing: BTreeMap<String, String> = tills
        .iter()
        .filter_map(|t| {
            let menu = menus.iter().find(|m| Some(&m.id) == menu_of.get(&t.id))?;
            let unit = menu.sales_unit.as_ref()?;
            let has = &t.status.as_ref()?.sales_units;
            (!has.is_empty() && !has.contains(unit)).then(|| (t.id.clone(), unit.clone()))
        })
        .collect();
    let menus: Vec<_> = menus
        .iter()
        .filter(|m| !m.archived)
        .map(|m| minijinja::context! { id => m.id, name => m.name })
        .collect();
    let mut resp = render(
        app,
        "tills.html",
        minijinja::context! {
            user => s.user, csrf => s.csrf, role => s.role, tills => tills, menus => menus,
            menu_of => menu_of, empty => empty, error => error, unit_missing => unit_missing,
        },
    );
    *resp.status_mut() = status;
    resp
}

async fn menus_page(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let (_, s) = match treasurer(&app, &headers).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    menus_view(&app, &s, StatusCode::OK, None).await
}

/// Back to the page (303), or the page with the refusal, nothing changed.
async fn answer(app: &App, s: &Session, done: Result<i64, HubError>, back: &str) -> Response {
    match done {
        Ok(_) => Redirect::to(back).into_response(),
        Err(HubError::Refused { status, message }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            if back == "/kasser" {
                tills_view(app, s, status, Some(&message)).await
            } else {
                menus_view(app, s, status, Some(&message)).await
            }
        }
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct MenuForm {
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    archived: String,
}

async fn add_menu(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<MenuForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = app.hub.add_menu(&f.name).await;
    answer(&app, &s, done, "/menyer").await
}

async fn archive_menu(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<MenuForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let done = match parse_id(&f.id) {
        Ok(id) => app.hub.set_menu_archived(id, f.archived == "1").await,
        Err(e) => Err(e),
    };
    answer(&app, &s, done, "/menyer").await
}

/// The menu form: checkboxes send `product` once per ticked product,
/// which a struct cannot take, so the form is read as its pairs.
async fn save_menu(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let s = match form_session(&app, &headers, field("csrf"), false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let products: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "product")
        .map(|(_, v)| v.clone())
        .collect();
    let done = match parse_id(field("id")) {
        Ok(id) => {
            app.hub
                .save_menu(id, field("name"), &products, field("sales_unit"))
                .await
        }
        Err(e) => Err(e),
    };
    answer(&app, &s, done, "/menyer").await
}

#[derive(Deserialize)]
struct TillMenuForm {
    csrf: String,
    till: String,
    /// Empty: the whole catalogue.
    #[serde(default)]
    menu: String,
}

async fn set_till_menu(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<TillMenuForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let menu = match f.menu.trim() {
        "" => Ok(None),
        id => parse_id(id).map(Some),
    };
    let done = match menu {
        Ok(menu) => app.hub.set_till_menu(f.till.trim(), menu).await,
        Err(e) => Err(e),
    };
    answer(&app, &s, done, "/kasser").await
}
