//! `GET /katalog/csv` and `POST /katalog/import`: the catalogue file out,
//! and a pasted one read in (a `<textarea>`, so a plain form post: no
//! multipart, no JavaScript). Treasurers only; the reading and checking are
//! in `hub::catalogue_csv`, this only answers.

use super::*;

/// The import box as the page shows it again after a refusal: what was
/// pasted, and every bad line.
#[derive(Default, Serialize)]
pub(super) struct ImportShown {
    text: String,
    errors: Vec<String>,
}

pub(super) async fn export(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(resp) = treasurer(&app, &headers).await {
        return resp;
    }
    let text = match app.hub.catalogue_csv().await {
        Ok(t) => t,
        Err(e) => return page_error(e),
    };
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"luka-katalog.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[derive(Deserialize)]
pub(super) struct ImportForm {
    csrf: String,
    #[serde(default)]
    csv: String,
}

pub(super) async fn import(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<ImportForm>,
) -> Response {
    let s = match form_session(&app, &headers, &f.csrf, false).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let new = NewProduct::default();
    match app.hub.import_catalogue(&f.csv).await {
        Ok(Ok(done)) => {
            let saved = if done.added + done.changed == 0 {
                "Ingen endringer: filen var lik katalogen.".to_string()
            } else {
                format!(
                    "Lest inn: {} nye og {} endrede varer (katalogversjon {}).",
                    done.added, done.changed, done.version
                )
            };
            let shown = ImportShown::default();
            catalogue_view(&app, &s, StatusCode::OK, None, Some(&saved), &new, &shown).await
        }
        Ok(Err(errors)) => {
            let shown = ImportShown {
                text: f.csv,
                errors,
            };
            let error =
                "Filen ble ikke lest inn, ingenting er endret. Rett linjene under og prøv igjen.";
            catalogue_view(
                &app,
                &s,
                StatusCode::BAD_REQUEST,
                Some(error),
                None,
                &new,
                &shown,
            )
            .await
        }
        Err(e) => page_error(e),
    }
}
